import Dispatch

/// The built index of one vector field of one sealed segment.
enum SegmentIndex: Sendable {
    case hnsw(HNSWIndex)
    case ivf(IVFIndex)

    var count: Int {
        switch self {
        case .hnsw(let h): h.count
        case .ivf(let i): i.count
        }
    }

    /// Builds the index `type` over the float vectors of `space`.
    static func build(_ type: IndexType, params: IndexBuildParams, space: VectorSpace) -> SegmentIndex? {
        switch type {
        case .flat: return nil
        case .hnsw, .autoIndex, .hnswSQ:
            return .hnsw(HNSWIndex.build(space: space, m: params.m, efConstruction: params.efConstruction, quantize: type == .hnswSQ))
        case .ivfFlat, .ivfSQ8:
            return .ivf(IVFIndex.build(space: space, nlist: params.nlist, quantize: type == .ivfSQ8))
        }
    }

    /// Below this fraction of allowed rows a filtered search scans the allowed rows exactly
    /// instead of walking the graph (a walk then visits mostly rejected nodes). Chosen from the
    /// filtered-recall tests, where HNSW kept ≥ 0.95 recall down to about this selectivity.
    static let exactFraction = 0.05

    /// The best `k` allowed rows per query; falls back to an exact scan when the filter is very
    /// selective or when the index found fewer than `k` rows although enough are allowed.
    func search(queries: [[Float]], space: VectorSpace, k: Int, allowed: Bitset?, params: IndexSearchParams, threads: Int) -> [[ScoredRow]] {
        let allowedCount = allowed?.cardinality ?? count
        func exact(_ qs: [[Float]]) -> [[ScoredRow]] {
            FlatScan.topK(
                queries: qs, vectors: UnsafeBufferPointer(start: space.vectors, count: space.count * space.dimension),
                count: space.count, dimension: space.dimension,
                norms: space.norms.map { UnsafeBufferPointer(start: $0, count: space.count) },
                metric: space.metric, k: k, allowed: allowed, threads: threads)
        }
        if allowedCount == 0 { return Array(repeating: [], count: queries.count) }
        if Double(allowedCount) < Self.exactFraction * Double(count) || allowedCount <= k {
            return exact(queries)
        }
        let fraction = Double(allowedCount) / Double(max(count, 1))
        let one: @Sendable (Int) -> [ScoredRow] = { i in
            switch self {
            case .hnsw(let h):
                // A filter lets fewer visited nodes in; widen the beam in proportion (at most 8×).
                let ef = params.ef(k: k)
                let widened = min(max(ef, Int(Double(ef) / max(fraction, 0.125))), max(ef, allowedCount))
                return h.search(queries[i], space: space, k: k, ef: widened, allowed: allowed)
            case .ivf(let v):
                return v.search(queries[i], space: space, k: k, nprobe: params.nprobe ?? IndexBuildParams.defaultNprobe, allowed: allowed)
            }
        }
        var results = [[ScoredRow]](repeating: [], count: queries.count)
        if threads > 1 && queries.count > 1 {
            let slots = WorkerSlots<[ScoredRow]>(capacity: queries.count)
            slots.base.initialize(repeating: [], count: queries.count)
            DispatchQueue.concurrentPerform(iterations: queries.count) { i in slots.base[i] = one(i) }
            for i in 0..<queries.count { results[i] = slots.base[i] }
            slots.base.deinitialize(count: queries.count)
            slots.deallocate()
        } else {
            for i in 0..<queries.count { results[i] = one(i) }
        }
        // Complete results whenever at least k rows are allowed (IVF may probe too few lists).
        let short = results.indices.filter { results[$0].count < k }
        if !short.isEmpty {
            let fixed = exact(short.map { queries[$0] })
            for (j, i) in short.enumerated() { results[i] = fixed[j] }
        }
        return results
    }
}
