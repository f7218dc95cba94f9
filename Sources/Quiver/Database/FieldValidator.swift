/// Checks and converts user values to the stored form of a field.
///
/// Stored forms: bool → `.bool`; integer types → `.int` (range-checked); float → `.double`
/// rounded to `Float`; double → `.double`; varchar → `.string` (byte length checked); json →
/// any value but vectors and bytes; array → `.array` of coerced elements; float vectors →
/// `.vector` with the schema's dimension and finite components; sparse vectors → `.sparse`
/// (from `.sparse`, an object of index → weight, or `[index, weight]` pairs; see `SparseVector`).
enum FieldValidator {
    static func coerce(_ value: Value, to field: FieldSchema, row: Int?) throws -> Value {
        let at = row.map { " in row \($0)" } ?? ""
        func fail(_ code: QuiverError.Code = .invalidArgument, _ what: String) -> QuiverError {
            QuiverError(code, "field '\(field.name)'\(at): \(what)")
        }
        if value.isNull {
            if field.nullable { return .null }
            throw fail(.invalidArgument, "null is not allowed; the field is not nullable")
        }
        return try coerce(value, type: field.dataType, fail: fail)
    }

    private static func coerce(
        _ value: Value, type: DataType, fail: (QuiverError.Code, String) -> QuiverError
    ) throws -> Value {
        switch type {
        case .bool:
            guard case .bool = value else { throw fail(.invalidArgument, "expected a bool, got \(value.kindName)") }
            return value
        case .int8, .int16, .int32, .int64:
            guard case .int(let v) = value else {
                throw fail(.invalidArgument, "expected an integer (\(type.name)), got \(value.kindName)")
            }
            guard type.integerRange!.contains(v) else {
                throw fail(.invalidArgument, "\(v) is out of range for \(type.name)")
            }
            return value
        case .float, .double:
            guard let d = value.doubleValue else {
                throw fail(.invalidArgument, "expected a number (\(type.name)), got \(value.kindName)")
            }
            guard d.isFinite else { throw fail(.invalidArgument, "\(type.name) value must be finite, got \(d)") }
            if type == .float {
                let f = Float(d)
                guard f.isFinite else { throw fail(.invalidArgument, "\(d) does not fit a 32-bit float") }
                return .double(Double(f))
            }
            return .double(d)
        case .varchar(let maxLength):
            guard case .string(let s) = value else {
                throw fail(.invalidArgument, "expected a string (varchar), got \(value.kindName)")
            }
            let length = s.utf8.count
            guard length <= maxLength else {
                throw fail(.invalidArgument, "string of \(length) bytes exceeds max_length \(maxLength)")
            }
            return value
        case .json:
            try checkJSON(value, fail: fail)
            return value
        case .array(let element, let capacity):
            guard case .array(let items) = value else {
                throw fail(.invalidArgument, "expected an array of \(element.name), got \(value.kindName)")
            }
            guard items.count <= capacity else {
                throw fail(.invalidArgument, "array of \(items.count) elements exceeds max_capacity \(capacity)")
            }
            return .array(try items.map { item in
                guard !item.isNull else { throw fail(.invalidArgument, "array elements cannot be null") }
                return try coerce(item, type: element, fail: fail)
            })
        case .floatVector(let dimension):
            guard let vector = value.floatVector else {
                throw fail(.invalidArgument, "expected a float vector, got \(value.kindName)")
            }
            guard vector.count == dimension else {
                throw fail(.dimensionMismatch, "vector has \(vector.count) dimensions, the field has \(dimension)")
            }
            for (i, x) in vector.enumerated() where !x.isFinite {
                throw fail(.invalidArgument, "vector component \(i) is \(x.isNaN ? "NaN" : "infinite"); vectors must be finite")
            }
            return .vector(vector)
        case .float16Vector(let dimension), .bfloat16Vector(let dimension):
            guard let vector = value.floatVector else {
                throw fail(.invalidArgument, "expected a float vector, got \(value.kindName)")
            }
            guard vector.count == dimension else {
                throw fail(.dimensionMismatch, "vector has \(vector.count) dimensions, the field has \(dimension)")
            }
            let format: Kernels.HalfFormat = type == .float16Vector(dimension: dimension) ? .float16 : .bfloat16
            var rounded = [Float]()
            rounded.reserveCapacity(dimension)
            for (i, x) in vector.enumerated() {
                let h = HalfConversion.narrow(x, format)
                let back = Kernels.widen(h, format)
                guard x.isFinite, back.isFinite else {
                    throw fail(.invalidArgument, "vector component \(i) is \(x.isNaN ? "NaN" : x.isFinite ? "out of range for \(type.name)" : "infinite"); vectors must be finite")
                }
                rounded.append(back)
            }
            return .vector(rounded)
        case .binaryVector(let dimension):
            let bytes: [UInt8]
            switch value {
            case .bytes(let b): bytes = b
            case .array(let items):
                bytes = try items.map { item in
                    guard let v = item.intValue, (0...255).contains(v) else {
                        throw fail(.invalidArgument, "a binary vector given as an array must hold integers 0...255")
                    }
                    return UInt8(v)
                }
            default:
                throw fail(.invalidArgument, "expected a binary vector (bytes), got \(value.kindName)")
            }
            guard bytes.count * 8 == dimension else {
                throw fail(.dimensionMismatch, "binary vector has \(bytes.count * 8) bits, the field has \(dimension)")
            }
            return .bytes(bytes)
        case .sparseFloatVector:
            let parsed: SparseVector?
            do { parsed = try SparseVector(value: value) } catch let error as QuiverError { throw fail(error.code, error.message) }
            guard let parsed else {
                throw fail(.invalidArgument, "expected a sparse vector (index → weight, or [index, weight] pairs), got \(value.kindName)")
            }
            return .sparse(parsed)
        }
    }

