import Foundation
import Quiver
import QuiverMilvusProtocol

/// Column data between Milvus's wire form (`schema.FieldData`: one column per field, every row's
/// value in one repeated field; vectors flattened; dynamic keys as one JSON object per row in the
/// `$meta` column) and Quiver's rows (`[String: Value]`, dynamic keys flattened into the row).
///
/// Every count and length on the wire is checked against the row count before anything is
/// indexed, so a malformed request is an error, never a crash.
package enum FieldConversion {
    package typealias Column = Milvus_Proto_Schema_FieldData

    // MARK: Wire columns → rows

    /// The rows of an insert or upsert.
    ///
    /// - Parameter numRows: the request's `num_rows` (0: taken from the first column).
    /// - Throws: `MilvusError` for a column that is not in the schema, a column whose length or
    ///   vector dimension does not match, malformed JSON, or a null in a field that cannot hold one.
    package static func rows(from columns: [Column], numRows: Int, schema: CollectionSchema) throws -> [Row] {
        let count = try rowCount(columns, numRows: numRows, schema: schema)
        var rows = [Row](repeating: [:], count: count)
        for column in columns {
            if column.isDynamic || column.fieldName == dynamicFieldName {
                guard schema.enableDynamicField else {
                    throw MilvusError.invalid("the collection has no dynamic fields; '\(column.fieldName)' cannot be inserted")
                }
                let objects = try values(of: column, type: .json, count: count)
                for (i, object) in objects.enumerated() {
                    switch object {
                    case .object(let keys):
                        for (key, value) in keys {
                            guard schema.field(named: key) == nil else {
                                throw MilvusError.invalid("dynamic key '\(key)' of row \(i) is also a schema field")
                            }
                            rows[i][key] = value
                        }
                    case .null: break
                    default: throw MilvusError.invalid("the dynamic field of row \(i) must be a JSON object")
                    }
                }
                continue
            }
            let field = try schemaField(of: column, schema: schema)
            let values = try values(of: column, type: field.dataType, count: count)
            for i in 0..<count { rows[i][field.name] = values[i] }
        }
        return rows
    }

    /// The columns of an insert or upsert as a ``ColumnBatch``, a float vector column's data
    /// kept as the one array it arrived in (other columns as ``Value``s, checked as by
    /// ``rows(from:numRows:schema:)``); `nil` when the request carries dynamic fields (a
    /// `$meta` column with a non-empty object), whose absent keys a column cannot express:
    /// those go through `rows(from:numRows:schema:)`.
    ///
    /// - Throws: as ``rows(from:numRows:schema:)``.
    package static func batch(from columns: [Column], numRows: Int, schema: CollectionSchema) throws -> ColumnBatch? {
        let count = try rowCount(columns, numRows: numRows, schema: schema)
        var batch = ColumnBatch()
        for column in columns {
            if column.isDynamic || column.fieldName == dynamicFieldName {
                // pymilvus sends `{}` per row for a collection with dynamic fields: nothing to store.
                guard schema.enableDynamicField,
                      try values(of: column, type: .json, count: count).allSatisfy({ $0 == .object([:]) || $0 == .null })
                else { return nil }
                continue
            }
            let field = try schemaField(of: column, schema: schema)
            if case .floatVector(let d) = field.dataType, column.validData.isEmpty, case .vectors(let v)? = column.field,
               v.dim == 0 || Int(v.dim) == d, case .floatVector(let f)? = v.data, f.data.count == count * d {
                batch[field.name] = .floatVectors(f.data, dimension: d)
            } else {
                batch[field.name] = .values(try values(of: column, type: field.dataType, count: count))
            }
        }
        return batch
    }

    /// The row count of a request's columns (`numRows`, or the first column's length when 0),
    /// after checking that no field appears twice.
    private static func rowCount(_ columns: [Column], numRows: Int, schema: CollectionSchema) throws -> Int {
        var seen = Set<String>()
        for column in columns where !seen.insert(column.fieldName).inserted {
            throw MilvusError.invalid("field '\(column.fieldName)' appears twice in the request")
        }
        var count = numRows
        if count == 0, let first = columns.first { count = try length(of: first, schema: schema) }
        guard count > 0 else { throw MilvusError.invalid("the request has no rows") }
        return count
    }

    /// The schema field a (non-dynamic) request column fills.
    private static func schemaField(of column: Column, schema: CollectionSchema) throws -> FieldSchema {
        guard let field = schema.field(named: column.fieldName) else {
            throw MilvusError.invalid("field '\(column.fieldName)' is not in the collection's schema")
        }
        return field
    }

    /// The number of rows a column holds.
    static func length(of column: Column, schema: CollectionSchema) throws -> Int {
        if !column.validData.isEmpty { return column.validData.count }
        switch column.field {
        case .vectors(let v)?:
            if case .sparseFloatVector(let s)? = v.data { return s.contents.count }
            let type = schema.field(named: column.fieldName)?.dataType
            let dim = Int(v.dim) > 0 ? Int(v.dim) : (type?.dimension ?? 0)
            guard dim > 0 else { throw MilvusError.invalid("vector field '\(column.fieldName)' has no dimension") }
            switch v.data {
            case .floatVector(let f)?: return f.data.count / dim
            case .float16Vector(let b)?, .bfloat16Vector(let b)?: return b.count / (2 * dim)
            case .binaryVector(let b)?: return b.count / max(1, dim / 8)
            default: return 0
            }
        case .scalars(let s)?:
            switch s.data {
            case .boolData(let a)?: return a.data.count
            case .intData(let a)?: return a.data.count
            case .longData(let a)?: return a.data.count
            case .floatData(let a)?: return a.data.count
            case .doubleData(let a)?: return a.data.count
            case .stringData(let a)?: return a.data.count
            case .jsonData(let a)?: return a.data.count
            case .arrayData(let a)?: return a.data.count
            default: return 0
            }
        default: return 0
        }
    }

    /// The `count` values of one column, nulls where `valid_data` says so. Nullable columns may
    /// carry only the valid rows' values (as pymilvus sends them) or one value per row.
    package static func values(of column: Column, type: DataType, count: Int) throws -> [Value] {
        let name = column.fieldName
        let valid = column.validData
        guard valid.isEmpty || valid.count == count else {
            throw MilvusError.invalid("field '\(name)' has \(valid.count) validity flags for \(count) rows")
        }
        let validCount = valid.isEmpty ? count : valid.reduce(0) { $0 + ($1 ? 1 : 0) }
        let present: [Value]
        if let dimension = type.dimension {
            guard case .vectors(let v)? = column.field else {
                throw MilvusError.invalid("field '\(name)' is a \(type.name) field; send vectors")
            }
            if v.dim != 0 && Int(v.dim) != dimension {
                throw MilvusError.invalid("the dim (\(v.dim)) of field data(\(name)) is not equal to schema dim (\(dimension))")
            }
            present = try vectorValues(v, type: type, name: name)
        } else if type.isSparseVector {
            guard case .vectors(let v)? = column.field, case .sparseFloatVector(let a)? = v.data else {
                throw MilvusError.invalid("field '\(name)' is a sparse_float_vector field; send sparse vectors")
            }
            present = try SparseConversion.values(a, field: name)
        } else {
            guard case .scalars(let s)? = column.field else {
                throw MilvusError.invalid("field '\(name)' is a \(type.name) field; send scalars")
            }
            present = try scalarValues(s, type: type, name: name)
        }
        if present.count == count { return valid.isEmpty ? present : zip(present, valid).map { $1 ? $0 : .null } }
        guard present.count == validCount else {
            throw MilvusError.invalid("field '\(name)' has \(present.count) values for \(count) rows (\(validCount) not null)")
        }
        var out = [Value]()
        out.reserveCapacity(count)
        var next = 0
        for isValid in valid {
            if isValid {
                out.append(present[next])
                next += 1
            } else {
                out.append(.null)
            }
        }
        return out
    }

    private static func vectorValues(_ v: Milvus_Proto_Schema_VectorField, type: DataType, name: String) throws -> [Value] {
        let dimension = type.dimension!
        func mismatch(_ elements: Int, per row: Int) -> MilvusError {
            MilvusError.invalid("the dim of field data(\(name)) is not equal to schema dim (\(dimension)): \(elements) values do not split into rows of \(row)")
        }
        switch (type, v.data) {
        case (.floatVector, .floatVector(let f)?):
            guard f.data.count % dimension == 0 else { throw mismatch(f.data.count, per: dimension) }
            return stride(from: 0, to: f.data.count, by: dimension).map { .vector(Array(f.data[$0..<$0 + dimension])) }
        case (.float16Vector, .float16Vector(let b)?), (.bfloat16Vector, .bfloat16Vector(let b)?):
            let rowBytes = 2 * dimension
            guard b.count % rowBytes == 0 else { throw mismatch(b.count, per: rowBytes) }
            let floats = HalfFloat.widen(b, float16: type == .float16Vector(dimension: dimension))
            return stride(from: 0, to: floats.count, by: dimension).map { .vector(Array(floats[$0..<$0 + dimension])) }
        case (.floatVector, .float16Vector?), (.floatVector, .bfloat16Vector?):
            throw MilvusError.invalid("field '\(name)' is a float vector field; send float vectors")
        case (.binaryVector, .binaryVector(let b)?):
            let rowBytes = dimension / 8
            guard rowBytes > 0, b.count % rowBytes == 0 else { throw mismatch(b.count, per: rowBytes) }
            let bytes = [UInt8](b)
            return stride(from: 0, to: bytes.count, by: rowBytes).map { .bytes(Array(bytes[$0..<$0 + rowBytes])) }
        default:
            throw MilvusError.invalid("field '\(name)' is a \(type.name) field; the request sends another vector type")
        }
    }

    private static func scalarValues(_ s: Milvus_Proto_Schema_ScalarField, type: DataType, name: String) throws -> [Value] {
        switch (type, s.data) {
        case (.bool, .boolData(let a)?): return a.data.map { .bool($0) }
        case (.int8, .intData(let a)?), (.int16, .intData(let a)?), (.int32, .intData(let a)?): return a.data.map { .int(Int64($0)) }
        case (.int64, .longData(let a)?): return a.data.map { .int($0) }
        case (.float, .floatData(let a)?): return a.data.map { .double(Double($0)) }
        case (.double, .doubleData(let a)?): return a.data.map { .double($0) }
        case (.varchar, .stringData(let a)?): return a.data.map { .string($0) }
        case (.json, .jsonData(let a)?):
            return try a.data.enumerated().map { i, bytes in
                do { return try Value(jsonData: bytes) } catch {
                    throw MilvusError.invalid("the JSON of field '\(name)' in row \(i) does not parse: \(error)")
                }
            }
        case (.array(let element, _), .arrayData(let a)?):
            return try a.data.map { cell in .array(try scalarValues(cell, type: element, name: name)) }
        case (_, nil) where type != .json:
            return []
        default:
            throw MilvusError.invalid("field '\(name)' is a \(type.name) field; the request sends another type")
        }
    }

    // MARK: Rows → wire columns

    /// What a result carries besides ids: the schema fields in schema order and whether the
    /// `$meta` column of dynamic keys is emitted.
    package struct Projection: Sendable {
        package var fields: [FieldSchema]
        package var dynamic: Bool
        /// The names for the response's `output_fields`: the fields, then the dynamic keys asked
        /// for by name (pymilvus keeps only those keys of `$meta`; none listed means all of them).
        package var outputNames: [String]

        /// The projection of `names` (a request's output fields; `*` is every field and key but a
        /// BM25 function's output field).
        package init(_ names: [String], schema: CollectionSchema, includePrimaryKey: Bool) {
            var wanted = Set<String>()
            var dynamicKeys = [String]()
            var allDynamic = false
            for name in names {
                if name == "*" {
                    // Every field but a BM25 function's output, which Milvus leaves out of `*`.
                    schema.fields.filter { !SchemaConversion.isBM25Output($0.name, in: schema) }.forEach { wanted.insert($0.name) }
                    allDynamic = true
                } else if schema.field(named: name) != nil {
                    wanted.insert(name)
                } else if name == dynamicFieldName {
                    allDynamic = true
                } else if !dynamicKeys.contains(name) {
                    dynamicKeys.append(name)
                }
            }
            if includePrimaryKey { wanted.insert(schema.primaryField.name) }
            fields = schema.fields.filter { wanted.contains($0.name) }
            dynamic = schema.enableDynamicField && (allDynamic || !dynamicKeys.isEmpty)
            outputNames = fields.map(\.name) + (allDynamic ? [] : dynamicKeys)
        }
    }

    /// One column per projected field (and `$meta` when dynamic keys are projected), in row order.
    package static func columns(of rows: [Row], projection: Projection, schema: CollectionSchema) -> [Column] {
        var columns = projection.fields.enumerated().map { _, field in
            column(field, id: fieldID(of: field.name, in: schema), values: rows.map { $0[field.name] ?? .null })
        }
        if projection.dynamic {
            let names = Set(schema.fields.map(\.name))
            var meta = Column()
            meta.type = .json
            meta.fieldName = dynamicFieldName
            meta.isDynamic = true
            var json = Milvus_Proto_Schema_JSONArray()
            json.data = rows.map { row in
                Data(Value.object(row.filter { !names.contains($0.key) }).jsonString.utf8)
            }
            var scalars = Milvus_Proto_Schema_ScalarField()
            scalars.data = .jsonData(json)
            meta.field = .scalars(scalars)
            columns.append(meta)
        }
        return columns
    }

    package static func fieldID(of name: String, in schema: CollectionSchema) -> Int64 {
        Int64(100 + (schema.fields.firstIndex { $0.name == name } ?? 0))
    }

    /// The column of `field` holding `values` (one per row); nulls are flagged in `valid_data`
    /// with a zero value in their place, as Milvus sends them.
    package static func column(_ field: FieldSchema, id: Int64, values: [Value]) -> Column {
        var column = Column()
        column.type = SchemaConversion.wireType(field.dataType)
        column.fieldName = field.name
        column.fieldID = id
        if field.nullable { column.validData = values.map { !$0.isNull } }
        if let dimension = field.dataType.dimension {
            var v = Milvus_Proto_Schema_VectorField()
            v.dim = Int64(dimension)
            switch field.dataType {
            case .floatVector:
                var f = Milvus_Proto_Schema_FloatArray()
                f.data.reserveCapacity(values.count * dimension)
                for value in values { f.data += padded(value.floatVector, dimension) }
                v.data = .floatVector(f)
            case .float16Vector, .bfloat16Vector:
                let half = field.dataType == .float16Vector(dimension: dimension)
                var bytes = [UInt8]()
                bytes.reserveCapacity(values.count * dimension * 2)
                for value in values {
                    for x in padded(value.floatVector, dimension) {
                        let bits = half ? HalfFloat.half(from: x) : HalfFloat.bfloat16(from: x)
                        bytes.append(UInt8(bits & 0xff))
                        bytes.append(UInt8(bits >> 8))
                    }
                }
                v.data = field.dataType == .float16Vector(dimension: dimension) ? .float16Vector(Data(bytes)) : .bfloat16Vector(Data(bytes))
            default:
                var bytes = [UInt8]()
                for value in values {
                    let row: [UInt8] = if case .bytes(let b) = value { b } else { [] }
                    bytes += row.count == dimension / 8 ? row : [UInt8](repeating: 0, count: dimension / 8)
                }
                v.data = .binaryVector(Data(bytes))
            }
            column.field = .vectors(v)
        } else if field.dataType.isSparseVector {
            var v = Milvus_Proto_Schema_VectorField()
            let a = SparseConversion.array(values)
            v.dim = a.dim
            v.data = .sparseFloatVector(a)
            column.field = .vectors(v)
        } else {
            column.field = .scalars(scalarField(field.dataType, values))
        }
        return column
    }

    private static func padded(_ vector: [Float]?, _ dimension: Int) -> [Float] {
        guard let vector, vector.count == dimension else { return [Float](repeating: 0, count: dimension) }
        return vector
    }

    private static func scalarField(_ type: DataType, _ values: [Value]) -> Milvus_Proto_Schema_ScalarField {
        var s = Milvus_Proto_Schema_ScalarField()
        switch type {
        case .bool:
            var a = Milvus_Proto_Schema_BoolArray()
            a.data = values.map { $0.boolValue ?? false }
            s.data = .boolData(a)
        case .int8, .int16, .int32:
            var a = Milvus_Proto_Schema_IntArray()
            a.data = values.map { Int32(truncatingIfNeeded: $0.intValue ?? 0) }
            s.data = .intData(a)
        case .int64:
            var a = Milvus_Proto_Schema_LongArray()
            a.data = values.map { $0.intValue ?? 0 }
            s.data = .longData(a)
        case .float:
            var a = Milvus_Proto_Schema_FloatArray()
            a.data = values.map { Float($0.doubleValue ?? 0) }
            s.data = .floatData(a)
        case .double:
            var a = Milvus_Proto_Schema_DoubleArray()
            a.data = values.map { $0.doubleValue ?? 0 }
            s.data = .doubleData(a)
        case .varchar:
            var a = Milvus_Proto_Schema_StringArray()
            a.data = values.map { $0.stringValue ?? "" }
            s.data = .stringData(a)
        case .json:
            var a = Milvus_Proto_Schema_JSONArray()
            a.data = values.map { $0.isNull ? Data() : Data($0.jsonString.utf8) }
            s.data = .jsonData(a)
        case .array(let element, _):
            var a = Milvus_Proto_Schema_ArrayArray()
            a.elementType = SchemaConversion.wireType(element)
            a.data = values.map { scalarField(element, $0.arrayValue ?? []) }
            s.data = .arrayData(a)
        default:
            break
        }
        return s
    }

    // MARK: Primary keys and template values

    /// The wire ids of primary keys (int64 or varchar).
    package static func ids(_ keys: [Value], schema: CollectionSchema) -> Milvus_Proto_Schema_IDs {
        var ids = Milvus_Proto_Schema_IDs()
        if schema.primaryField.dataType == .int64 {
            var a = Milvus_Proto_Schema_LongArray()
            a.data = keys.map { $0.intValue ?? 0 }
            ids.idField = .intID(a)
        } else {
            var a = Milvus_Proto_Schema_StringArray()
            a.data = keys.map { $0.stringValue ?? "" }
            ids.idField = .strID(a)
        }
        return ids
    }

    /// A filter's template values (`expr_template_values`) as Quiver's filter parameters.
    package static func templateValues(_ values: [String: Milvus_Proto_Schema_TemplateValue]) throws -> [String: Value] {
        try values.mapValues(templateValue)
    }

    package static func templateValue(_ t: Milvus_Proto_Schema_TemplateValue) throws -> Value {
        switch t.val {
        case .boolVal(let b)?: return .bool(b)
        case .int64Val(let i)?: return .int(i)
        case .floatVal(let d)?: return .double(d)
        case .stringVal(let s)?: return .string(s)
        case .arrayVal(let a)?: return try templateArray(a)
        case .bytesVal?, nil: throw MilvusError.invalid("a template value has no value Quiver can use")
        }
    }

    private static func templateArray(_ a: Milvus_Proto_Schema_TemplateArrayValue) throws -> Value {
        switch a.data {
        case .boolData(let d)?: return .array(d.data.map { .bool($0) })
        case .longData(let d)?: return .array(d.data.map { .int($0) })
        case .doubleData(let d)?: return .array(d.data.map { .double($0) })
        case .stringData(let d)?: return .array(d.data.map { .string($0) })
        case .arrayData(let d)?: return .array(try d.data.map(templateArray))
        case .jsonData(let d)?:
            return .array(try d.data.map { bytes in
                do { return try Value(jsonData: bytes) } catch {
                    throw MilvusError.invalid("a JSON template value does not parse: \(error)")
                }
            })
        case nil: return .array([])
        }
    }
}

