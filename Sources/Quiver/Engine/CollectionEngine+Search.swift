import Foundation
import Synchronization

/// Exact search over every segment of a snapshot, merged into one ranking per query.
extension CollectionEngine {
    struct SearchRequest {
        var queries: QueryVectors
        var field: FieldSchema
        var limit: Int
        var offset: Int
        var filter: FilterExpression
        /// The partitions searched (`CollectionEngine.scope`); `nil` for all.
        var scope: Set<UInt64>? = nil
        var fields: OutputFields
        var threads: Int
        var radius: Float? = nil
        var rangeFilter: Float? = nil
        var groupBy: FieldSchema? = nil
        var groupSize: Int = 1
        var roundDecimal: Int = -1
        /// `ef` / `nprobe` for indexed segments.
        var indexParams = IndexSearchParams()
        /// For query texts: the BM25 statistics and postings, from the snapshot searched.
        var bm25: BM25Query? = nil
    }

    /// A scored row of a snapshot segment.
    struct Candidate {
        var segment: Int
        var row: Int
        var distance: Float
    }

    func search(_ request: SearchRequest) throws -> [[Hit]] {
        defer { warmInBackground() }  // a mapped collection, after its first search
        return try search(request, in: try snapshot())
    }

    /// `search` over a given snapshot (a search iterator's, held across its batches).
    func search(_ request: SearchRequest, in snap: Snapshot) throws -> [[Hit]] {
        var request = request
        if case .texts(let texts) = request.queries { request.bm25 = bm25Query(texts, field: request.field, in: snap) }
        let segments = snap.searchable(request.filter, scope: request.scope)
        let pk = schema.primaryField.name
        if let nprobe = request.indexParams.nprobe,
            let def = snap.indexDefinitions.first(where: { $0.field == request.field.name }), def.type.isIVF, nprobe > def.params.nlist {
            throw QuiverError.invalidArgument("search parameter nprobe (\(nprobe)) must not exceed the index's nlist (\(def.params.nlist))")
        }
        let indexes = snap.indexes
        let ranked: [[Candidate]]
        if let group = request.groupBy {
            ranked = grouped(request, segments: segments, indexes: indexes, group: group)
        } else {
            let all = candidates(request, segments: segments, indexes: indexes, k: request.limit + request.offset)
            ranked = all.map { Array($0.dropFirst(request.offset).prefix(request.limit)) }
        }
        // The rows searched were verified as they were read; damage found on the way is thrown
        // here, before anything computed from them is returned.
        if request.field.dataType.isVector {
            for case .sealed(let s) in segments.map(\.segment) {
                try s.checkVectors(request.field.name)
                if let damage = indexes[s.id]?[request.field.name]?.damage { throw damage }
            }
        }
        let scale = request.roundDecimal >= 0 ? Float(pow(10, Double(request.roundDecimal))) : 0
        // The hits' primary keys are at random rows: start all their cache misses at once.
        let keys = segments.map { $0.segment.column(pk)! }
        for list in ranked {
            for c in list { keys[c.segment].prefetch(row: c.row) }
        }
        return try ranked.map { list in
            try list.map { c in
                let segment = segments[c.segment].segment
                let distance = scale > 0 ? (c.distance * scale).rounded() / scale : c.distance
                return Hit(
                    id: keys[c.segment].value(at: c.row), distance: distance,
                    entity: try segment.entity(row: c.row, fields: request.fields))
            }
        }
    }

