/// Search of sparse vector fields: per segment, the segment's `SparseInvertedIndex` when it is
/// ready (sealed segments), an exact scan otherwise (the growing segment, unindexed sealed
/// segments, range search); both give the same scores to the bit, so the merged ranking does
/// not depend on which segments are indexed.
extension CollectionEngine {
    /// The best `k` candidates per query over all segments, best first (ties: segment, then row).
    /// Each query first loses its smallest weights when `drop_ratio_search` asks for it.
    func sparseCandidates(
        _ request: SearchRequest, _ queries: [SparseVector], segments: [SearchableSegment],
        indexes: [UInt64: [String: SegmentIndex]], k: Int
    ) -> [[Candidate]] {
        let name = request.field.name
        let ratio = request.indexParams.dropRatioSearch
        let queries = ratio > 0 ? queries.map { $0.droppingSmallest(ratio: ratio) } : queries
        let ranged = request.radius != nil || request.rangeFilter != nil
        var out = [[Candidate]](repeating: [], count: queries.count)
        for (index, entry) in segments.enumerated() where entry.count > 0 {
            guard case .sparse(let rows)? = entry.segment.column(name)?.storage else {
                preconditionFailure("sparse field '\(name)' without a sparse column")
            }
            let results: [[ScoredRow]]
            if case .sealed(let s) = entry.segment, !ranged, case .sparse(let inverted)? = indexes[s.id]?[name] {
                results = inverted.search(queries: queries, k: k, allowed: entry.allowed, threads: request.threads)
            } else {
                results = SparseScan.topK(
                    queries: queries, rows: rows, k: k, allowed: entry.allowed, threads: request.threads,
                    radius: request.radius, rangeFilter: request.rangeFilter)
            }
            for (q, hits) in results.enumerated() {
                for hit in hits { out[q].append(Candidate(segment: index, row: hit.row, distance: hit.distance)) }
            }
        }
        return Self.best(out, k: k, higherIsBetter: true)
    }
}
