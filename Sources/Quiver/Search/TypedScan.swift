import Dispatch

/// Query vectors of a search: floats for float and half fields, bytes for binary fields.
enum QueryVectors: Sendable {
    case floats([[Float]])
    case bytes([[UInt8]])
    case sparse([SparseVector])
    /// Query texts of a BM25 function's output field.
    case texts([String])

    var count: Int {
        switch self {
        case .floats(let q): q.count
        case .bytes(let q): q.count
        case .sparse(let q): q.count
        case .texts(let q): q.count
        }
    }
}

/// Exact scan of binary vectors with HAMMING or JACCARD (float32, float16 and bfloat16 vectors go
/// through `FlatScan`).
///
/// Rows are split into one chunk per thread; each keeps a top-k per query, merged at the end.
enum TypedScan {
    static func topK(
        queries: [[UInt8]], vectors: UnsafeRawBufferPointer, count: Int, type: DataType,
        metric: MetricType, k: Int, allowed: Bitset?, threads: Int, radius: Float?, rangeFilter: Float?
    ) -> [[ScoredRow]] {
        let nq = queries.count
        guard count > 0, k > 0, nq > 0 else { return Array(repeating: [], count: nq) }
        precondition(metric == .hamming || metric == .jaccard, "TypedScan scores binary vectors")
        let rowBytes = type.vectorRowBytes
        let higher = metric.higherIsBetter
        let lower: Float, upper: Float
        if higher { (lower, upper) = (radius ?? -.infinity, rangeFilter ?? .infinity) } else {
            (lower, upper) = (rangeFilter ?? -.infinity, radius ?? .infinity)
        }
        @Sendable func inRange(_ x: Float) -> Bool {
            higher ? (x > lower && x <= upper) : (x >= lower && x < upper)
        }
        let workers = max(1, min(threads, count / 4096 + 1))
        let chunk = (count + workers - 1) / workers
        let results = UnsafeMutableBufferPointer<[TopK]>.allocate(capacity: workers)
        results.initialize(repeating: [])
        defer { results.deinitialize(); results.deallocate() }
        // Each worker writes only `results[w]`; the buffers outlive the call.
        let box = UncheckedBox((results, vectors))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let (results, vectors) = box.value
            var tops = (0..<nq).map { _ in TopK(k: k, higherIsBetter: higher) }
            let start = w * chunk, end = min(count, start + chunk)
            guard start < end else { results[w] = tops; return }
            for row in start..<end {
                if let allowed, !allowed[row] { continue }
                let b = (vectors.baseAddress! + row * rowBytes).assumingMemoryBound(to: UInt8.self)
                for q in 0..<nq {
                    let distance = queries[q].withUnsafeBufferPointer { qb in
                        metric == .hamming
                            ? Kernels.hamming(qb.baseAddress!, b, byteCount: rowBytes)
                            : Kernels.jaccard(qb.baseAddress!, b, byteCount: rowBytes)
                    }
                    if inRange(distance) { tops[q].push(row: row, distance: distance) }
                }
            }
            results[w] = tops
        }
        return (0..<nq).map { q in
            var merged = TopK(k: k, higherIsBetter: higher)
            for w in 0..<workers where !results[w].isEmpty { merged.merge(results[w][q]) }
            return merged.sorted()
        }
    }
}
