/// Validated rows in stored form, column by column: what an insert or upsert logs to the WAL
/// and appends to the growing segment.
///
/// The one form every write takes: a row insert converts its prepared rows into one
/// (`init(storedRows:schema:)`), a column insert builds one from its typed arrays
/// (`ColumnPreparer`) without boxing a cell, and WAL replay decodes one (or converts the rows of
/// a record written before columnar records existed).
struct StoredBatch: Sendable, Equatable {
    /// A vector field's rows, row-major, in the growing segment's storage type.
    enum Vectors: Sendable, Equatable {
        case float([Float])
        /// float16 or bfloat16 bit patterns.
        case half([UInt16])
        case binary([UInt8])
    }

    var rowCount: Int
    /// Every scalar schema field (the primary key included, once assigned), and `$meta` when
    /// dynamic fields are on.
    var columns: [String: Column]
    /// Every vector field.
    var vectors: [String: Vectors]

    /// The rows `RowPreparer.prepare` (or `checkStored`) returned, as columns.
    init(storedRows rows: [Row], schema: CollectionSchema) {
        rowCount = rows.count
        columns = [:]
        vectors = [:]
        for field in schema.fields {
            let name = field.name
            guard field.dataType.isVector else {
                var column = Column(emptyFor: field.dataType)
                for row in rows { column.append(row[name] ?? .null) }
                columns[name] = column
                continue
            }
            vectors[name] = Self.vectors(rows.map { $0[name] ?? .null }, field: field)
        }
        if schema.enableDynamicField {
            columns[dynamicFieldName] = Column(storage: .value(rows.map { $0[dynamicFieldName] ?? .object([:]) }), nulls: nil)
        }
    }

    /// The stored values (`.vector` or `.bytes`, checked by `FieldValidator`) of vector field
    /// `field`, in its storage type.
    static func vectors(_ values: [Value], field: FieldSchema) -> Vectors {
        let perRow = field.dataType.isBinaryVector ? field.dataType.vectorRowBytes : field.dataType.dimension!
        switch field.dataType {
        case .floatVector:
            var a = [Float]()
            a.reserveCapacity(values.count * perRow)
            for case .vector(let v) in values { a.append(contentsOf: v) }
            return .float(a)
        case .binaryVector:
            var a = [UInt8]()
            a.reserveCapacity(values.count * perRow)
            for case .bytes(let b) in values { a.append(contentsOf: b) }
            return .binary(a)
        default:
            let format = VectorStorage.halfFormat(field.dataType)
            var a = [UInt16]()
            a.reserveCapacity(values.count * perRow)
            for case .vector(let v) in values { a.append(contentsOf: HalfConversion.narrow(v, format)) }
            return .half(a)
        }
    }

    init(rowCount: Int, columns: [String: Column], vectors: [String: Vectors]) {
        self.rowCount = rowCount
        self.columns = columns
        self.vectors = vectors
    }

    /// The primary keys, in row order.
    func keys(_ field: FieldSchema) -> [PrimaryKey] {
        switch columns[field.name]?.storage {
        case .int(let a)?: return a.map { .int($0) }
        case .string(let a)?: return a.map { .string($0) }
        default: preconditionFailure("primary key column must be int64 or varchar")
        }
    }

    /// Sets the primary keys to `first`, `first + 1`, … (an `autoID` insert).
    mutating func assignKeys(_ field: FieldSchema, from first: Int64) {
        columns[field.name] = Column(storage: .int(Array(first..<(first + Int64(rowCount)))), nulls: nil)
    }

    /// A rough count of the bytes the rows take in the growing segment (its flush threshold).
    var byteEstimate: Int {
        var total = 0
        for column in columns.values {
            switch column.storage {
            case .bool(let a): total += a.count
            case .int(let a): total += a.count * 8
            case .float(let a): total += a.count * 8
            case .double(let a): total += a.count * 8
            case .string(let a): total += a.reduce(0) { $0 + $1.utf8.count + 16 }
            case .value(let a): total += a.reduce(0) { $0 + Self.estimate($1) }
            case .sparse(let a): total += a.pairCount * 8 + a.count * 8
            }
        }
        for v in vectors.values {
            switch v {
            case .float(let a): total += a.count * 4 + rowCount * 4
            case .half(let a): total += a.count * 2 + rowCount * 4
            case .binary(let a): total += a.count + rowCount * 4
            }
        }
        return total
    }

    private static func estimate(_ value: Value) -> Int {
        switch value {
        case .null, .bool: 1
        case .int, .double: 8
        case .string(let s): s.utf8.count + 16
        case .vector(let v): v.count * 4
        case .bytes(let b): b.count
        case .array(let a): a.reduce(16) { $0 + estimate($1) }
        case .object(let o): o.reduce(16) { $0 + $1.key.utf8.count + estimate($1.value) }
        case .sparse(let v): v.count * 8 + 16
        }
    }
}

// MARK: - WAL encoding

