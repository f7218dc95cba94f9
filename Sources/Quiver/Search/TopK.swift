/// A row of a segment with its score.
@_spi(Benchmarks) public struct ScoredRow: Sendable, Hashable {
    public var row: Int
    public var distance: Float

    @inlinable public init(row: Int, distance: Float) {
        self.row = row
        self.distance = distance
    }
}

/// Keeps the best `k` scored rows seen so far; ties are broken by the lower row number.
///
/// A bounded binary heap whose root is the worst kept row. All storage is reserved in `init`;
/// `push` never allocates. Scans compare each score against ``threshold`` first (usually in SIMD,
/// see `FlatScan`) and call `push` only for the rare candidates that can enter.
///
/// NaN scores are never kept.
@_spi(Benchmarks) public struct TopK: Sendable {
    public let k: Int
    public let higherIsBetter: Bool
    @usableFromInline var heap: [ScoredRow]
    /// The score a candidate must beat (strictly) to enter: the worst kept score once `k` rows
    /// are kept, otherwise -∞ (higher is better) or +∞ (lower is better).
    @inlinable public var threshold: Float { _threshold }
    @usableFromInline var _threshold: Float

    public init(k: Int, higherIsBetter: Bool) {
        precondition(k >= 0)
        self.k = k
        self.higherIsBetter = higherIsBetter
        heap = []
        heap.reserveCapacity(k)
        _threshold = higherIsBetter ? -.infinity : .infinity
    }

    /// The number of rows kept.
    public var count: Int { heap.count }

    /// `true` once `k` rows are kept.
    public var isFull: Bool { heap.count == k }

    /// `true` when `a` ranks before `b`: a better score, or the same score and a lower row.
    @inlinable @inline(__always)
    public func better(_ a: ScoredRow, _ b: ScoredRow) -> Bool {
        TopK.ranksBefore(a, b, higherIsBetter: higherIsBetter)
    }

    /// `true` when `a` ranks before `b` under the given direction.
    @inlinable @inline(__always)
    public static func ranksBefore(_ a: ScoredRow, _ b: ScoredRow, higherIsBetter: Bool) -> Bool {
        if a.distance != b.distance { return higherIsBetter ? a.distance > b.distance : a.distance < b.distance }
        return a.row < b.row
    }

    /// Offers one scored row.
    @inlinable
    public mutating func push(row: Int, distance: Float) {
        push(ScoredRow(row: row, distance: distance))
    }

    /// Offers one scored row.
    @inlinable
    public mutating func push(_ item: ScoredRow) {
        guard k > 0, !item.distance.isNaN else { return }
        if heap.count < k {
            heap.append(item)
            siftUp(heap.count - 1)
            if heap.count == k { _threshold = heap[0].distance }
        } else if better(item, heap[0]) {
            heap[0] = item
            siftDown(0)
            _threshold = heap[0].distance
        }
    }

    @inlinable
    mutating func siftUp(_ i: Int) {
        let higher = higherIsBetter
        heap.withUnsafeMutableBufferPointer { h in
            var child = i
            let item = h[child]
            while child > 0 {
                let parent = (child - 1) >> 1
                // The root is the worst: a parent must not be better than its children.
                guard TopK.ranksBefore(h[parent], item, higherIsBetter: higher) else { break }
                h[child] = h[parent]
                child = parent
            }
            h[child] = item
        }
    }

    @inlinable
    mutating func siftDown(_ i: Int) {
        let higher = higherIsBetter
        heap.withUnsafeMutableBufferPointer { h in
            let n = h.count
            var parent = i
            let item = h[parent]
            while true {
                let l = 2 * parent + 1
                if l >= n { break }
                var worse = l
                let r = l + 1
                if r < n && TopK.ranksBefore(h[l], h[r], higherIsBetter: higher) { worse = r }
                guard TopK.ranksBefore(item, h[worse], higherIsBetter: higher) else { break }
                h[parent] = h[worse]
                parent = worse
            }
            h[parent] = item
        }
    }

    /// Offers every row kept by `other` (which must rank the same way).
    public mutating func merge(_ other: TopK) {
        precondition(other.higherIsBetter == higherIsBetter)
        for item in other.heap { push(item) }
    }

    /// The kept rows, best first.
    public func sorted() -> [ScoredRow] {
        heap.sorted(by: better)
    }

    /// Traps unless the heap property holds and `threshold` matches the root.
    public func _checkInvariants() {
        precondition(heap.count <= k)
        for i in 1..<max(heap.count, 1) where i < heap.count {
            precondition(!better(heap[(i - 1) / 2], heap[i]), "heap order broken at \(i)")
        }
        if heap.count == k, k > 0 {
            precondition(threshold == heap[0].distance)
        } else {
            precondition(threshold == (higherIsBetter ? -.infinity : .infinity))
        }
    }
}
