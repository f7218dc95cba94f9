/// The float vectors an index reads (a sealed segment's rows, in place) and the metric, seen as a
/// distance where lower is closer: L2 → squared L2, IP → −dot, COSINE → −cosine.
///
/// `@unchecked Sendable`: the pointers are into a sealed segment's bytes that the caller keeps
/// alive (it holds the `SealedSegment`) for as long as the space is used; nothing writes them.
///
/// With a `verifier` (rows of a segment not yet all verified, see `SealedSegment.space`), a
/// search must verify each row before it reads it — `distance(_:_:)` does, a graph walk wraps its
/// distance in ``VerifiedDistance``, an exact scan calls `verifyAll()` — and the caller checks the
/// verifier's damage before returning what was found.
struct VectorSpace: @unchecked Sendable {
    let vectors: UnsafePointer<Float>
    let norms: UnsafePointer<Float>?
    let count: Int
    let dimension: Int
    let metric: MetricType
    /// Verifies rows on first read; nil when every row is verified (or the rows are not a segment's).
    let verifier: VectorVerifier?

    init(
        vectors: UnsafeBufferPointer<Float>, norms: UnsafeBufferPointer<Float>?, count: Int, dimension: Int, metric: MetricType,
        verifier: VectorVerifier? = nil
    ) {
        precondition(vectors.count >= count * dimension)
        precondition(metric != .cosine || (norms?.count ?? 0) >= count)
        self.vectors = vectors.baseAddress ?? UnsafePointer(bitPattern: 16)!
        self.norms = norms?.baseAddress
        self.count = count
        self.dimension = dimension
        self.metric = metric
        self.verifier = verifier
    }

    /// Verifies row `i` (and its norm) unless it has been.
    @inline(__always) func ensure(_ i: Int) { verifier?.ensure(row: i) }

    /// Verifies every row not yet verified, before a scan of all of them.
    func verifyAll() { verifier?.ensureAll() }

    @inline(__always) func row(_ i: Int) -> UnsafePointer<Float> { vectors + i * dimension }

    /// Asks the cache for row `i` (and its norm), which will be read soon.
    @inline(__always) func prefetch(_ i: Int) {
        prefetchRow(vectors, i, dimension: dimension)
        if let norms { prefetchLine(norms + i) }
    }

    /// The query as the distance functions want it: normalized for COSINE.
    func prepare(_ query: [Float]) -> [Float] {
        guard metric == .cosine else { return query }
        let n = query.withUnsafeBufferPointer { Kernels.norm($0.baseAddress!, dimension) }
        return n > 0 ? query.map { $0 / n } : query
    }

    /// Distance (lower is closer) of a prepared query to row `i` (verified first).
    @inline(__always) func distance(_ q: UnsafePointer<Float>, _ i: Int) -> Float {
        ensure(i)
        switch metric {
        case .l2: return Kernels.l2Squared(q, row(i), dimension)
        case .ip: return -Kernels.dot(q, row(i), dimension)
        default:
            let n = norms![i]
            return n > 0 ? -min(1, max(-1, Kernels.dot(q, row(i), dimension) / n)) : 0
        }
    }

    /// Distance between two rows (used while building).
    @inline(__always) func distance(row a: Int, _ b: Int) -> Float {
        switch metric {
        case .l2: return Kernels.l2Squared(row(a), row(b), dimension)
        case .ip: return -Kernels.dot(row(a), row(b), dimension)
        default:
            let n = norms![a] * norms![b]
            return n > 0 ? -Kernels.dot(row(a), row(b), dimension) / n : 0
        }
    }

    /// The score reported to users from an internal distance.
    @inline(__always) func score(_ d: Float) -> Float { metric == .l2 ? d : -d }
}

/// A binary heap of (distance, node) pairs, min-first or max-first.
struct DistanceHeap {
    var items: [(d: Float, id: Int32)] = []
    let maxFirst: Bool

    init(maxFirst: Bool, capacity: Int = 0) {
        self.maxFirst = maxFirst
        items.reserveCapacity(capacity)
    }

    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }
    var top: (d: Float, id: Int32) { items[0] }

    @inline(__always) private func before(_ a: (d: Float, id: Int32), _ b: (d: Float, id: Int32)) -> Bool {
        if a.d != b.d { return maxFirst ? a.d > b.d : a.d < b.d }
        return maxFirst ? a.id > b.id : a.id < b.id
    }

    mutating func push(_ d: Float, _ id: Int32) {
        items.append((d, id))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard before(items[i], items[p]) else { break }
            items.swapAt(i, p)
            i = p
        }
    }

    @discardableResult mutating func pop() -> (d: Float, id: Int32) {
        let first = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            let n = items.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < n && before(items[l], items[best]) { best = l }
                if r < n && before(items[r], items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
        }
        return first
    }
}
