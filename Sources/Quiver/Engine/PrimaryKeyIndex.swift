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
