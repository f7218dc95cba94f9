/// The values of one scalar field across the rows of a segment, in a typed array.
///
/// Integer types are widened to `Int64`; float fields are `Float`; JSON, array and the dynamic
/// `$meta` column hold `Value`s; sparse vector fields are `SparseRows`. Null rows are marked in ``nulls`` and hold a zero value in
/// typed storage (or `.null` in `.value` storage).
struct Column: Sendable, Equatable {
    enum Storage: Sendable, Equatable {
        case bool([Bool])
        case int([Int64])
        case float([Float])
        case double([Double])
        case string([String])
        case value([Value])
        case sparse(SparseRows)
    }

    var storage: Storage
    /// Rows that are null; `nil` when the field is not nullable or no row is null.
    var nulls: Bitset?

    var count: Int {
        switch storage {
        case .bool(let a): a.count
        case .int(let a): a.count
        case .float(let a): a.count
        case .double(let a): a.count
        case .string(let a): a.count
        case .value(let a): a.count
        case .sparse(let a): a.count
        }
    }

    /// An empty column for values of `type`.
    init(emptyFor type: DataType) {
        switch type {
        case .bool: storage = .bool([])
        case .int8, .int16, .int32, .int64: storage = .int([])
        case .float: storage = .float([])
        case .double: storage = .double([])
        case .varchar: storage = .string([])
        case .json, .array, .floatVector, .float16Vector, .bfloat16Vector, .binaryVector: storage = .value([])
        case .sparseFloatVector: storage = .sparse(SparseRows())
        }
        nulls = nil
    }

    init(storage: Storage, nulls: Bitset?) {
        self.storage = storage
        self.nulls = nulls
    }

    func isNull(_ row: Int) -> Bool {
        if let nulls, nulls[row] { return true }
        if case .value(let a) = storage, a[row].isNull { return true }
        return false
    }

    /// The value at `row` in its stored form (`.null` for null rows).
    func value(at row: Int) -> Value {
        if let nulls, nulls[row] { return .null }
        switch storage {
        case .bool(let a): return .bool(a[row])
        case .int(let a): return .int(a[row])
        case .float(let a): return .double(Double(a[row]))
        case .double(let a): return .double(a[row])
        case .string(let a): return .string(a[row])
        case .value(let a): return a[row]
        case .sparse(let a): return .sparse(a[row])
        }
    }

    /// Asks the cache for the stored value of `row` (a search touches the primary keys of its
    /// hits at random rows after its walk has filled the cache with vectors).
    func prefetch(row: Int) {
        switch storage {
        case .bool: break
        case .int(let a): a.withUnsafeBufferPointer { prefetchLine($0.baseAddress! + row) }
        case .float(let a): a.withUnsafeBufferPointer { prefetchLine($0.baseAddress! + row) }
        case .double(let a): a.withUnsafeBufferPointer { prefetchLine($0.baseAddress! + row) }
        case .string(let a): a.withUnsafeBufferPointer { prefetchLine($0.baseAddress! + row) }
        case .value(let a): a.withUnsafeBufferPointer { prefetchLine($0.baseAddress! + row) }
        case .sparse: break
        }
    }

    /// Appends a value already coerced by `FieldValidator` (or `.null`).
    mutating func append(_ value: Value) {
        let row = count
        var isTypedNull = value.isNull
        if case .value = storage { isTypedNull = false }
        if isTypedNull, nulls == nil { nulls = Bitset(count: row) }
        nulls?.append(isTypedNull)
        // Swap the array out of the enum so the append is in place, not a copy.
        switch storage {
        case .bool(var a):
            storage = .bool([]); a.append(value.boolValue ?? false); storage = .bool(a)
        case .int(var a):
            storage = .int([]); a.append(value.intValue ?? 0); storage = .int(a)
        case .float(var a):
            storage = .float([]); a.append(Float(value.doubleValue ?? 0)); storage = .float(a)
        case .double(var a):
            storage = .double([]); a.append(value.doubleValue ?? 0); storage = .double(a)
        case .string(var a):
            storage = .string([]); a.append(value.stringValue ?? ""); storage = .string(a)
        case .value(var a):
            storage = .value([]); a.append(value); storage = .value(a)
        case .sparse(var a):
            storage = .sparse(SparseRows())
            if case .sparse(let v) = value { a.append(v) } else { a.append(SparseVector()) }
            storage = .sparse(a)
        }
    }