    /// The best `k` candidates per query over all segments, best first (ties: segment, then row).
    private func candidates(
        _ request: SearchRequest, segments: [SearchableSegment], indexes: [UInt64: [String: SegmentIndex]], k: Int
    ) -> [[Candidate]] {
        if case .sparse(let queries) = request.queries { return sparseCandidates(request, queries, segments: segments, indexes: indexes, k: k) }
        if let bm25 = request.bm25 { return bm25Candidates(bm25, segments: segments, k: k) }
        let d = request.field.dataType.dimension!
        let name = request.field.name
        /// Whether segment `index` is searched through an approximate index (range search stays exact).
        func indexed(_ index: Int) -> Bool {
            guard case .sealed(let s) = segments[index].segment, case .floats = request.queries else { return false }
            return request.radius == nil && request.rangeFilter == nil && indexes[s.id]?[name] != nil
        }
        /// The top `k` of segment `index` per query, searched on `threads` threads.
        func results(_ index: Int, threads: Int) -> [[ScoredRow]] {
            let entry = segments[index]
            let segment = entry.segment, allowed = entry.allowed, count = entry.count
            let results: [[ScoredRow]]
            let type = request.field.dataType
            func binary(_ queries: [[UInt8]], _ raw: UnsafeRawBufferPointer) -> [[ScoredRow]] {
                TypedScan.topK(
                    queries: queries, vectors: raw, count: segment.rowCount, type: type, metric: metric, k: k,
                    allowed: allowed, threads: threads, radius: request.radius, rangeFilter: request.rangeFilter)
            }
            switch (segment, type, request.queries) {
            case (.sealed(let s), .floatVector, .floats(let queries)) where indexed(index):
                // An approximate index is ready for this segment (range search stays exact). It
                // verifies the rows it reads; `search` checks for damage before returning.
                let space = s.space(name, metric: metric)
                results = withExtendedLifetime(s) {
                    indexes[s.id]![name]!.search(
                        queries: queries, space: space, k: k, allowed: allowed, allowedCount: count, params: request.indexParams,
                        threads: threads)
                }
            case (.sealed(let s), .floatVector, .floats(let queries)):
                results = s.scanning(name) { bytes, norms in
                    FlatScan.topK(
                        queries: queries, vectors: bytes.bindMemory(to: Float.self), count: s.rowCount, dimension: d,
                        norms: norms, metric: metric, k: k, allowed: allowed, threads: threads,
                        radius: request.radius, rangeFilter: request.rangeFilter)
                }
            case (.growing(let g), .floatVector, .floats(let queries)):
                results = g.vectors[name]!.withUnsafeBufferPointer { vectors in
                    g.norms[name]!.withUnsafeBufferPointer { norms in
                        FlatScan.topK(
                            queries: queries, vectors: vectors, count: g.rowCount, dimension: d,
                            norms: norms, metric: metric, k: k, allowed: allowed, threads: threads,
                            radius: request.radius, rangeFilter: request.rangeFilter)
                    }
                }
            case (.sealed(let s), .float16Vector, .floats(let queries)), (.sealed(let s), .bfloat16Vector, .floats(let queries)):
                results = s.scanning(name) { bytes, norms in
                    FlatScan.topK(
                        queries: queries, halfVectors: bytes.bindMemory(to: UInt16.self), format: VectorStorage.halfFormat(type),
                        count: s.rowCount, dimension: d, norms: norms, metric: metric, k: k, allowed: allowed,
                        threads: threads, radius: request.radius, rangeFilter: request.rangeFilter)
                }
            case (.growing(let g), .float16Vector, .floats(let queries)), (.growing(let g), .bfloat16Vector, .floats(let queries)):
                results = g.halfVectors[name]!.withUnsafeBufferPointer { vectors in
                    g.norms[name]!.withUnsafeBufferPointer { norms in
                        FlatScan.topK(
                            queries: queries, halfVectors: vectors, format: VectorStorage.halfFormat(type), count: g.rowCount,
                            dimension: d, norms: norms, metric: metric, k: k, allowed: allowed, threads: threads,
                            radius: request.radius, rangeFilter: request.rangeFilter)
                    }
                }
            case (.sealed(let s), .binaryVector, .bytes(let queries)):
                results = s.scanning(name) { bytes, _ in binary(queries, bytes) }
            case (.growing(let g), .binaryVector, .bytes(let queries)):
                results = g.binaryVectors[name]!.withUnsafeBytes { binary(queries, $0) }
            default:
                preconditionFailure("\(type) searched with the wrong kind of query vectors (validated before)")
            }
            return results
        }
        let searched = segments.indices.filter { segments[$0].segment.rowCount > 0 && segments[$0].count > 0 }
        var perSegment = [[[ScoredRow]]?](repeating: nil, count: segments.count)
        // An index walks each query on one thread, so fewer queries than threads would leave
        // threads idle while the indexed segments are walked one after another: walk them at
        // once instead, one thread each, the largest first. (A flat scan already spreads one
        // query's rows over the threads.)
        let fanned = searched.filter(indexed).sorted { segments[$0].segment.rowCount > segments[$1].segment.rowCount }
        if request.threads > 1 && request.queries.count < request.threads && fanned.count > 1 {
            // `results` reads the snapshot, which nothing changes while this call holds it.
            let walked = WorkerSlots.map(fanned.count, workers: request.threads) { results(fanned[$0], threads: 1) }
            for (j, index) in fanned.enumerated() { perSegment[index] = walked[j] }
        }
        var out = [[Candidate]](repeating: [], count: request.queries.count)
        // Rounding can put a cosine a hair outside [-1, 1]; Milvus's range is closed.
        let clamp = metric == .cosine
        for index in searched {
            for (q, hits) in (perSegment[index] ?? results(index, threads: request.threads)).enumerated() {
                for hit in hits {
                    out[q].append(Candidate(segment: index, row: hit.row, distance: clamp ? min(1, max(-1, hit.distance)) : hit.distance))
                }
            }
        }
        return Self.best(out, k: k, higherIsBetter: metric.higherIsBetter)
    }

    /// The best `k` of each query's candidates from every segment, best first (ties: segment, then row).
    static func best(_ candidates: [[Candidate]], k: Int, higherIsBetter: Bool) -> [[Candidate]] {
        candidates.map { list in
            Array(list.sorted { a, b in
                if a.distance != b.distance { return higherIsBetter ? a.distance > b.distance : a.distance < b.distance }
                if a.segment != b.segment { return a.segment < b.segment }
                return a.row < b.row
            }.prefix(k))
        }
    }

    /// Grouping search: walk the ranking, keep at most `groupSize` hits per group value and the
    /// first `offset + limit` groups; widen the candidate list until the groups are full or the
    /// matching rows are exhausted. Groups are ordered by their best hit, hits within a group by rank.
    private func grouped(
        _ request: SearchRequest, segments: [SearchableSegment], indexes: [UInt64: [String: SegmentIndex]],
        group: FieldSchema
    ) -> [[Candidate]] {
        let groupsWanted = request.limit + request.offset
        let matching = segments.reduce(0) { $0 + $1.count }
        var k = min(matching, max(64, groupsWanted * request.groupSize * 4))
        while true {
            let all = candidates(request, segments: segments, indexes: indexes, k: k)
            var complete = true
            var result = [[Candidate]]()
            for list in all {
                var order = [Value]()
                var groups = [Value: [Candidate]]()
                for c in list {
                    let key = segments[c.segment].segment.column(group.name)!.value(at: c.row)
                    if groups[key] == nil {
                        guard order.count < groupsWanted else { continue }
                        order.append(key)
                    }
                    if groups[key, default: []].count < request.groupSize { groups[key, default: []].append(c) }
                }
                let full = order.count == groupsWanted && order.allSatisfy { groups[$0]!.count == request.groupSize }
                if !full && list.count == k && k < matching { complete = false }
                result.append(order.dropFirst(request.offset).prefix(request.limit).flatMap { groups[$0]! })
            }
            if complete { return result }
            k = min(matching, k * 4)
        }
    }
}
