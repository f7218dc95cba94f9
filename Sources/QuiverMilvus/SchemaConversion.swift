import Foundation
import Quiver
import QuiverMilvusProtocol

/// Schemas between Milvus's wire form (`schema.CollectionSchema`, carried serialized in
/// `CreateCollectionRequest.schema` and returned in `DescribeCollectionResponse`) and Quiver's.
package enum SchemaConversion {
    package typealias WireType = Milvus_Proto_Schema_DataType

    /// Quiver's schema for a wire schema.
    ///
    /// Analyzer settings travel as the varchar field's type params `enable_analyzer`,
    /// `analyzer_params` (JSON) and `enable_match`; BM25 functions as `functions` (the output
    /// field's `is_function_output` flag follows from them and is not read).
    ///
    /// - Throws: `MilvusError` (invalid parameter) for a type Quiver does not have (int8
    ///   vectors, geometry, text, timestamps), a missing or malformed `dim`, `max_length`,
    ///   `max_capacity` or `analyzer_params`, a function other than BM25 (unsupported), or
    ///   whatever `CollectionSchema` rejects.
    /// - Parameter numPartitions: the request's or description's `num_partitions`, used with a
    ///   partition key field (0, as pymilvus sends by default: Milvus's 16).
    package static func schema(from wire: Milvus_Proto_Schema_CollectionSchema, numPartitions: Int64 = 0) throws -> CollectionSchema {
        guard wire.structArrayFields.isEmpty else {
            throw MilvusError.unsupported("struct array fields are not supported by Quiver")
        }
        var fields = [FieldSchema]()
        for f in wire.fields where !(f.isDynamic && f.name == dynamicFieldName) {
            let type = try dataType(of: f)
            var field = FieldSchema(
                name: f.name, dataType: type, isPrimaryKey: f.isPrimaryKey,
                autoID: f.isPrimaryKey && (f.autoID || wire.autoID), nullable: f.nullable, description: f.description_p,
                isPartitionKey: f.isPartitionKey)
            try readAnalyzer(f, into: &field)
            if f.hasDefaultValue {
                field.defaultValue = try defaultValue(f.defaultValue, field: f.name)
            }
            fields.append(field)
        }
        guard numPartitions >= 0, numPartitions <= Int64(CollectionSchema.maxPartitionKeyPartitions) else {
            throw MilvusError.invalid("num_partitions must be in 1...\(CollectionSchema.maxPartitionKeyPartitions), got \(numPartitions)")
        }
        return try CollectionSchema(
            fields: fields, enableDynamicField: wire.enableDynamicField, description: wire.description_p,
            numPartitions: numPartitions == 0 ? 16 : Int(numPartitions), functions: try wire.functions.map(function))
    }

    /// Quiver's function of a wire `FunctionSchema` (BM25 only; its params are kept, and the
    /// schema refuses any).
    private static func function(_ f: Milvus_Proto_Schema_FunctionSchema) throws -> FunctionSchema {
        guard f.type == .bm25 else {
            throw MilvusError.unsupported("function '\(f.name)' has type \(f.type); Quiver runs BM25 functions only")
        }
        var params = [String: Value]()
        for pair in f.params { params[pair.key] = (try? Value(json: pair.value)) ?? .string(pair.value) }
        return FunctionSchema(
            name: f.name, type: .bm25, inputFieldNames: f.inputFieldNames, outputFieldNames: f.outputFieldNames,
            params: params, description: f.description_p)
    }

    /// The wire form of a function: ids 100, 101, … in schema order (Milvus's first user
    /// function id), with its fields' ids.
    private static func wireFunction(_ f: FunctionSchema, index: Int, schema: CollectionSchema) -> Milvus_Proto_Schema_FunctionSchema {
        var w = Milvus_Proto_Schema_FunctionSchema()
        w.name = f.name
        w.id = Int64(100 + index)
        w.description_p = f.description
        w.type = .bm25
        w.inputFieldNames = f.inputFieldNames
        w.inputFieldIds = f.inputFieldNames.map { FieldConversion.fieldID(of: $0, in: schema) }
        w.outputFieldNames = f.outputFieldNames
        w.outputFieldIds = f.outputFieldNames.map { FieldConversion.fieldID(of: $0, in: schema) }
        w.params = f.params.sorted { $0.key < $1.key }.map { keyValue($0.key, $0.value.stringValue ?? $0.value.jsonString) }
        return w
    }

    /// Reads a field's analyzer type params (`enable_analyzer`, `analyzer_params`, `enable_match`;
    /// pymilvus writes booleans as Python's `True`).
    private static func readAnalyzer(_ f: Milvus_Proto_Schema_FieldSchema, into field: inout FieldSchema) throws {
        let params = Dictionary(f.typeParams.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        func flag(_ key: String) throws -> Bool {
            guard let text = params[key] else { return false }
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            default: throw MilvusError.invalid("type param(\(key)) of the field(\(f.name)) must be true or false, got '\(text)'")
            }
        }
        field.enableAnalyzer = try flag("enable_analyzer")
        field.enableMatch = try flag("enable_match")
        if let text = params["analyzer_params"], !text.isEmpty {
            guard case .object? = try? Value(json: text) else {
                throw MilvusError.invalid("type param(analyzer_params) of the field(\(f.name)) must be a JSON object, got '\(text)'")
            }
            field.analyzerParams = try Value(json: text)
        }
    }

    /// Whether `field` is the output of one of the schema's BM25 functions: searched with query
    /// texts and metric `BM25`, never returned as an output field (Milvus refuses its raw data).
    package static func isBM25Output(_ field: String, in schema: CollectionSchema) -> Bool {
        schema.function(writing: field)?.type == .bm25
    }

    /// The wire name of the metric of `field`: `BM25` for a BM25 function's output (which the
    /// engine reports as IP, the metric it compares sparse fields with), else the metric's name.
    package static func wireMetricName(_ metric: MetricType, field: String, schema: CollectionSchema) -> String {
        isBM25Output(field, in: schema) ? bm25MetricName : metric.rawValue
    }

    /// Milvus's metric name for BM25 fields.
    package static let bm25MetricName = "BM25"

    /// The engine metric of a metric name a server reports (an index's `metric_type`): `BM25`
    /// is IP, the engine's metric of sparse fields; `nil` for a name Quiver does not have.
    package static func metric(named name: String) -> MetricType? {
        name.uppercased() == bm25MetricName ? .ip : MetricType(name: name)
    }

    /// The engine metric of a wire metric name given for `field` (a search's or an index's
    /// `metric_type`): `nil` when empty; `BM25` is the engine's IP on a BM25 output field.
    ///
    /// - Throws: `MilvusError` (invalid parameter) for an unknown name, `BM25` on another field,
    ///   or another metric on a BM25 output field (Milvus's "metric type not match").
    package static func metric(wireName name: String, field: String?, schema: CollectionSchema) throws -> MetricType? {
        if name.isEmpty { return nil }
        let bm25 = field.map { isBM25Output($0, in: schema) }
        if name.uppercased() == bm25MetricName {
            if bm25 == false { throw MilvusError.invalid("metric type not match: invalid parameter[expected=IP][actual=BM25]: BM25 applies to the output field of a BM25 function only") }
            return .ip
        }
        guard let metric = MetricType(name: name) else { throw MilvusError.invalid("unknown metric_type '\(name)'") }
        if bm25 == true { throw MilvusError.invalid("metric type not match: invalid parameter[expected=BM25][actual=\(metric.rawValue)]") }
        return metric
    }

    /// The wire schema of a Quiver collection; field ids are 100, 101, … in schema order, as Milvus numbers them.
    package static func wireSchema(name: String, schema: CollectionSchema) -> Milvus_Proto_Schema_CollectionSchema {
        var wire = Milvus_Proto_Schema_CollectionSchema()
        wire.name = name
        wire.description_p = schema.description
        wire.enableDynamicField = schema.enableDynamicField
        wire.autoID = schema.primaryField.autoID
        for (i, field) in schema.fields.enumerated() {
            var f = Milvus_Proto_Schema_FieldSchema()
            f.fieldID = Int64(100 + i)
            f.name = field.name
            f.description_p = field.description
            f.isPrimaryKey = field.isPrimaryKey
            f.isPartitionKey = field.isPartitionKey
            f.autoID = field.autoID
            f.nullable = field.nullable
            f.dataType = wireType(field.dataType)
            var params = [(String, String)]()
            switch field.dataType {
            case .varchar(let n): params.append(("max_length", String(n)))
            case .array(let element, let capacity):
                f.elementType = wireType(element)
                params.append(("max_capacity", String(capacity)))
                if case .varchar(let n) = element { params.append(("max_length", String(n))) }
            case .floatVector(let d), .float16Vector(let d), .bfloat16Vector(let d), .binaryVector(let d):
                params.append(("dim", String(d)))
            default: break
            }
            f.typeParams = params.map { keyValue($0.0, $0.1) }
            if field.enableAnalyzer { f.typeParams.append(keyValue("enable_analyzer", "true")) }
            if field.enableMatch { f.typeParams.append(keyValue("enable_match", "true")) }
            if let analyzer = field.analyzerParams { f.typeParams.append(keyValue("analyzer_params", analyzer.jsonString)) }
            f.isFunctionOutput = schema.function(writing: field.name) != nil
            if let value = field.defaultValue, let wireValue = wireDefault(value, type: field.dataType) {
                f.defaultValue = wireValue
            }
            wire.fields.append(f)
        }
        wire.functions = schema.functions.enumerated().map { wireFunction($1, index: $0, schema: schema) }
        return wire
    }

    /// The Quiver type of a wire field, with its type parameters read.
    package static func dataType(of f: Milvus_Proto_Schema_FieldSchema) throws -> DataType {
        let params = Dictionary(f.typeParams.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        func int(_ key: String) throws -> Int {
            guard let text = params[key] else {
                throw MilvusError.invalid("type param(\(key)) should be specified for the field(\(f.name))")
            }
            guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw MilvusError.invalid("type param(\(key)) of the field(\(f.name)) must be an integer, got '\(text)'")
            }
            return n
        }
        switch f.dataType {
        case .array:
            guard f.elementType != .array, f.elementType != .json, let element = scalarType(f.elementType) else {
                throw MilvusError.invalid("array field '\(f.name)' has element type \(f.elementType); use bool, an integer type, float, double or varchar")
            }
            let elementType = element == .varchar(maxLength: 0) ? DataType.varchar(maxLength: try int("max_length")) : element
            return .array(elementType: elementType, maxCapacity: try int("max_capacity"))
        case .varChar: return .varchar(maxLength: try int("max_length"))
        case .json: return .json
        case .floatVector: return .floatVector(dimension: try int("dim"))
        case .float16Vector: return .float16Vector(dimension: try int("dim"))
        case .bfloat16Vector: return .bfloat16Vector(dimension: try int("dim"))
        case .binaryVector: return .binaryVector(dimension: try int("dim"))
        case .sparseFloatVector: return .sparseFloatVector
        default:
            guard let scalar = scalarType(f.dataType), scalar != .varchar(maxLength: 0) else {
                throw MilvusError.invalid("field '\(f.name)' has data type \(f.dataType), which Quiver does not support")
            }
            return scalar
        }
    }

    /// Scalars without parameters (`varchar` comes back with length 0, to be read from the params).
    private static func scalarType(_ t: WireType) -> DataType? {
        switch t {
        case .bool: .bool
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .float: .float
        case .double: .double
        case .varChar: .varchar(maxLength: 0)
        default: nil
        }
    }

    /// The wire type of a Quiver type.
    package static func wireType(_ t: DataType) -> WireType {
        switch t {
        case .bool: .bool
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .float: .float
        case .double: .double
        case .varchar: .varChar
        case .json: .json
        case .array: .array
        case .floatVector: .floatVector
        case .float16Vector: .float16Vector
        case .bfloat16Vector: .bfloat16Vector
        case .binaryVector: .binaryVector
        case .sparseFloatVector: .sparseFloatVector
        }
    }

    private static func defaultValue(_ v: Milvus_Proto_Schema_ValueField, field: String) throws -> Value {
        switch v.data {
        case .boolData(let b)?: return .bool(b)
        case .intData(let i)?: return .int(Int64(i))
        case .longData(let i)?: return .int(i)
        case .floatData(let f)?: return .double(Double(f))
        case .doubleData(let d)?: return .double(d)
        case .stringData(let s)?: return .string(s)
        case nil: return .null
        default: throw MilvusError.invalid("the default value of field '\(field)' has a type Quiver does not support")
        }
    }

    private static func wireDefault(_ value: Value, type: DataType) -> Milvus_Proto_Schema_ValueField? {
        var v = Milvus_Proto_Schema_ValueField()
        switch (type, value) {
        case (.bool, .bool(let b)): v.data = .boolData(b)
        case (.int8, .int(let i)), (.int16, .int(let i)), (.int32, .int(let i)): v.data = .intData(Int32(truncatingIfNeeded: i))
        case (.int64, .int(let i)): v.data = .longData(i)
        case (.float, _): v.data = .floatData(Float(value.doubleValue ?? 0))
        case (.double, _): v.data = .doubleData(value.doubleValue ?? 0)
        case (.varchar, .string(let s)): v.data = .stringData(s)
        default: return nil
        }
        return v
    }

    package static func keyValue(_ key: String, _ value: String) -> Milvus_Proto_Common_KeyValuePair {
        var pair = Milvus_Proto_Common_KeyValuePair()
        pair.key = key
        pair.value = value
        return pair
    }
}
