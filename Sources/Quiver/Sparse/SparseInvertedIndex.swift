import Dispatch
import Synchronization

/// `SPARSE_INVERTED_INDEX` (and `SPARSE_WAND`) of one sparse field of one sealed segment: a
/// posting list per index (term) holding the rows that have it, ascending, with their weights
/// and the list's largest weight; searched document-at-a-time with MaxScore dynamic pruning
/// (Turtle & Flood, "Query evaluation: strategies and optimizations", 1995; as in Lucene's
/// `MaxScoreBulkScorer` and PISA's `maxscore_query`).
///
/// The results equal an exact scan's to the bit: pruning only skips a row whose score is
/// bounded below the current k-th best (with a margin for `Float` rounding; weights are never
/// negative, so a sum of per-term maxima bounds a score), and a row that is scored sums its
/// products in ascending index order, as ``SparseVector/dot(_:)`` does. Rows are visited in
/// ascending order, so a row tied with the k-th best never displaces it, as in ``TopK``.
/// Zero weights are left out of the lists: they add nothing to a score.
struct SparseInvertedIndex: Sendable {
    /// Rows of the segment (the index covers every one).
    let rowCount: Int
    /// The indices that occur with a weight above zero, ascending.
    let terms: [UInt32]
    /// `terms.count + 1` offsets into ``rows`` and ``weights``: term `t`'s postings are
    /// `offsets[t] ..< offsets[t + 1]`.
    let offsets: [Int]
    /// The rows of each posting list, ascending within a list.
    let rows: [Int32]
    let weights: [Float]
    /// The largest weight of each list.
    let maxWeights: [Float]

    init(rowCount: Int, terms: [UInt32], offsets: [Int], rows: [Int32], weights: [Float]) {
        self.rowCount = rowCount
        self.terms = terms
        self.offsets = offsets
        self.rows = rows
        self.weights = weights
        maxWeights = (0..<terms.count).map { t in weights[offsets[t]..<offsets[t + 1]].max() ?? 0 }
    }

    /// Builds the index of `column`'s rows. Returns `nil` when `cancel` is set meanwhile.
    ///
    /// - Complexity: O(pairs + terms × log terms).
    static func build(_ column: SparseRows, cancel: BuildCancellation? = nil) -> SparseInvertedIndex? {
        var counts = [UInt32: Int]()
        for (i, term) in column.indices.enumerated() where column.values[i] > 0 { counts[term, default: 0] += 1 }
        if cancel?.isCancelled == true { return nil }
        let terms = counts.keys.sorted()
        var slot = [UInt32: Int](minimumCapacity: terms.count)
        var offsets = [Int](repeating: 0, count: terms.count + 1)
        for (t, term) in terms.enumerated() {
            slot[term] = t
            offsets[t + 1] = offsets[t] + counts[term]!
        }
        var next = Array(offsets.dropLast())
        var rows = [Int32](repeating: 0, count: offsets.last!)
        var weights = [Float](repeating: 0, count: offsets.last!)
        for row in 0..<column.count {
            if row & 0xFFFF == 0, cancel?.isCancelled == true { return nil }
            for i in column.range(row) where column.values[i] > 0 {
                let t = slot[column.indices[i]]!
                rows[next[t]] = Int32(row)
                weights[next[t]] = column.values[i]
                next[t] += 1
            }
        }
        return SparseInvertedIndex(rowCount: column.count, terms: terms, offsets: offsets, rows: rows, weights: weights)
    }