/// IEEE 754 half precision and bfloat16, to and from `Float`, for the float16 and bfloat16
/// vectors that travel as little-endian bytes. Narrowing rounds to nearest, ties to even.
package enum HalfFloat {
    package static func float(fromHalf h: UInt16) -> Float {
        let sign: UInt32 = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1f
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24  // zero or subnormal
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7f80_0000 | mantissa << 13) }
        return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    }

    package static func half(from f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let magnitude = bits & 0x7fff_ffff
        if magnitude >= 0x7f80_0000 {  // infinity or NaN
            return sign | 0x7c00 | (magnitude > 0x7f80_0000 ? 0x200 : 0)
        }
        let exponent = Int(magnitude >> 23) - 127 + 15
        if exponent >= 31 { return sign | 0x7c00 }
        if exponent <= 0 {
            guard exponent >= -10 else { return sign }
            let mantissa = (magnitude & 0x7f_ffff) | 0x80_0000
            let shift = UInt32(14 - exponent)
            return sign | UInt16(roundShift(mantissa, by: shift))
        }
        let rounded = roundShift(UInt32(exponent) << 23 | (magnitude & 0x7f_ffff), by: 13)
        return sign | UInt16(min(rounded, 0x7c00))
    }

    package static func float(fromBFloat16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// Little-endian float16 (or bfloat16) values widened to `Float`; a trailing odd byte is ignored.
    package static func widen(_ bytes: Data, float16: Bool) -> [Float] {
        bytes.withUnsafeBytes { raw in
            (0..<raw.count / 2).map { j in
                let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self))
                return float16 ? float(fromHalf: bits) : float(fromBFloat16: bits)
            }
        }
    }

    package static func bfloat16(from f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(bits >> 16) | 0x40 }
        return UInt16(truncatingIfNeeded: roundShift(bits, by: 16))
    }

    /// `value >> shift`, rounded to nearest with ties to even.
    private static func roundShift(_ value: UInt32, by shift: UInt32) -> UInt32 {
        let kept = value >> shift
        let rest = value & ((1 << shift) - 1)
        let halfway: UInt32 = 1 << (shift - 1)
        return rest > halfway || (rest == halfway && kept & 1 == 1) ? kept + 1 : kept
    }
}
