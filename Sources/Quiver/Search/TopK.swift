/// A row of a segment with its score.
struct ScoredRow: Sendable, Hashable {
    var row: Int
    var distance: Float
}

/// Keeps the best `k` scored rows seen so far; ties are broken by the lower row number.
///
/// Bounded binary heap whose root is the worst kept row; never allocates after `init`.
struct TopK {
    let k: Int
    let higherIsBetter: Bool
    private(set) var heap: [ScoredRow]

    init(k: Int, higherIsBetter: Bool) {
        self.k = k
        self.higherIsBetter = higherIsBetter
        heap = []
        heap.reserveCapacity(k)
    }

    /// `true` when `a` ranks before `b`.
    @inline(__always)
    func better(_ a: ScoredRow, _ b: ScoredRow) -> Bool {
        if a.distance != b.distance { return higherIsBetter ? a.distance > b.distance : a.distance < b.distance }
        return a.row < b.row
    }

    /// The score a new row must beat to enter, once the heap is full.
    var isFull: Bool { heap.count == k }

    mutating func push(_ item: ScoredRow) {
        guard k > 0 else { return }
        if heap.count < k {
            heap.append(item)
            siftUp(heap.count - 1)
        } else if better(item, heap[0]) {
            heap[0] = item
            siftDown(0)
        }
    }

    private mutating func siftUp(_ i: Int) {
        var child = i
        while child > 0 {
            let parent = (child - 1) / 2
            // The root is the worst: a parent must be worse than (not better than) its children.
            if better(heap[parent], heap[child]) {
                heap.swapAt(parent, child)
                child = parent
            } else { break }
        }
    }

    private mutating func siftDown(_ i: Int) {
        var parent = i
        let n = heap.count
        while true {
            let l = 2 * parent + 1, r = l + 1
            var worst = parent
            if l < n && better(heap[worst], heap[l]) { worst = l }
            if r < n && better(heap[worst], heap[r]) { worst = r }
            if worst == parent { return }
            heap.swapAt(parent, worst)
            parent = worst
        }
    }

    /// The kept rows, best first.
    func sorted() -> [ScoredRow] {
        heap.sorted(by: better)
    }
}
