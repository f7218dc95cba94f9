import Dispatch

/// Exact inner-product search of sparse vectors: every allowed row's score with each query (a
/// merge of the two sorted index runs, summed in ascending index order as
/// ``SparseVector/dot(_:)`` does), the best `k` kept per query.
///
/// Rows are split into one chunk per thread; each keeps a top-k per query, merged at the end
/// (ties: the lower row, as everywhere). A row scoring 0 (no index in common with the query, or
/// only zero weights) is not a match and is never returned, as an inverted index never reaches it.
enum SparseScan {
    /// The best `k` allowed rows of `rows` per query, best first. With `radius` / `rangeFilter`
    /// (range search, IP's convention) only rows with `radius < score ≤ rangeFilter` are kept.
    ///
    /// - Complexity: O(queries × (rows + pairs)).
    static func topK(
        queries: [SparseVector], rows: SparseRows, k: Int, allowed: Bitset?, threads: Int,
        radius: Float? = nil, rangeFilter: Float? = nil
    ) -> [[ScoredRow]] {
        let nq = queries.count, count = rows.count
        guard count > 0, k > 0, nq > 0 else { return Array(repeating: [], count: nq) }
        let lower = radius ?? -.infinity, upper = rangeFilter ?? .infinity
        let workers = max(1, min(threads, rows.pairCount / 65_536 + 1, count))
        let chunk = (count + workers - 1) / workers
        let slots = WorkerSlots<[TopK]>(capacity: workers)
        slots.base.initialize(repeating: [], count: workers)
        defer { slots.base.deinitialize(count: workers); slots.deallocate() }
        let scan = { (w: Int) in
            var tops = (0..<nq).map { _ in TopK(k: k, higherIsBetter: true) }
            let start = w * chunk, end = min(count, start + chunk)
            if start < end {
                for row in start..<end {
                    if let allowed, !allowed[row] { continue }
                    rows.withRow(row) { ri, rv in
                        for q in 0..<nq {
                            let score = queries[q].indices.withUnsafeBufferPointer { qi in
                                queries[q].values.withUnsafeBufferPointer { qv in SparseVector.dot(qi, qv, ri, rv) }
                            }
                            if score > 0 && score > lower && score <= upper { tops[q].push(row: row, distance: score) }
                        }
                    }
                }
            }
            slots.base[w] = tops
        }
        if workers == 1 {
            scan(0)
        } else {
            // Each worker writes only its own slot; `rows` and `queries` are values shared read-only.
            let box = UncheckedBox(scan)
            DispatchQueue.concurrentPerform(iterations: workers) { box.value($0) }
        }
        return (0..<nq).map { q in
            var merged = TopK(k: k, higherIsBetter: true)
            for w in 0..<workers where !slots.base[w].isEmpty { merged.merge(slots.base[w][q]) }
            return merged.sorted()
        }
    }
}
