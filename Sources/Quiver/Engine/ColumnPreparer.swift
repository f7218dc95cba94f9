/// Validates a ``ColumnBatch`` against a schema and converts it to a `StoredBatch`, with the
/// checks and error messages of a row insert (`RowPreparer`).
///
/// A column whose element type is the field's stored type (an `int64` column of an integer
/// field, `float`/`double` of a float field, `string` of a varchar field, `bool`, float vectors
/// of the field's dimension, binary vectors) is checked and kept as one array: no cell is
/// boxed. Any other column, and any column in which a check fails, goes cell by cell through
/// `RowPreparer`'s checks on the boxed value, so a column insert accepts and refuses exactly
/// what the same rows would, with the same messages.
enum ColumnPreparer {
    /// - Parameter generatesKeys: `true` for inserts into an `autoID` collection: the key must be
    ///   absent (the batch comes back without a primary-key column; the write assigns it).
    /// - Throws: `.invalidArgument` for columns of different lengths, a vector column whose
    ///   length is not a multiple of its dimension, a null mask of the wrong length, and what
    ///   the rows would throw; `.dimensionMismatch`.
    static func prepare(_ batch: ColumnBatch, schema: CollectionSchema, generatesKeys: Bool) throws -> StoredBatch {
        let n = try rowCount(batch)
        var dynamic = [(String, FieldColumn)]()
        for (name, column) in batch.columns.sorted(by: { $0.key < $1.key }) {
            if try RowPreparer.declaredField(name, schema: schema, generatesKeys: generatesKeys, row: 0) == nil {
                dynamic.append((name, column))
            }
        }
        var stored = StoredBatch(rowCount: n, columns: [:], vectors: [:])
        for field in schema.fields {
            if let column = batch.columns[field.name] {
                if field.dataType.isVector {
                    stored.vectors[field.name] = try vectors(column, field: field, rows: n)
                } else {
                    stored.columns[field.name] = try scalars(column, field: field, rows: n)
                }
            } else if !(field.isPrimaryKey && generatesKeys) && schema.function(writing: field.name) == nil {
                let value = try RowPreparer.absentValue(field, row: 0)
                var c = Column(emptyFor: field.dataType)
                for _ in 0..<n { c.append(value) }
                stored.columns[field.name] = c
            }
        }
        schema.applyFunctions(to: &stored.columns, rows: n)
        if schema.enableDynamicField {
            var meta = [[String: Value]](repeating: [:], count: n)
            for (name, column) in dynamic {
                for i in 0..<n { meta[i][name] = try RowPreparer.dynamicValue(column.value(at: i), key: name, row: i) }
            }
            stored.columns[dynamicFieldName] = Column(storage: .value(meta.map { .object($0) }), nulls: nil)
        }
        return stored
    }

    /// The batch's row count, when every column (and null mask) has it.
    static func rowCount(_ batch: ColumnBatch) throws -> Int {
        var n: (name: String, count: Int)? = nil
        for (name, column) in batch.columns.sorted(by: { $0.key < $1.key }) {
            var whole = true
            var (values, d) = (0, 0)
            switch column.values {
            case .floatVectors(let a, let dimension): (values, d) = (a.count, dimension); whole = d >= 1 && a.count % d == 0
            case .binaryVectors(let a, let dimension):
                (values, d) = (a.count, dimension); whole = d >= 8 && d % 8 == 0 && a.count % (d / 8) == 0
            default: break
            }
            guard whole else {
                throw QuiverError.invalidArgument("column '\(name)' holds \(values) values, not whole vectors of dimension \(d)")
            }
            if let nulls = column.nulls, nulls.count != column.count {
                throw QuiverError.invalidArgument("column '\(name)' has \(nulls.count) null flags for \(column.count) rows")
            }
            if let n, n.count != column.count {
                throw QuiverError.invalidArgument(
                    "columns differ in length: '\(n.name)' has \(n.count) rows, '\(name)' has \(column.count)")
            }
            n = n ?? (name, column.count)
        }
        return n?.count ?? 0
    }

    /// A scalar field's column, kept as its array when it has the stored type and passes.
    private static func scalars(_ column: FieldColumn, field: FieldSchema, rows n: Int) throws -> Column {
        if let kept = typedScalars(column, field: field) { return kept }
        var c = Column(emptyFor: field.dataType)
        for i in 0..<n { c.append(try RowPreparer.storedValue(column.value(at: i), field: field, row: i)) }
        return c
    }