    private static func checkJSON(_ value: Value, fail: (QuiverError.Code, String) -> QuiverError) throws {
        switch value {
        case .vector(let v):
            // A vector literal inside JSON is just an array of numbers.
            for x in v where !x.isFinite { throw fail(.invalidArgument, "JSON numbers must be finite") }
        case .bytes: throw fail(.invalidArgument, "bytes cannot be stored in a JSON field")
        case .sparse(let v): for x in v.values where !x.isFinite { throw fail(.invalidArgument, "JSON numbers must be finite") }
        case .double(let d) where !d.isFinite: throw fail(.invalidArgument, "JSON numbers must be finite")
        case .array(let items): for item in items { try checkJSON(item, fail: fail) }
        case .object(let o): for item in o.values { try checkJSON(item, fail: fail) }
        default: break
        }
    }

    /// Normalizes a JSON value for storage: vectors become arrays of doubles.
    static func normalizeJSON(_ value: Value) -> Value {
        switch value {
        case .vector(let v): return .array(v.map { .double(Double($0)) })
        case .sparse(let v): return v.jsonObject
        case .array(let items): return .array(items.map(normalizeJSON))
        case .object(let o): return .object(o.mapValues(normalizeJSON))
        default: return value
        }
    }
}

/// A primary key value: an `int64` or a `varchar`.
public enum PrimaryKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// A key of an `int64` primary-key field.
    case int(Int64)
    /// A key of a `varchar` primary-key field.
    case string(String)

    /// The key as a ``Value`` (`.int` or `.string`), as rows and results carry it.
    public var value: Value {
        switch self {
        case .int(let v): .int(v)
        case .string(let s): .string(s)
        }
    }

    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .string(let s): "\"\(s)\""
        }
    }

    public static func < (lhs: PrimaryKey, rhs: PrimaryKey) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): a < b
        case (.string(let a), .string(let b)): a < b
        case (.int, .string): true
        case (.string, .int): false
        }
    }

    /// Converts a user-given id to a key of the collection's key type.
    static func from(_ value: Value, field: FieldSchema) throws -> PrimaryKey {
        switch (field.dataType, value) {
        case (.int64, .int(let v)): return .int(v)
        case (.varchar(let n), .string(let s)):
            guard s.utf8.count <= n else {
                throw QuiverError.invalidArgument("primary key \"\(s.prefix(32))\" exceeds max_length \(n)")
            }
            return .string(s)
        default:
            throw QuiverError.invalidArgument(
                "primary key '\(field.name)' is \(field.dataType.name); got a \(value.kindName) id")
        }
    }
}
