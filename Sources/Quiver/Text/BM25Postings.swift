/// The term frequencies of one segment's BM25 field, inverted, and their top-k search.
///
/// Layout (compressed sparse columns, as ``SparseInvertedIndex``, whose arrays it shares when
/// the segment has a `SPARSE_INVERTED_INDEX`): the term ids that occur, ascending; per term a
/// posting list of the rows that have it (ascending) and the term's frequency in each; each
/// row's length (the sum of its frequencies). Built once per sealed segment (they are
/// immutable) and, for the growing segment, per search.
///
/// Search is MaxScore dynamic pruning (Turtle & Flood 1995) evaluated a window of rows at a
/// time, as Lucene's `MaxScoreBulkScorer`: a term's contribution
/// `w · tf / (tf + k1 · (1 − b + b · len / avgdl))` is largest for a large frequency in a short
/// row, and `avgdl` is known only at query time (it is the whole collection's), so each list
/// keeps its *impacts*: the (frequency, length) pairs of its postings that no other posting of
/// the list dominates (a frequency at least as large in a row at most as long; Lucene's
/// competitive impacts). The largest contribution of a list is then the exact maximum over its
/// few impacts, computed per query. Lists whose bounds together cannot reach the current k-th
/// best score stop producing candidates (non-essential); the essential lists are walked term at
/// a time over a window of rows, and each row they reach is completed from the non-essential
/// lists (galloping) only while its bound can still reach the k-th best.
///
/// Results are exact: a row's score is the sum of its terms' contributions in query order
/// (Double), whatever was pruned, so it is the same in every segment, before and after a flush
/// or compaction; a row is skipped only when its bound (widened by far more than Double
/// rounding) is below the k-th best, and rows are visited in ascending order so a row tied with
/// the k-th best never displaces it (ties: the lower row, as ``TopK``).
final class BM25Postings: Sendable {
    let rowCount: Int
    /// Each row's length (sum of its term frequencies).
    let lengths: [Float]
    /// Rows with at least one term, and their total length, over all rows (deleted ones too).
    let documents: Int
    let totalLength: Double
    /// The term ids that occur, ascending; term `t`'s postings are `offsets[t] ..< offsets[t + 1]`.
    let terms: [UInt32]
    let offsets: [Int]
    /// The rows of each posting list, ascending within a list, and the term's frequency in each.
    let rows: [Int32]
    let frequencies: [Float]
    /// Term `t`'s impacts are `impacts[impactOffsets[t] ..< impactOffsets[t + 1]]`.
    let impactOffsets: [Int]
    let impacts: [Impact]

    /// A (frequency, row length) pair of a posting list that no other posting of it dominates.
    struct Impact: Sendable {
        var frequency: Float
        var length: Float
    }

    /// The postings of no rows (an empty growing segment).
    static let empty = BM25Postings(SparseRows())

    /// Inverts the rows of a BM25 output column.
    ///
    /// - Complexity: O(stored pairs + terms × log terms).
    convenience init(_ column: SparseRows) {
        self.init(column, index: SparseInvertedIndex.build(column)!)
    }

    /// The postings of `column` from its built inverted index (whose lists are exactly the
    /// column's positive pairs: `drop_ratio_build` is always 0), adding lengths and impacts.
    ///
    /// - Complexity: O(stored pairs × impacts per term).
    init(_ column: SparseRows, index: SparseInvertedIndex) {
        precondition(index.rowCount == column.count, "the index covers another number of rows than the column")
        let rowCount = column.count
        self.rowCount = rowCount
        var lengths = [Float](repeating: 0, count: rowCount)
        var documents = 0
        var total = 0.0
        column.values.withUnsafeBufferPointer { values in
            for r in 0..<rowCount {
                var length: Float = 0
                for i in column.range(r) where values[i] > 0 { length += values[i] }
                lengths[r] = length
                if length > 0 {
                    documents += 1
                    total += Double(length)
                }
            }
        }
        self.lengths = lengths
        self.documents = documents
        totalLength = total
        terms = index.terms
        offsets = index.offsets
        rows = index.rows
        frequencies = index.weights
        var impactOffsets = [0]
        impactOffsets.reserveCapacity(terms.count + 1)
        var impacts: [Impact] = []
        for t in 0..<terms.count {
            let start = impacts.count
            for p in offsets[t]..<offsets[t + 1] {
                let f = frequencies[p], l = lengths[Int(rows[p])]
                if impacts[start...].contains(where: { $0.frequency >= f && $0.length <= l }) { continue }
                impacts.removeSubrange(impacts[start...].partition { f >= $0.frequency && l <= $0.length }...)
                impacts.append(Impact(frequency: f, length: l))
            }
            impactOffsets.append(impacts.count)
        }
        self.impactOffsets = impactOffsets
        self.impacts = impacts
    }

