/// Live primary key → row location, with a specialized dictionary per key type
/// (hashing a plain `Int64` is several times cheaper than hashing an enum payload).
struct PrimaryKeyIndex {
    private var ints: [Int64: RowLocation] = [:]
    private var strings: [String: RowLocation] = [:]

    var count: Int { ints.count + strings.count }

    mutating func reserveCapacity(_ n: Int, strings useStrings: Bool) {
        if useStrings { strings.reserveCapacity(n) } else { ints.reserveCapacity(n) }
    }

    subscript(key: PrimaryKey) -> RowLocation? {
        get {
            switch key {
            case .int(let v): ints[v]
            case .string(let s): strings[s]
            }
        }
        set {
            switch key {
            case .int(let v): ints[v] = newValue
            case .string(let s): strings[s] = newValue
            }
        }
    }

    @discardableResult
    mutating func updateValue(_ location: RowLocation, forKey key: PrimaryKey) -> RowLocation? {
        switch key {
        case .int(let v): ints.updateValue(location, forKey: v)
        case .string(let s): strings.updateValue(location, forKey: s)
        }
    }

    @discardableResult
    mutating func removeValue(forKey key: PrimaryKey) -> RowLocation? {
        switch key {
        case .int(let v): ints.removeValue(forKey: v)
        case .string(let s): strings.removeValue(forKey: s)
        }
    }

    /// Points the key of each `(row, from)` of `rows` at row `row` of segment `segment` (whose
    /// primary keys are `keys`) if it still points at `from`: a flush's and a compaction's moves of
    /// rows into a new segment (a key that was replaced or deleted meanwhile is left alone).
    ///
    /// - Complexity: O(`rows`), plus a copy of the whole index when its storage is shared: the
    ///   engine calls it on a copy, without `state`'s lock, and swaps the result in.
    mutating func repoint(keys: Column, segment: UInt64, rows: some Sequence<(row: Int, from: RowLocation)>) {
        switch keys.storage {
        case .int(let a):
            for (row, from) in rows where ints[a[row]] == from { ints[a[row]] = RowLocation(segment: segment, row: Int32(row)) }
        case .string(let a):
            for (row, from) in rows where strings[a[row]] == from { strings[a[row]] = RowLocation(segment: segment, row: Int32(row)) }
        default: preconditionFailure("primary key column must be int64 or varchar")
        }
    }

    /// Adds the live rows of a sealed segment; returns a key that was already present, if any.
    mutating func addSegment(id: UInt64, keys: Column, deleted: Bitset) -> PrimaryKey? {
        switch keys.storage {
        case .int(let a):
            for row in a.indices where !deleted[row] {
                if ints.updateValue(RowLocation(segment: id, row: Int32(row)), forKey: a[row]) != nil { return .int(a[row]) }
            }
        case .string(let a):
            for row in a.indices where !deleted[row] {
                if strings.updateValue(RowLocation(segment: id, row: Int32(row)), forKey: a[row]) != nil { return .string(a[row]) }
            }
        default: preconditionFailure("primary key column must be int64 or varchar")
        }
        return nil
    }
}