    /// The list of `index`, if it has one.
    func term(_ index: UInt32) -> Int? {
        var lo = 0, hi = terms.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if terms[mid] < index { lo = mid + 1 } else { hi = mid }
        }
        return lo < terms.count && terms[lo] == index ? lo : nil
    }

    /// The best `k` allowed rows for each query (rows scoring 0 are never returned), on up to
    /// `threads` threads (one query each).
    func search(queries: [SparseVector], k: Int, allowed: Bitset?, threads: Int) -> [[ScoredRow]] {
        // `self` and `allowed` are read-only.
        WorkerSlots.map(queries.count, workers: threads) { search(queries[$0], k: k, allowed: allowed) }
    }

    /// The best `k` allowed rows for `query`, best first (MaxScore; see the type's summary).
    func search(_ query: SparseVector, k: Int, allowed: Bitset?) -> [ScoredRow] {
        // The query's terms that have a list, in ascending index order (the order scores are summed in).
        var lists = [Int](), qw = [Float]()
        for (i, index) in query.indices.enumerated() where query.values[i] > 0 {
            if let t = term(index) { lists.append(t); qw.append(query.values[i]) }
        }
        let n = lists.count
        guard n > 0, k > 0 else { return [] }
        // Upper bounds per term, in Double; `order` from the smallest bound up.
        let bound = (0..<n).map { Double(qw[$0]) * Double(maxWeights[lists[$0]]) }
        let order = (0..<n).sorted { bound[$0] != bound[$1] ? bound[$0] < bound[$1] : $0 < $1 }
        // prefix[j]: the sum of the j smallest bounds.
        var prefix = [Double](repeating: 0, count: n + 1)
        for j in 0..<n { prefix[j + 1] = prefix[j] + bound[order[j]] }
        // A computed Float score can exceed the exact sum by (terms + 1) units of rounding; the
        // bounds are widened by more than that before they prune.
        let widen = 1 + Double(n + 2) * 0x1p-22
        var top = TopK(k: k, higherIsBetter: true)
        var cursor = lists.map { offsets[$0] }
        let end = lists.map { offsets[$0 + 1] }
        // order[0..<essentialFrom] are the non-essential terms: together they cannot reach the threshold.
        var essentialFrom = 0
        var found = [Float](repeating: 0, count: n)
        var has = [Bool](repeating: false, count: n)
        return rows.withUnsafeBufferPointer { rows in
            weights.withUnsafeBufferPointer { weights in
                while true {
                    // The next candidate: the smallest row at an essential cursor.
                    var doc = Int32.max
                    for j in essentialFrom..<n {
                        let i = order[j]
                        if cursor[i] < end[i], rows[cursor[i]] < doc { doc = rows[cursor[i]] }
                    }
                    if doc == Int32.max { break }
                    var partial = 0.0
                    for j in essentialFrom..<n {
                        let i = order[j]
                        if cursor[i] < end[i], rows[cursor[i]] == doc {
                            found[i] = weights[cursor[i]]
                            has[i] = true
                            partial += Double(qw[i]) * Double(found[i])
                            cursor[i] += 1
                        }
                    }
                    var pruned = allowed.map { !$0[Int(doc)] } ?? false
                    if !pruned {
                        let threshold = Double(top.threshold)
                        // The non-essential terms, largest bound first, while the row can still enter.
                        var j = essentialFrom - 1
                        while j >= 0 {
                            if (partial + prefix[j + 1]) * widen < threshold { pruned = true; break }
                            let i = order[j]
                            let p = Self.seek(rows, from: cursor[i], to: end[i], doc)
                            cursor[i] = p
                            if p < end[i], rows[p] == doc {
                                found[i] = weights[p]
                                has[i] = true
                                partial += Double(qw[i]) * Double(found[i])
                            }
                            j -= 1
                        }
                        if !pruned && partial * widen < threshold { pruned = true }
                    }
                    if !pruned {
                        var score: Float = 0
                        for i in 0..<n where has[i] { score += qw[i] * found[i] }
                        if score > 0 {
                            top.push(row: Int(doc), distance: score)
                            if top.isFull {
                                let threshold = Double(top.threshold)
                                while essentialFrom < n && prefix[essentialFrom + 1] * widen < threshold { essentialFrom += 1 }
                            }
                        }
                    }
                    for i in 0..<n { has[i] = false }
                }
                return top.sorted()
            }
        }
    }

    /// The first position in `from ..< to` whose row is at least `doc` (`to` when none):
    /// galloping from `from`, then binary search.
    @inline(__always)
    static func seek(_ rows: UnsafeBufferPointer<Int32>, from: Int, to: Int, _ doc: Int32) -> Int {
        if from >= to || rows[from] >= doc { return from }
        var lo = from, step = 1
        var hi = from + 1
        while hi < to && rows[hi] < doc {
            lo = hi
            step *= 2
            hi = min(to, lo + step)
        }
        // rows[lo] < doc; the answer is in lo + 1 ... hi.
        var a = lo + 1, b = min(hi, to)
        while a < b {
            let mid = (a + b) / 2
            if rows[mid] < doc { a = mid + 1 } else { b = mid }
        }
        return a
    }
}