    /// The list of term id `id`, if it occurs.
    func term(_ id: UInt32) -> Int? {
        var lo = 0, hi = terms.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if terms[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < terms.count && terms[lo] == id ? lo : nil
    }

    /// The statistics of the live rows (`live` nil: all rows) for `terms` (distinct ids).
    ///
    /// - Complexity: O(rows / 64 + deleted rows) plus, with deletes, the postings of `terms`.
    func statistics(live: Bitset?, terms ids: [UInt32]) -> BM25Statistics {
        var s = BM25Statistics(documents: documents, totalLength: totalLength, terms: ids.count)
        if let live {
            var deleted = live
            deleted.invert()
            deleted.forEachSet { row in
                guard row < rowCount else { return }
                let length = lengths[row]
                if length > 0 {
                    s.documents -= 1
                    s.totalLength -= Double(length)
                }
            }
        }
        for (i, id) in ids.enumerated() {
            guard let t = term(id) else { continue }
            let list = offsets[t]..<offsets[t + 1]
            s.documentFrequency[i] = live.map { live in list.reduce(0) { $0 + (live[Int(rows[$1])] ? 1 : 0) } } ?? list.count
        }
        return s
    }

    /// A query term's posting list while it is walked.
    private struct Cursor {
        var position: Int
        let end: Int
        /// The term's weight × idf × (k1 + 1).
        let weight: Double
        /// The largest contribution any of its postings can make.
        let bound: Double
        /// Its place in the query (the order contributions are summed in).
        let slot: Int
    }

    /// The best `k` rows among `allowed` (nil: all) by BM25 score, best first (ties: lower row).
    /// `terms` carry each query term's weight × idf (distinct ids).
    ///
    /// - Complexity: O(postings of the query's terms) at worst; MaxScore skips most of the
    ///   postings of frequent terms once `k` good rows are found. Allocates O(window × terms).
    func topK(terms query: [(id: UInt32, weight: Double)], parameters p: BM25.Parameters, averageLength: Double, allowed: Bitset?, k: Int)
        -> [ScoredRow]
    {
        guard k > 0, averageLength > 0, rowCount > 0 else { return [] }
        // Contribution of a posting: w · tf / (tf + a + c · length), w = weight × idf × (k1 + 1).
        let a = p.k1 * (1 - p.b), c = p.k1 * p.b / averageLength
        var cursors: [Cursor] = []
        cursors.reserveCapacity(query.count)
        for (slot, (id, weight)) in query.enumerated() where weight > 0 {
            guard let t = term(id) else { continue }
            let w = weight * (p.k1 + 1)
            var best = 0.0
            for impact in impacts[impactOffsets[t]..<impactOffsets[t + 1]] {
                let f = Double(impact.frequency)
                best = max(best, f / (f + (a + c * Double(impact.length))))
            }
            cursors.append(Cursor(position: offsets[t], end: offsets[t + 1], weight: w, bound: w * best, slot: slot))
        }
        let n = cursors.count
        guard n > 0 else { return [] }
        // Smallest bound first: cursors[0 ..< essential] are the non-essential lists.
        cursors.sort { $0.bound != $1.bound ? $0.bound < $1.bound : $0.slot < $1.slot }
        // The computed bounds and partial sums are within a few Double roundings of the exact
        // values; widening by 1e-9 covers that many times over, so a row is never pruned wrongly.
        let widen = 1 + 1e-9
        var prefix = [Double](repeating: 0, count: n + 1)
        for j in 0..<n { prefix[j + 1] = prefix[j] + cursors[j].bound }
        // Rows are taken a window at a time: the essential lists are walked term at a time over
        // the window (a tight loop), each row keeping its contributions by query slot and which
        // slots it has; then the window's rows, ascending, are completed from the non-essential
        // lists (galloping) while their bound can still reach the k-th best, and summed in slot
        // order. A window holds at most 8,192 contributions (64 KiB).
        let slots = query.count
        let words = (slots + 63) / 64
        let window = max(64, min(512, (8_192 / slots) & ~63))
        var partial = [Double](repeating: 0, count: window)
        var masks = [UInt64](repeating: 0, count: window * words)
        var touched = [UInt64](repeating: 0, count: window / 64)
        var contributions = [Double](unsafeUninitializedCapacity: window * slots) { _, count in count = window * slots }
        var top = BM25TopK(k: k)
        var essential = 0
        rows.withUnsafeBufferPointer { rows in
            frequencies.withUnsafeBufferPointer { frequencies in
                lengths.withUnsafeBufferPointer { lengths in
                    cursors.withUnsafeMutableBufferPointer { cursors in
                        partial.withUnsafeMutableBufferPointer { partial in
                            masks.withUnsafeMutableBufferPointer { masks in
                                touched.withUnsafeMutableBufferPointer { touched in
                                    contributions.withUnsafeMutableBufferPointer { contributions in
                                        while essential < n {
                                            // The window starts at the smallest row left in an essential list.
                                            var first = Int32.max
                                            for j in essential..<n where cursors[j].position < cursors[j].end {
                                                first = min(first, rows[cursors[j].position])
                                            }
                                            if first == .max { break }
                                            let base = Int(first), limit = Int32(min(rowCount, base + window))
                                            let firstEssential = essential
                                            for j in firstEssential..<n {
                                                var p = cursors[j].position
                                                let end = cursors[j].end, w = cursors[j].weight, slot = cursors[j].slot
                                                let bit = UInt64(1) << UInt64(slot & 63), word = slot >> 6
                                                while p < end && rows[p] < limit {
                                                    let r = Int(rows[p]), d = r - base
                                                    let tf = Double(frequencies[p])
                                                    let s = w * tf / (tf + (a + c * Double(lengths[r])))
                                                    contributions[d * slots + slot] = s
                                                    masks[d * words + word] |= bit
                                                    partial[d] += s
                                                    touched[d >> 6] |= UInt64(1) << UInt64(d & 63)
                                                    p += 1
                                                }
                                                cursors[j].position = p
                                            }
                                            for t in 0..<touched.count {
                                                var bits = touched[t]
                                                touched[t] = 0
                                                while bits != 0 {
                                                    let d = t << 6 + bits.trailingZeroBitCount
                                                    bits &= bits - 1
                                                    let row = base + d
                                                    var sum = partial[d]
                                                    partial[d] = 0
                                                    var pruned = allowed.map { !$0[row] } ?? false
                                                    if !pruned {
                                                        // The non-essential lists, largest bound first, while the row can still enter.
                                                        let threshold = top.threshold
                                                        let norm = a + c * Double(lengths[row])
                                                        var j = firstEssential - 1
                                                        while j >= 0 {
                                                            if (sum + prefix[j + 1]) * widen < threshold {
                                                                pruned = true
                                                                break
                                                            }
                                                            let at = SparseInvertedIndex.seek(rows, from: cursors[j].position, to: cursors[j].end, Int32(row))
                                                            cursors[j].position = at
                                                            if at < cursors[j].end && rows[at] == Int32(row) {
                                                                let tf = Double(frequencies[at])
                                                                let s = cursors[j].weight * tf / (tf + norm)
                                                                let slot = cursors[j].slot
                                                                contributions[d * slots + slot] = s
                                                                masks[d * words + slot >> 6] |= UInt64(1) << UInt64(slot & 63)
                                                                sum += s
                                                            }
                                                            j -= 1
                                                        }
                                                    }
                                                    if !pruned {
                                                        // The exact score: the contributions in query order.
                                                        var score = 0.0
                                                        for w in 0..<words {
                                                            var m = masks[d * words + w]
                                                            while m != 0 {
                                                                score += contributions[d * slots + w << 6 + m.trailingZeroBitCount]
                                                                m &= m - 1
                                                            }
                                                        }
                                                        if score > top.threshold && top.push(row: Int32(row), score: score) && top.isFull {
                                                            let threshold = top.threshold
                                                            while essential < n && prefix[essential + 1] * widen < threshold { essential += 1 }
                                                        }
                                                    }
                                                    for w in 0..<words { masks[d * words + w] = 0 }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return top.sorted()
    }
}

/// The best `k` (row, Double score) pairs offered, ties to the lower row: a bounded binary heap
/// whose root is the worst kept. Rows are offered in ascending order, so a tie never enters.
private struct BM25TopK {
    let k: Int
    private var heap: [(row: Int32, score: Double)] = []

    init(k: Int) {
        self.k = k
        heap.reserveCapacity(k)
    }

    var isFull: Bool { heap.count == k }

    /// The score a row must beat to enter: the worst kept once full, −∞ before.
    var threshold: Double { heap.count == k ? heap[0].score : -.infinity }

    /// `a` is worse than `b`: a lower score, or the same and a higher row.
    private static func worse(_ a: (row: Int32, score: Double), _ b: (row: Int32, score: Double)) -> Bool {
        a.score != b.score ? a.score < b.score : a.row > b.row
    }

    /// Offers a row; `true` when it was kept.
    mutating func push(row: Int32, score: Double) -> Bool {
        let item = (row: row, score: score)
        if heap.count < k {
            heap.append(item)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.worse(item, heap[parent]) else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = item
            return true
        }
        guard Self.worse(heap[0], item) else { return false }
        var parent = 0
        while true {
            let l = 2 * parent + 1
            if l >= k { break }
            var child = l
            if l + 1 < k && Self.worse(heap[l + 1], heap[l]) { child = l + 1 }
            guard Self.worse(heap[child], item) else { break }
            heap[parent] = heap[child]
            parent = child
        }
        heap[parent] = item
        return true
    }

    /// The kept rows, best first, with their scores as `Float`.
    func sorted() -> [ScoredRow] {
        heap.sorted { Self.worse($1, $0) }.map { ScoredRow(row: Int($0.row), distance: Float($0.score)) }
    }
}
