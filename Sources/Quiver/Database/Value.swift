import Foundation

/// One field value of a row: a scalar, a string, a float vector, an array or a JSON object.
///
/// `Value` has literals, so rows read naturally:
/// ```swift
/// let row: Row = ["id": 7, "vector": .vector([0.1, 0.2]), "title": "hello", "tags": [1, 2]]
/// ```
/// JSON fields hold any `Value` except `.vector`; numbers in JSON are `.int` or `.double`.
public enum Value: Sendable, Hashable {
    /// No value: a null in a nullable field or in JSON (the `nil` literal).
    case null
    /// A `bool` field's value or a JSON boolean.
    case bool(Bool)
    /// A value of an integer field (`int8` … `int64`) or a JSON integer.
    case int(Int64)
    /// A value of a `float` or `double` field or a JSON number with a fraction.
    case double(Double)
    /// A `varchar` field's value or a JSON string.
    case string(String)
    /// A dense float vector (for `floatVector` fields, and the half-precision fields, converted on write).
    case vector([Float])
    /// Raw bytes, for binary vector fields (8 dimensions per byte, most significant bit first).
    case bytes([UInt8])
    /// An `array` field's elements, or a JSON array.
    case array([Value])
    /// A JSON object, by key.
    case object([String: Value])
    /// A sparse float vector, for `sparseFloatVector` fields. Such a field also accepts an
    /// `.object` of index → weight (`["3": 0.5]`, as JSON rows give it) or an `.array` of
    /// `[index, weight]` pairs; it is stored, and read back, as `.sparse`.
    case sparse(SparseVector)
}

/// A row as a dictionary from field name to value.
public typealias Row = [String: Value]

extension Value: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension Value {
    /// `true` for `.null`.
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The value as an `Int64` when it is an integer (or a double with no fractional part).
    public var intValue: Int64? {
        switch self {
        case .int(let v): return v
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    /// The value as a `Double` when it is a number.
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The string of a `.string`; `nil` for any other value.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The Boolean of a `.bool`; `nil` for any other value.
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }

    /// The value as a float vector: `.vector`, or an array of numbers.
    public var floatVector: [Float]? {
        switch self {
        case .vector(let v): return v
        case .array(let items):
            var out = [Float]()
            out.reserveCapacity(items.count)
            for item in items {
                guard let d = item.doubleValue else { return nil }
                out.append(Float(d))
            }
            return out
        default: return nil
        }
    }

    /// The elements of an `.array`; `nil` for any other value (a `.vector` included).
    public var arrayValue: [Value]? { if case .array(let a) = self { return a } else { return nil } }
    /// The members of an `.object`; `nil` for any other value.
    public var objectValue: [String: Value]? { if case .object(let o) = self { return o } else { return nil } }

    /// A short name of the value's kind, for error messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "integer"
        case .double: "double"
        case .string: "string"
        case .vector: "float vector"
        case .bytes: "bytes"
        case .array: "array"
        case .object: "JSON object"
        case .sparse: "sparse vector"
        }
    }
}

// MARK: - JSON

extension Value {
    /// Parses JSON text into a `Value`. Integral numbers become `.int`, others `.double`.
    ///
    /// - Throws: `QuiverError.invalidArgument` naming the offset of the first error.
    public init(json text: String) throws {
        var copy = text
        self = try copy.withUTF8 { bytes in
            var parser = JSONParser(bytes: bytes)
            return try parser.parseDocument()
        }
    }

    /// Parses JSON bytes into a `Value`.
    ///
    /// - Throws: `.invalidArgument` naming the byte offset of the first error.
    public init(jsonData data: Data) throws {
        self = try data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw.bindMemory(to: UInt8.self))
            return try parser.parseDocument()
        }
    }

    /// The value as JSON text with sorted keys. Non-finite doubles are written as `null`; a
    /// sparse vector is an object of index → weight in index order.
    public var jsonString: String {
        var out = ""
        writeJSON(to: &out)
        return out
    }

    func writeJSON(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let v): out += String(v)
        case .double(let d): out += Value.formatJSONNumber(d)
        case .string(let s): Value.writeJSONString(s, to: &out)
        case .vector(let v):
            out += "["
            for (i, f) in v.enumerated() {
                if i > 0 { out += "," }
                out += Value.formatJSONNumber(Double(f), float: f)
            }
            out += "]"
        case .bytes(let b):
            out += "["
            out += b.map { String($0) }.joined(separator: ",")
            out += "]"
        case .array(let a):
            out += "["
            for (i, item) in a.enumerated() {
                if i > 0 { out += "," }
                item.writeJSON(to: &out)
            }
            out += "]"
        case .sparse(let v):
            // An object of index → weight, in index order (pymilvus's dictionary form).
            out += "{"
            for i in 0..<v.count {
                if i > 0 { out += "," }
                out += "\"\(v.indices[i])\":" + Value.formatJSONNumber(Double(v.values[i]), float: v.values[i])
            }
            out += "}"
        case .object(let o):
            out += "{"
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                Value.writeJSONString(key, to: &out)
                out += ":"
                o[key]!.writeJSON(to: &out)
            }
            out += "}"
        }
    }

    static func formatJSONNumber(_ d: Double, float: Float? = nil) -> String {
        guard d.isFinite else { return "null" }
        if let float { return "\(float)" }
        if d.rounded() == d && abs(d) < 1e15 { return String(format: "%.1f", d) }
        return "\(d)"
    }

    static func writeJSONString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension Row {
    /// The row as a JSON object string with sorted keys.
    public var jsonString: String { Value.object(self).jsonString }
}