/// The body of a columnar WAL record (see `Documentation/FileFormats.md` § WAL):
///
/// ```
/// body   := rowCount varint | columnCount varint | column*        (columns sorted by name)
/// column := name string | kind u8 | hasNulls u8 | [nulls: ⌈rows/64⌉ × u64] | data
/// data   := bool: rows × u8 | int: rows × i64 | float: rows × f32 | double: rows × f64
///         | string: rows × string | value: rows × value
///         | floatVec: dim varint, rows×dim × f32 | halfVec: dim varint, rows×dim × u16
///         | binaryVec: bytesPerRow varint, rows×bytesPerRow × u8
///         | sparse: rows × count varint, Σcount × u32 index, Σcount × f32 weight
/// ```
extension StoredBatch {
    private enum Kind: UInt8 {
        case bool = 1, int, float, double, string, value, floatVectors, halfVectors, binaryVectors, sparse
    }

    /// Writes the batch.
    func encode(into w: inout ByteWriter) {
        w.writeVarint(UInt64(rowCount))
        w.writeVarint(UInt64(columns.count + vectors.count))
        for name in (Array(columns.keys) + Array(vectors.keys)).sorted() {
            w.writeString(name)
            if let column = columns[name] {
                let kind: Kind
                switch column.storage {
                case .bool: kind = .bool
                case .int: kind = .int
                case .float: kind = .float
                case .double: kind = .double
                case .string: kind = .string
                case .value: kind = .value
                case .sparse: kind = .sparse
                }
                w.writeInteger(kind.rawValue)
                w.writeInteger(UInt8(column.nulls == nil ? 0 : 1))
                if let nulls = column.nulls { w.writeArray(nulls.words) }
                switch column.storage {
                case .bool(let a): w.writeArray(a.map { UInt8($0 ? 1 : 0) })
                case .int(let a): w.writeArray(a)
                case .float(let a): w.writeFloats(a)
                case .double(let a): w.writeArray(a.map(\.bitPattern))
                case .string(let a): for s in a { w.writeString(s) }
                case .value(let a): for v in a { w.writeValue(v) }
                case .sparse(let a): w.writeSparseRows(a, 0..<a.count)
                }
            } else {
                let v = vectors[name]!
                var width = 0
                if rowCount > 0 {
                    switch v {
                    case .float(let a): width = a.count / rowCount
                    case .half(let a): width = a.count / rowCount
                    case .binary(let a): width = a.count / rowCount
                    }
                }
                switch v {
                case .float(let a):
                    w.writeInteger(Kind.floatVectors.rawValue); w.writeInteger(UInt8(0)); w.writeVarint(UInt64(width)); w.writeFloats(a)
                case .half(let a):
                    w.writeInteger(Kind.halfVectors.rawValue); w.writeInteger(UInt8(0)); w.writeVarint(UInt64(width)); w.writeArray(a)
                case .binary(let a):
                    w.writeInteger(Kind.binaryVectors.rawValue); w.writeInteger(UInt8(0)); w.writeVarint(UInt64(width)); w.writeBytes(a)
                }
            }
        }
    }

    /// Reads a batch written by ``encode(into:)``: well-formed, not yet checked against
    /// a schema (see ``checked(schema:)``).
    static func decode(_ r: inout ByteReader) throws -> StoredBatch {
        let rows = try r.readCount(limit: r.remaining)
        let count = try r.readCount(limit: r.remaining)
        var batch = StoredBatch(rowCount: rows, columns: [:], vectors: [:])
        for _ in 0..<count {
            let name = try r.readString()
            guard batch.columns[name] == nil, batch.vectors[name] == nil else { throw r.corruption("column '\(name)' appears twice") }
            let raw: UInt8 = try r.readInteger()
            guard let kind = Kind(rawValue: raw) else { throw r.corruption("unknown column kind \(raw)") }
            let hasNulls: UInt8 = try r.readInteger()
            var nulls: Bitset? = nil
            if hasNulls != 0 {
                var b = Bitset(count: rows)
                let words: [UInt64] = try r.readArray((rows + 63) / 64)
                guard words.last.map({ rows % 64 == 0 || $0 >> UInt64(rows % 64) == 0 }) ?? true else {
                    throw r.corruption("null bits past the last row")
                }
                b.words = words
                nulls = b
            }
            func width() throws -> Int {
                let w = try r.readCount(limit: r.remaining)
                guard w > 0 || rows == 0, rows == 0 || w <= r.remaining / rows else { throw r.corruption("vector width \(w) past the record") }
                return w
            }
            switch kind {
            case .bool: batch.columns[name] = Column(storage: .bool(try r.readArray(rows, UInt8.self).map { $0 != 0 }), nulls: nulls)
            case .int: batch.columns[name] = Column(storage: .int(try r.readArray(rows)), nulls: nulls)
            case .float: batch.columns[name] = Column(storage: .float(try r.readFloats(rows)), nulls: nulls)
            case .double:
                batch.columns[name] = Column(storage: .double(try r.readArray(rows, UInt64.self).map(Double.init(bitPattern:))), nulls: nulls)
            case .string:
                guard rows <= r.remaining else { throw r.corruption("unexpected end of data") }
                batch.columns[name] = Column(storage: .string(try (0..<rows).map { _ in try r.readString() }), nulls: nulls)
            case .value:
                guard rows <= r.remaining else { throw r.corruption("unexpected end of data") }
                batch.columns[name] = Column(storage: .value(try (0..<rows).map { _ in try r.readValue() }), nulls: nulls)
            case .sparse: batch.columns[name] = Column(storage: .sparse(try r.readSparseRows(rows)), nulls: nulls)
            case .floatVectors: batch.vectors[name] = .float(try r.readFloats(rows * (try width())))
            case .halfVectors: batch.vectors[name] = .half(try r.readArray(rows * (try width())))
            case .binaryVectors: batch.vectors[name] = .binary(try r.readArray(rows * (try width())))
            }
            if nulls != nil, batch.vectors[name] != nil { throw r.corruption("vector column '\(name)' has nulls") }
        }
        return batch
    }

