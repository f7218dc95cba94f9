import Dispatch
import Foundation

/// The built index of one vector field of one sealed segment.
enum SegmentIndex: Sendable {
    case hnsw(HNSWIndex)
    case ivf(IVFIndex)
    /// A sparse field's inverted index (searched with sparse queries, see `SparseInvertedIndex`).
    case sparse(SparseInvertedIndex)

    var count: Int {
        switch self {
        case .hnsw(let h): h.count
        case .ivf(let i): i.count
        case .sparse(let s): s.rowCount
        }
    }

    /// Builds the index `type` over the float vectors of `space` on `threads` workers (all cores
    /// by default). With 1 an HNSW graph depends only on the data; IVF lists never depend on `threads`.
    /// When `cancel` is set during the build, it returns early with an incomplete index that the
    /// caller must discard (check `cancel.isCancelled` after the call).
    static func build(_ type: IndexType, params: IndexBuildParams, space: VectorSpace,
                      threads: Int = ProcessInfo.processInfo.activeProcessorCount, cancel: BuildCancellation? = nil) -> SegmentIndex? {
        switch type {
        case .flat: return nil
        case .hnsw, .autoIndex, .hnswSQ:
            return .hnsw(HNSWIndex.build(space: space, m: params.m, efConstruction: params.efConstruction, quantize: type == .hnswSQ,
                                         threads: threads, cancel: cancel))
        case .ivfFlat, .ivfSQ8:
            return .ivf(IVFIndex.build(space: space, nlist: params.nlist, quantize: type == .ivfSQ8, threads: threads, cancel: cancel))
        case .sparseInvertedIndex, .sparseWAND:
            preconditionFailure("sparse indexes are built from a sparse column (SparseInvertedIndex.build)")
        }
    }

    /// Below this fraction of allowed rows an IVF search scans the allowed rows exactly.
    static let exactFraction = 0.05

    /// `.corruption` naming the file when a search found part of the index damaged (an HNSW
    /// file's layer-0 links or codes, verified when first read), else nil.
    var damage: QuiverError? {
        if case .hnsw(let h) = self { return h.damage }
        return nil
    }

    /// The verifier of an HNSW file's layer-0 links and codes (version 3), nil for other indexes.
    var verifier: VectorVerifier? {
        if case .hnsw(let h) = self { return h.linkVerifier }
        return nil
    }

    /// Verifies every part not verified yet (an HNSW file's layer-0 links and codes).
    ///
    /// - Throws: `.corruption` naming the file when a part is damaged.
    func verifyAll() throws {
        if case .hnsw(let h) = self { try h.linkVerifier?.verifyAll() }
    }

    /// `true` when scanning the allowed rows exactly is cheaper than walking the graph.
    ///
    /// A filtered walk visits about `ef / fraction` nodes (only a `fraction` of those reached may
    /// enter the results), each costing a heap operation and a distance; an exact scan scores the
    /// `fraction × n` allowed rows in SIMD blocks. Measured (release, n = 50 000, d = 64, M = 16,
    /// ef = 64, 200 queries, one thread, idle machine, session 3 with the prefetching walk):
    /// walk ≈ 28 µs / fraction per query, exact ≈ 50 ns per allowed row; they cross near
    /// fraction 0.1, i.e. where `allowed × fraction ≈ 9 × ef`, so the rule uses 10. (Session 1's
    /// walk, ≈ 73 µs / fraction, crossed near 0.2, `45 × ef`.) Recall of the walk stays ≥ 0.99
    /// down to fraction 0.005.
    static func hnswPrefersExact(allowed: Int, count: Int, ef: Int) -> Bool {
        let fraction = Double(allowed) / Double(max(count, 1))
        return Double(allowed) * fraction < 10 * Double(ef)
    }

    /// The best `k` allowed rows per query; falls back to an exact scan when the filter is very
    /// selective or when the index found fewer than `k` rows although enough are allowed.
    /// `allowedCount` is `allowed`'s cardinality when the caller already knows it.
    func search(queries: [[Float]], space: VectorSpace, k: Int, allowed: Bitset?, allowedCount: Int? = nil,
                params: IndexSearchParams, threads: Int) -> [[ScoredRow]] {
        let allowedCount = allowedCount ?? allowed?.cardinality ?? count
        func exact(_ qs: [[Float]]) -> [[ScoredRow]] {
            space.verifyAll()
            return FlatScan.topK(
                queries: qs, vectors: UnsafeBufferPointer(start: space.vectors, count: space.count * space.dimension),
                count: space.count, dimension: space.dimension,
                norms: space.norms.map { UnsafeBufferPointer(start: $0, count: space.count) },
                metric: space.metric, k: k, allowed: allowed, threads: threads)
        }
        if allowedCount == 0 { return Array(repeating: [], count: queries.count) }
        if allowedCount <= k { return exact(queries) }
        switch self {
        case .hnsw:
            if allowed != nil && Self.hnswPrefersExact(allowed: allowedCount, count: count, ef: params.ef(k: k)) { return exact(queries) }
        case .ivf:
            if Double(allowedCount) < Self.exactFraction * Double(count) { return exact(queries) }
        case .sparse:
            preconditionFailure("a sparse index is searched with sparse queries")
        }
        let one: @Sendable (Int) -> [ScoredRow] = { i in
            switch self {
            case .hnsw(let h):
                // No widening of ef for filters: the walk already goes on until ef allowed rows are
                // found, and widening made filtered walks several times slower for no measured recall gain.
                return h.search(queries[i], space: space, k: k, ef: params.ef(k: k), allowed: allowed)
            case .ivf(let v):
                return v.search(queries[i], space: space, k: k, nprobe: params.nprobe ?? IndexBuildParams.defaultNprobe, allowed: allowed)
            case .sparse:
                preconditionFailure("a sparse index is searched with sparse queries")
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
