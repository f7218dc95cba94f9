/// A fixed-size set of row numbers, one bit per row.
public struct Bitset: Sendable, Hashable {
    @usableFromInline var words: [UInt64]
    /// The number of rows the set covers.
    public private(set) var count: Int

    /// A set of `count` rows, all clear (or all set when `allSet`).
    public init(count: Int, allSet: Bool = false) {
        self.count = count
        let wordCount = (count + 63) >> 6
        words = Array(repeating: allSet ? ~0 : 0, count: wordCount)
        if allSet { clearTail() }
    }

    private mutating func clearTail() {
        let extra = count & 63
        if extra != 0, !words.isEmpty { words[words.count - 1] &= (1 << UInt64(extra)) - 1 }
    }

    /// Whether row `i` is in the set; setting it adds or removes the row.
    ///
    /// - Precondition: `0 ≤ i < count` (checked in debug builds).
    @inlinable public subscript(i: Int) -> Bool {
        get {
            assert(i >= 0 && i < count)
            return words[i >> 6] & (1 << UInt64(i & 63)) != 0
        }
        set {
            assert(i >= 0 && i < count)
            if newValue { words[i >> 6] |= 1 << UInt64(i & 63) } else { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
        }
    }

    /// Adds one row at the end.
    public mutating func append(_ bit: Bool) {
        if count & 63 == 0 { words.append(0) }
        count += 1
        if bit { self[count - 1] = true }
    }

    /// The number of set bits.
    public var cardinality: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// `true` when no bit is set.
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// Keeps only the rows that are also set in `other`.
    ///
    /// - Precondition: `other.count == count`.
    public mutating func formIntersection(_ other: Bitset) {
        precondition(count == other.count)
        for i in words.indices { words[i] &= other.words[i] }
    }

    /// Adds every row that is set in `other`.
    ///
    /// - Precondition: `other.count == count`.
    public mutating func formUnion(_ other: Bitset) {
        precondition(count == other.count)
        for i in words.indices { words[i] |= other.words[i] }
    }

    /// Clears every bit that is set in `other`.
    public mutating func subtract(_ other: Bitset) {
        precondition(count == other.count)
        for i in words.indices { words[i] &= ~other.words[i] }
    }

    /// Sets the clear rows and clears the set ones (within `0..<count`).
    public mutating func invert() {
        for i in words.indices { words[i] = ~words[i] }
        clearTail()
    }

    /// Calls `body` with each set row number in increasing order.
    @inlinable public func forEachSet(_ body: (Int) throws -> Void) rethrows {
        for (w, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                try body(w << 6 | bit)
                bits &= bits - 1
            }
        }
    }

    /// The set rows, in increasing order.
    public var setRows: [Int] {
        var out = [Int]()
        out.reserveCapacity(cardinality)
        forEachSet { out.append($0) }
        return out
    }

    /// A copy grown (or shrunk) to `newCount` rows; new rows are clear.
    public func resized(to newCount: Int) -> Bitset {
        var out = Bitset(count: newCount)
        let n = min(words.count, out.words.count)
        for i in 0..<n { out.words[i] = words[i] }
        out.clearTail()
        return out
    }
}