    /// Appends the rows of `other`, a column of the same field (so of the same storage kind).
    mutating func append(contentsOf other: Column) {
        let row = count
        if other.nulls != nil || nulls != nil {
            var b = nulls ?? Bitset(count: row)
            for i in 0..<other.count { b.append(other.nulls?[i] ?? false) }
            nulls = b
        }
        // Swap the array out of the enum so the append is in place, not a copy.
        func incoming<T>(_ extract: (Storage) -> [T]?) -> [T] {
            guard let b = extract(other.storage) else { preconditionFailure("columns of one field with different storage") }
            return b
        }
        switch storage {
        case .bool(var a):
            storage = .bool([]); a.append(contentsOf: incoming { if case .bool(let b) = $0 { b } else { nil } }); storage = .bool(a)
        case .int(var a):
            storage = .int([]); a.append(contentsOf: incoming { if case .int(let b) = $0 { b } else { nil } }); storage = .int(a)
        case .float(var a):
            storage = .float([]); a.append(contentsOf: incoming { if case .float(let b) = $0 { b } else { nil } }); storage = .float(a)
        case .double(var a):
            storage = .double([]); a.append(contentsOf: incoming { if case .double(let b) = $0 { b } else { nil } }); storage = .double(a)
        case .string(var a):
            storage = .string([]); a.append(contentsOf: incoming { if case .string(let b) = $0 { b } else { nil } }); storage = .string(a)
        case .value(var a):
            storage = .value([]); a.append(contentsOf: incoming { if case .value(let b) = $0 { b } else { nil } }); storage = .value(a)
        case .sparse(var a):
            guard case .sparse(let b) = other.storage else { preconditionFailure("columns of one field with different storage") }
            storage = .sparse(SparseRows()); a.append(contentsOf: b); storage = .sparse(a)
        }
    }

    /// A new column holding the rows `parts[i].rows` of `parts[i].column` (columns of one
    /// field, so of one storage kind), in that order.
    static func gathering(_ parts: [(column: Column, rows: [Int])]) -> Column {
        precondition(!parts.isEmpty)
        if parts.count == 1 { return parts[0].column.gather(parts[0].rows) }
        let total = parts.reduce(0) { $0 + $1.rows.count }
        var nulls: Bitset? = nil
        if parts.contains(where: { $0.column.nulls != nil }) {
            var b = Bitset(count: total)
            var at = 0
            for (column, rows) in parts {
                if let n = column.nulls { for (i, r) in rows.enumerated() where n[r] { b[at + i] = true } }
                at += rows.count
            }
            nulls = b.isEmpty ? nil : b
        }
        func joined<T>(_ extract: (Storage) -> [T]?) -> [T] {
            var out = [T]()
            out.reserveCapacity(total)
            for (column, rows) in parts {
                guard let a = extract(column.storage) else { preconditionFailure("columns of one field with different storage") }
                for r in rows { out.append(a[r]) }
            }
            return out
        }
        let storage: Storage
        switch parts[0].column.storage {
        case .bool: storage = .bool(joined { if case .bool(let a) = $0 { a } else { nil } })
        case .int: storage = .int(joined { if case .int(let a) = $0 { a } else { nil } })
        case .float: storage = .float(joined { if case .float(let a) = $0 { a } else { nil } })
        case .double: storage = .double(joined { if case .double(let a) = $0 { a } else { nil } })
        case .string: storage = .string(joined { if case .string(let a) = $0 { a } else { nil } })
        case .value: storage = .value(joined { if case .value(let a) = $0 { a } else { nil } })
        case .sparse:
            var out = SparseRows()
            for (column, rows) in parts {
                guard case .sparse(let a) = column.storage else { preconditionFailure("columns of one field with different storage") }
                out.append(contentsOf: a.gather(rows))
            }
            storage = .sparse(out)
        }
        return Column(storage: storage, nulls: nulls)
    }

    /// A new column holding the rows `rows`, in that order.
    func gather(_ rows: [Int]) -> Column {
        var newNulls: Bitset? = nil
        if let nulls {
            var b = Bitset(count: rows.count)
            for (i, r) in rows.enumerated() where nulls[r] { b[i] = true }
            newNulls = b.isEmpty ? nil : b
        }
        switch storage {
        case .bool(let a): return Column(storage: .bool(rows.map { a[$0] }), nulls: newNulls)
        case .int(let a): return Column(storage: .int(rows.map { a[$0] }), nulls: newNulls)
        case .float(let a): return Column(storage: .float(rows.map { a[$0] }), nulls: newNulls)
        case .double(let a): return Column(storage: .double(rows.map { a[$0] }), nulls: newNulls)
        case .string(let a): return Column(storage: .string(rows.map { a[$0] }), nulls: newNulls)
        case .value(let a): return Column(storage: .value(rows.map { a[$0] }), nulls: newNulls)
        case .sparse(let a): return Column(storage: .sparse(a.gather(rows)), nulls: newNulls)
        }
    }
}

/// Min/max statistics of a block of rows of a numeric or string column in a sealed segment.
struct BlockStats: Sendable, Hashable {
    /// The first row of the block.
    var firstRow: Int
    /// The number of rows in the block.
    var rowCount: Int
    /// Smallest and largest non-null value; `nil` when every row of the block is null
    /// or the column type has no order (bool, JSON, arrays).
    var min: Value?
    var max: Value?
    /// The number of null rows in the block.
    var nullCount: Int
}

/// Read access to the scalar columns of one segment (growing or sealed), as the filter
/// evaluator and result materialization see it.
protocol SegmentColumns: Sendable {
    /// The number of rows, including deleted ones.
    var rowCount: Int { get }
    /// The column of a schema field (not vectors), or `$meta` for the dynamic fields.
    func column(named name: String) -> Column?
    /// The block statistics of a column, when the segment is sealed.
    func blockStats(named name: String) -> [BlockStats]?
}