    /// The typed fast path of `scalars`; `nil` when the cells must be checked one by one
    /// (another element type, a null that takes a default or is refused, a failing check).
    private static func typedScalars(_ column: FieldColumn, field: FieldSchema) -> Column? {
        let nullRows = column.nulls.flatMap { m in m.contains(true) ? m : nil }
        if nullRows != nil && (!field.nullable || field.defaultValue != nil) { return nil }
        let nulls = nullRows.map { m in
            var b = Bitset(count: m.count)
            for (i, isNull) in m.enumerated() where isNull { b[i] = true }
            return b
        }
        /// `a` with null rows set to `zero` (the placeholder typed storage holds for them).
        func cleared<T>(_ a: [T], _ zero: T) -> [T] {
            guard let nullRows else { return a }
            var a = a
            for (i, isNull) in nullRows.enumerated() where isNull { a[i] = zero }
            return a
        }
        func live<T>(_ a: [T], _ ok: (T) -> Bool) -> Bool {
            a.indices.allSatisfy { i in nullRows?[i] == true || ok(a[i]) }
        }
        switch (field.dataType, column.values) {
        case (.bool, .bool(let a)):
            return Column(storage: .bool(cleared(a, false)), nulls: nulls)
        case (.int8, .int64(let a)), (.int16, .int64(let a)), (.int32, .int64(let a)), (.int64, .int64(let a)):
            let range = field.dataType.integerRange!
            guard field.dataType == .int64 || live(a, range.contains) else { return nil }
            return Column(storage: .int(cleared(a, 0)), nulls: nulls)
        case (.float, .float(let a)):
            guard live(a, \.isFinite) else { return nil }
            return Column(storage: .float(cleared(a, 0)), nulls: nulls)
        case (.float, .double(let a)):
            guard live(a, { $0.isFinite && Float($0).isFinite }) else { return nil }
            return Column(storage: .float(cleared(a.map { Float($0) }, 0)), nulls: nulls)
        case (.double, .double(let a)):
            guard live(a, \.isFinite) else { return nil }
            return Column(storage: .double(cleared(a, 0)), nulls: nulls)
        case (.double, .float(let a)):
            guard live(a, \.isFinite) else { return nil }
            return Column(storage: .double(cleared(a.map { Double($0) }, 0)), nulls: nulls)
        case (.varchar(let maxLength), .string(let a)):
            guard live(a, { $0.utf8.count <= maxLength }) else { return nil }
            return Column(storage: .string(cleared(a, "")), nulls: nulls)
        case (.sparseFloatVector, .sparseVectors(let a)) where nulls == nil:
            // A SparseVector is checked when it is made.
            return Column(storage: .sparse(SparseRows(a)), nulls: nil)
        default:
            return nil
        }
    }

    /// A vector field's column, kept as its array when its dimension matches and every
    /// component passes.
    private static func vectors(_ column: FieldColumn, field: FieldSchema, rows n: Int) throws -> StoredBatch.Vectors {
        let d = field.dataType.dimension!
        if column.nulls?.contains(true) != true {
            switch (field.dataType, column.values) {
            case (.floatVector, .floatVectors(let a, d)):
                if allFinite(a) { return .float(a) }
            case (.float16Vector, .floatVectors(let a, d)), (.bfloat16Vector, .floatVectors(let a, d)):
                let format = VectorStorage.halfFormat(field.dataType)
                var half = [UInt16](repeating: 0, count: a.count)
                var ok = true
                for i in a.indices {
                    half[i] = HalfConversion.narrow(a[i], format)
                    if !a[i].isFinite || !Kernels.widen(half[i], format).isFinite { ok = false; break }
                }
                if ok { return .half(half) }
            case (.binaryVector, .binaryVectors(let a, d)):
                return .binary(a)
            default: break
            }
        }
        // Cell by cell: the row insert's checks and messages.
        var boxed = [Value]()
        boxed.reserveCapacity(n)
        for i in 0..<n { boxed.append(try RowPreparer.storedValue(column.value(at: i), field: field, row: i)) }
        return StoredBatch.vectors(boxed, field: field)
    }

    /// Whether every component is finite (no NaN or infinity), in one pass.
    private static func allFinite(_ a: [Float]) -> Bool {
        a.withUnsafeBufferPointer { p in
            // x - x is 0 for a finite x and NaN otherwise; the sum stays 0 only if all are finite.
            var acc: Float = 0
            var i = 0
            while i < p.count {
                let end = min(i + 4096, p.count)
                var s: Float = 0
                for j in i..<end { s += p[j] - p[j] }
                acc += s
                if !acc.isFinite || acc != 0 { return false }
                i = end
            }
            return true
        }
    }
}