    /// The batch as validated for `schema`, for replaying a record whose checksum verified but
    /// whose content may be anything: exactly the schema's fields (and `$meta`, objects, when
    /// dynamic fields are on), each passing the checks of a column insert.
    ///
    /// - Throws: `.invalidArgument` or `.dimensionMismatch` naming the field; replay reports it
    ///   as `.corruption` of the WAL file.
    func checked(schema: CollectionSchema) throws -> StoredBatch {
        var input = ColumnBatch()
        for field in schema.fields {
            let name = field.name
            if let column = columns[name] {
                let nulls = column.nulls.map { b in (0..<rowCount).map { b[$0] } }
                switch column.storage {
                case .bool(let a): input[name] = .bools(a, nulls: nulls)
                case .int(let a): input[name] = .int64(a, nulls: nulls)
                case .float(let a): input[name] = .floats(a, nulls: nulls)
                case .double(let a): input[name] = .doubles(a, nulls: nulls)
                case .string(let a): input[name] = .strings(a, nulls: nulls)
                case .value(let a): input[name] = .init(.values(a), nulls: nulls)
                case .sparse(let a): input[name] = .init(.sparseVectors((0..<a.count).map { a[$0] }), nulls: nulls)
                }
            } else if let v = vectors[name] {
                let d = field.dataType.dimension!
                switch v {
                case .float(let a): input[name] = .floatVectors(a, dimension: d)
                case .binary(let a): input[name] = .binaryVectors(a, dimension: d)
                case .half(let a):
                    let format = VectorStorage.halfFormat(field.dataType)
                    input[name] = .floatVectors(a.map { Kernels.widen($0, format) }, dimension: d)
                }
            } else {
                throw QuiverError.invalidArgument("field '\(name)' is missing")
            }
        }
        let known = Set(schema.fields.map(\.name) + (schema.enableDynamicField ? [dynamicFieldName] : []))
        let unknown = (Array(columns.keys) + Array(vectors.keys)).filter { !known.contains($0) }.sorted()
        guard unknown.isEmpty else { throw QuiverError.invalidArgument("unknown fields \(unknown)") }
        for (name, column) in input.columns where column.count != rowCount {
            throw QuiverError.invalidArgument("column '\(name)' holds \(column.count) rows, the record \(rowCount)")
        }
        var checked = try ColumnPreparer.prepare(input, schema: schema, generatesKeys: false)
        if schema.enableDynamicField {
            guard let meta = columns[dynamicFieldName], case .value(let values) = meta.storage, meta.nulls == nil,
                  values.count == rowCount, values.allSatisfy({ if case .object = $0 { true } else { false } })
            else { throw QuiverError.invalidArgument("'\(dynamicFieldName)' is not a column of objects") }
            let field = FieldSchema(name: dynamicFieldName, dataType: .json)
            for v in values { _ = try FieldValidator.coerce(v, to: field, row: nil) }
            checked.columns[dynamicFieldName] = meta
        }
        return checked
    }
}

extension ByteWriter {
    /// The raw little-endian bytes of `values`.
    mutating func writeArray<T: FixedWidthInteger>(_ values: [T]) {
        #if _endian(little)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for v in values { writeInteger(v) }
        #endif
    }
}

extension ByteReader {
    /// `count` little-endian integers.
    mutating func readArray<T: FixedWidthInteger>(_ count: Int, _: T.Type = T.self) throws -> [T] {
        let size = MemoryLayout<T>.size
        guard count >= 0, count <= remaining / size else { throw corruption("unexpected end of data") }
        let raw = try readBytes(count * size)
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count { out[i] = T(littleEndian: raw.loadUnaligned(fromByteOffset: i * size, as: T.self)) }
            initialized = count
        }
    }
}
