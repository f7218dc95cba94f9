/// Schema JSON in pymilvus's words, used by the catalog file, `describe` and the CLI's `--schema`:
///
/// ```json
/// {"enable_dynamic_field": true, "fields": [
///   {"name": "id", "type": "int64", "is_primary": true, "auto_id": false},
///   {"name": "vector", "type": "float_vector", "dim": 8},
///   {"name": "title", "type": "varchar", "max_length": 64, "nullable": true, "default_value": "n/a"},
///   {"name": "tags", "type": "array", "element_type": "int64", "max_capacity": 10},
///   {"name": "sparse", "type": "sparse_float_vector"}]}
/// ```
extension CollectionSchema {
    /// The schema as a JSON-shaped `Value`.
    public var jsonValue: Value {
        var out: [String: Value] = [
            "enable_dynamic_field": .bool(enableDynamicField),
            "fields": .array(fields.map(\.jsonValue)),
        ]
        if !description.isEmpty { out["description"] = .string(description) }
        if partitionKeyField != nil { out["num_partitions"] = .int(Int64(numPartitions)) }
        if !functions.isEmpty { out["functions"] = .array(functions.map(\.jsonValue)) }
        return .object(out)
    }

    /// Reads a schema from its JSON form.
    ///
    /// - Throws: `.invalidArgument` naming the field and key that is wrong.
    public init(json: Value) throws {
        guard case .object(let o) = json else { throw QuiverError.invalidArgument("schema must be a JSON object") }
        guard case .array(let items)? = o["fields"] else {
            throw QuiverError.invalidArgument("schema needs a \"fields\" array")
        }
        let fields = try items.enumerated().map { i, item in try FieldSchema(json: item, index: i) }
        var dynamic = false
        if let d = o["enable_dynamic_field"] {
            guard case .bool(let b) = d else { throw QuiverError.invalidArgument("\"enable_dynamic_field\" must be true or false") }
            dynamic = b
        }
        // "num_partitions" is absent from schemas without a partition key (and from those written before partitions).
        var numPartitions = 16
        if let n = o["num_partitions"] {
            guard let v = n.intValue, let count = Int(exactly: v) else {
                throw QuiverError.invalidArgument("\"num_partitions\" must be an integer")
            }
            numPartitions = count
        }
        // "functions" is absent from schemas without functions (and from those written before them).
        var functions: [FunctionSchema] = []
        if let f = o["functions"] {
            guard case .array(let items) = f else { throw QuiverError.invalidArgument("schema \"functions\" must be an array") }
            functions = try items.enumerated().map { i, item in try FunctionSchema(json: item, index: i) }
        }
        try self.init(
            fields: fields, enableDynamicField: dynamic, description: o["description"]?.stringValue ?? "", numPartitions: numPartitions,
            functions: functions)
    }
}

extension FieldSchema {
    /// The field as a JSON-shaped `Value`, one element of the schema's `"fields"` array:
    /// `{"name", "type"}` plus `is_primary`, `auto_id`, `nullable`, `default_value`,
    /// `description`, `enable_analyzer`, `analyzer_params`, `enable_match` when set and the
    /// type's parameters (`max_length`, `dim`, …).
    public var jsonValue: Value {
        var out: [String: Value] = ["name": .string(name), "type": .string(dataType.name)]
        if isPrimaryKey { out["is_primary"] = true }
        if autoID { out["auto_id"] = true }
        if nullable { out["nullable"] = true }
        if let defaultValue { out["default_value"] = defaultValue }
        if isPartitionKey { out["is_partition_key"] = true }
        if !description.isEmpty { out["description"] = .string(description) }
        if enableAnalyzer { out["enable_analyzer"] = true }
        if let analyzerParams { out["analyzer_params"] = analyzerParams }
        if enableMatch { out["enable_match"] = true }
        switch dataType {
        case .varchar(let n): out["max_length"] = .int(Int64(n))
        case .array(let element, let capacity):
            out["element_type"] = .string(element.name)
            out["max_capacity"] = .int(Int64(capacity))
            if case .varchar(let n) = element { out["max_length"] = .int(Int64(n)) }
        case .floatVector(let d), .float16Vector(let d), .bfloat16Vector(let d), .binaryVector(let d):
            out["dim"] = .int(Int64(d))
        default: break
        }
        return .object(out)
    }

    init(json: Value, index: Int) throws {
        guard case .object(let o) = json else { throw QuiverError.invalidArgument("field \(index) must be a JSON object") }
        guard let name = o["name"]?.stringValue else { throw QuiverError.invalidArgument("field \(index) needs a \"name\" string") }
        func int(_ key: String) throws -> Int {
            guard let v = o[key]?.intValue else {
                throw QuiverError.invalidArgument("field '\(name)' needs an integer \"\(key)\"")
            }
            return Int(v)
        }
        func bool(_ key: String) throws -> Bool {
            guard let v = o[key] else { return false }
            guard case .bool(let b) = v else { throw QuiverError.invalidArgument("field '\(name)': \"\(key)\" must be true or false") }
            return b
        }
        guard let typeName = o["type"]?.stringValue else {
            throw QuiverError.invalidArgument("field '\(name)' needs a \"type\" string")
        }
        func scalar(_ t: String) throws -> DataType {
            switch t.lowercased() {
            case "bool": return .bool
            case "int8": return .int8
            case "int16": return .int16
            case "int32": return .int32
            case "int64": return .int64
            case "float": return .float
            case "double": return .double
            case "varchar", "string": return .varchar(maxLength: try int("max_length"))
            default:
                throw QuiverError.invalidArgument("field '\(name)': unknown type \"\(t)\"; use bool, int8, int16, int32, int64, float, double, varchar, json, array, float_vector or sparse_float_vector")
            }
        }
        let type: DataType
        switch typeName.lowercased() {
        case "json": type = .json
        case "array":
            guard let element = o["element_type"]?.stringValue else {
                throw QuiverError.invalidArgument("array field '\(name)' needs an \"element_type\"")
            }
            type = .array(elementType: try scalar(element), maxCapacity: try int("max_capacity"))
        case "float_vector", "floatvector": type = .floatVector(dimension: try int("dim"))
        case "float16_vector", "float16vector": type = .float16Vector(dimension: try int("dim"))
        case "bfloat16_vector", "bfloat16vector": type = .bfloat16Vector(dimension: try int("dim"))
        case "binary_vector", "binaryvector": type = .binaryVector(dimension: try int("dim"))
        case "sparse_float_vector", "sparsefloatvector", "sparse_vector": type = .sparseFloatVector
        default: type = try scalar(typeName)
        }
        self.init(
            name: name, dataType: type, isPrimaryKey: try bool("is_primary"), autoID: try bool("auto_id"),
            nullable: try bool("nullable"), defaultValue: o["default_value"],
            description: o["description"]?.stringValue ?? "", isPartitionKey: try bool("is_partition_key"),
            enableAnalyzer: try bool("enable_analyzer"), analyzerParams: o["analyzer_params"], enableMatch: try bool("enable_match"))
    }
}
