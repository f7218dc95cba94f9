/// Exact (brute-force) scoring of query vectors against the vectors of one segment.
enum FlatScan {
    /// The best `k` rows for each query among the rows set in `allowed` (all rows when `nil`),
    /// best first, ties broken by the lower row.
    ///
    /// - Parameters:
    ///   - vectors: `count × dimension` floats, row-major.
    ///   - norms: the Euclidean norm of each row (needed for cosine; may be `nil` otherwise).
    ///   - threads: how many threads may be used.
    /// - Complexity: O(queries × count × dimension).
    static func topK(
        queries: [[Float]], vectors: UnsafeBufferPointer<Float>, count: Int, dimension: Int,
        norms: UnsafeBufferPointer<Float>?, metric: MetricType, k: Int, allowed: Bitset?, threads: Int
    ) -> [[ScoredRow]] {
        precondition(vectors.count >= count * dimension)
        precondition(metric != .cosine || norms != nil)
        guard let base = vectors.baseAddress, count > 0 else { return queries.map { _ in [] } }
        return queries.map { query in
            query.withUnsafeBufferPointer { q in
                let qp = q.baseAddress!
                let qn = metric == .cosine ? Kernels.norm(qp, dimension) : 0
                var top = TopK(k: k, higherIsBetter: metric.higherIsBetter)
                for row in 0..<count {
                    if let allowed, !allowed[row] { continue }
                    let d = Kernels.score(
                        metric, qp, base + row * dimension, dimension,
                        queryNorm: qn, rowNorm: norms?[row] ?? 0)
                    top.push(ScoredRow(row: row, distance: d))
                }
                return top.sorted()
            }
        }
    }
}
