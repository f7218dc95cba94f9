/// Rows given column by column, for `Database.insert(_:columns:partition:)` and
/// `Database.upsert(_:columns:partition:)`: one typed array per field instead of a ``Row`` per row.
///
/// A vector field's column is one contiguous row-major array (`n × dimension` floats), so a
/// million 128-d vectors are one `[Float]`, not a million `Value`s. Every column must have the
/// same number of rows. Fields left out are filled as in a row insert (the default value, or
/// null when nullable); an `autoID` primary key is left out of an insert and generated. With
/// dynamic fields on, a column whose name is not in the schema becomes a dynamic field of each
/// row (null rows included, as `null`).
///
/// ```swift
/// let batch = ColumnBatch([
///     "id": .int64([1, 2, 3]),
///     "vector": .floatVectors(flat, dimension: 128),   // 3 × 128 floats
///     "text": .strings(["a", "b", "c"]),
/// ])
/// try db.insert("docs", columns: batch)
/// ```
public struct ColumnBatch: Sendable, Equatable {
    /// The columns by field name.
    public var columns: [String: FieldColumn]

    /// A batch of these columns.
    public init(_ columns: [String: FieldColumn] = [:]) { self.columns = columns }

    /// The column of field `name`, if the batch has one.
    public subscript(name: String) -> FieldColumn? {
        get { columns[name] }
        set { columns[name] = newValue }
    }

    /// The number of rows: that of the first column by name (0 without columns). An insert
    /// refuses a batch whose columns differ in length.
    public var rowCount: Int { columns.min { $0.key < $1.key }?.value.count ?? 0 }

    /// The batch as rows (each cell boxed as a ``Value``, `.null` for a null cell): the form a
    /// row insert takes, for backends that write rows.
    ///
    /// - Throws: `.invalidArgument` when the columns differ in length, a vector column is not
    ///   whole vectors, or a null mask has the wrong length (as a column insert would).
    /// - Complexity: O(cells).
    public func rows() throws -> [Row] {
        let n = try ColumnPreparer.rowCount(self)
        var rows = [Row](repeating: Row(minimumCapacity: columns.count), count: n)
        for (name, column) in columns {
            for i in 0..<min(n, column.count) { rows[i][name] = column.value(at: i) }
        }
        return rows
    }
}

/// The values of one field across the rows of a ``ColumnBatch``, in a typed array, with an
/// optional null mask.
///
/// A column's element type need not be the field's exact type: an `int64` column fills an
/// `int8`…`int64` field (range-checked), a `float` or `double` column a `float` or `double`
/// field, a `values` column any field. Each cell is then checked exactly as the same value in
/// a row insert would be.
public struct FieldColumn: Sendable, Equatable {
    /// The typed storage of a column.
    public enum Values: Sendable, Equatable {
        /// `bool` values.
        case bool([Bool])
        /// Integers, for the `int8`…`int64` fields.
        case int64([Int64])
        /// 32-bit floats, for `float` (and `double`) fields.
        case float([Float])
        /// 64-bit floats, for `double` (and `float`) fields.
        case double([Double])
        /// Strings, for `varchar` fields.
        case string([String])
        /// One ``Value`` per row: JSON and array fields, dynamic fields, or any field.
        case values([Value])
        /// Row-major float vectors, `dimension` floats per row: `floatVector`, `float16Vector`
        /// and `bfloat16Vector` fields (the half types round each component on write).
        case floatVectors([Float], dimension: Int)
        /// Row-major binary vectors, `dimension / 8` bytes per row (`dimension` in bits, most
        /// significant bit first), for `binaryVector` fields.
        case binaryVectors([UInt8], dimension: Int)
        /// One sparse vector per row, for `sparseFloatVector` fields.
        case sparseVectors([SparseVector])
    }

    /// The values, one per row (a vector column holds `dimension` components per row).
    public var values: Values
    /// `true` for the rows that are null; `nil` when none is. A null row's entry in `values` is
    /// ignored (any placeholder). Refused for a field that is not nullable and has no default.
    public var nulls: [Bool]?

    /// A column of `values`, with `nulls` marking null rows.
    public init(_ values: Values, nulls: [Bool]? = nil) {
        self.values = values
        self.nulls = nulls
    }

    /// A `bool` column.
    public static func bools(_ values: [Bool], nulls: [Bool]? = nil) -> FieldColumn { .init(.bool(values), nulls: nulls) }
    /// An integer column (any integer field).
    public static func int64(_ values: [Int64], nulls: [Bool]? = nil) -> FieldColumn { .init(.int64(values), nulls: nulls) }
    /// A 32-bit float column.
    public static func floats(_ values: [Float], nulls: [Bool]? = nil) -> FieldColumn { .init(.float(values), nulls: nulls) }
    /// A 64-bit float column.
    public static func doubles(_ values: [Double], nulls: [Bool]? = nil) -> FieldColumn { .init(.double(values), nulls: nulls) }
    /// A string column (`varchar`).
    public static func strings(_ values: [String], nulls: [Bool]? = nil) -> FieldColumn { .init(.string(values), nulls: nulls) }
    /// A column of ``Value``s (JSON, arrays, dynamic fields; `.null` for null rows).
    public static func values(_ values: [Value]) -> FieldColumn { .init(.values(values)) }
    /// A float vector column: `values.count / dimension` row-major vectors.
    public static func floatVectors(_ values: [Float], dimension: Int) -> FieldColumn {
        .init(.floatVectors(values, dimension: dimension))
    }
    /// A binary vector column: `values.count / (dimension / 8)` row-major bit vectors.
    public static func binaryVectors(_ values: [UInt8], dimension: Int) -> FieldColumn {
        .init(.binaryVectors(values, dimension: dimension))
    }

    /// A sparse vector column: one ``SparseVector`` per row.
    public static func sparseVectors(_ values: [SparseVector]) -> FieldColumn { .init(.sparseVectors(values)) }

    /// The number of rows (for a vector column, whole vectors; 0 for a dimension below 1).
    public var count: Int {
        switch values {
        case .bool(let a): a.count
        case .int64(let a): a.count
        case .float(let a): a.count
        case .double(let a): a.count
        case .string(let a): a.count
        case .values(let a): a.count
        case .floatVectors(let a, let d): d > 0 ? a.count / d : 0
        case .binaryVectors(let a, let d): d >= 8 ? a.count / (d / 8) : 0
        case .sparseVectors(let a): a.count
        }
    }

    /// Whether row `i` is null (marked in ``nulls``, or `.null` in a `values` column).
    public func isNull(_ i: Int) -> Bool {
        if let nulls, i < nulls.count, nulls[i] { return true }
        if case .values(let a) = values { return a[i].isNull }
        return false
    }

    /// Row `i` boxed as a ``Value`` as a row insert would give it (`.null` for a null row).
    ///
    /// - Complexity: O(1), or O(dimension) for a vector.
    public func value(at i: Int) -> Value {
        if isNull(i) { return .null }
        switch values {
        case .bool(let a): return .bool(a[i])
        case .int64(let a): return .int(a[i])
        case .float(let a): return .double(Double(a[i]))
        case .double(let a): return .double(a[i])
        case .string(let a): return .string(a[i])
        case .values(let a): return a[i]
        case .floatVectors(let a, let d): return .vector(Array(a[(i * d)..<((i + 1) * d)]))
        case .binaryVectors(let a, let d): return .bytes(Array(a[(i * d / 8)..<((i + 1) * d / 8)]))
        case .sparseVectors(let a): return .sparse(a[i])
        }
    }
}
