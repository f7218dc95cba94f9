/// A function of a collection's schema: a field computed from other fields when rows are
/// written (Milvus's `Function`). Quiver has one kind, ``FunctionType/bm25``.
///
/// ```swift
/// let schema = try CollectionSchema(fields: [
///     FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
///     FieldSchema(name: "text", dataType: .varchar(maxLength: 4096), enableAnalyzer: true),
///     FieldSchema(name: "sparse", dataType: .sparseFloatVector),
/// ], functions: [FunctionSchema(name: "bm25", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"])])
/// ```
public struct FunctionSchema: Sendable, Hashable {
    /// The function's name: unique in the schema, with the rules of field names.
    public var name: String
    /// What the function computes.
    public var type: FunctionType
    /// The fields it reads.
    public var inputFieldNames: [String]
    /// The fields it writes; rows never carry them.
    public var outputFieldNames: [String]
    /// Function parameters (none for BM25, whose `bm25_k1` and `bm25_b` are index parameters).
    public var params: [String: Value]
    /// Free text about the function, stored with the schema.
    public var description: String

    /// A function; checked when it is put into a ``CollectionSchema``.
    public init(
        name: String, type: FunctionType, inputFieldNames: [String], outputFieldNames: [String],
        params: [String: Value] = [:], description: String = ""
    ) {
        self.name = name
        self.type = type
        self.inputFieldNames = inputFieldNames
        self.outputFieldNames = outputFieldNames
        self.params = params
        self.description = description
    }
}

/// The kinds of schema function.
public enum FunctionType: String, Sendable, Hashable, CaseIterable {
    /// Full-text search: the input `varchar` field (with an analyzer) becomes term frequencies
    /// in the output `sparseFloatVector` field, and a search of that field takes query text and
    /// ranks rows by BM25 (see <doc:FullTextSearch>).
    case bm25 = "BM25"
}

extension FunctionSchema {
    /// The function as a JSON-shaped `Value`, one element of the schema's `"functions"` array
    /// (pymilvus's words: `name`, `type`, `input_field_names`, `output_field_names`, `params`).
    public var jsonValue: Value {
        var out: [String: Value] = [
            "name": .string(name), "type": .string(type.rawValue),
            "input_field_names": .array(inputFieldNames.map(Value.string)),
            "output_field_names": .array(outputFieldNames.map(Value.string)),
        ]
        if !params.isEmpty { out["params"] = .object(params) }
        if !description.isEmpty { out["description"] = .string(description) }
        return .object(out)
    }

    init(json: Value, index: Int) throws {
        guard case .object(let o) = json else { throw QuiverError.invalidArgument("function \(index) must be a JSON object") }
        guard let name = o["name"]?.stringValue else { throw QuiverError.invalidArgument("function \(index) needs a \"name\" string") }
        guard let typeName = o["type"]?.stringValue, let type = FunctionType(rawValue: typeName.uppercased()) else {
            throw QuiverError(.unsupported, "function '\(name)': type must be \"BM25\"")
        }
        func names(_ key: String) throws -> [String] {
            guard case .array(let items)? = o[key] else { throw QuiverError.invalidArgument("function '\(name)' needs a \"\(key)\" list") }
            return try items.map {
                guard let s = $0.stringValue else { throw QuiverError.invalidArgument("function '\(name)': \"\(key)\" must hold field names") }
                return s
            }
        }
        var params: [String: Value] = [:]
        if let p = o["params"] {
            guard case .object(let obj) = p else { throw QuiverError.invalidArgument("function '\(name)': \"params\" must be an object") }
            params = obj
        }
        self.init(
            name: name, type: type, inputFieldNames: try names("input_field_names"), outputFieldNames: try names("output_field_names"),
            params: params, description: o["description"]?.stringValue ?? "")
    }

    /// Checks the function against the schema's fields.
    ///
    /// - Throws: `.invalidArgument` unless a BM25 function reads one analyzed `varchar` field and
    ///   writes one non-nullable sparse vector field, with no parameters.
    func validate(in fields: [FieldSchema]) throws {
        try Names.validateFunction(name)
        switch type {
        case .bm25:
            guard inputFieldNames.count == 1, outputFieldNames.count == 1 else {
                throw QuiverError.invalidArgument("BM25 function '\(name)' needs one input and one output field")
            }
            guard let input = fields.first(where: { $0.name == inputFieldNames[0] }) else {
                throw QuiverError.invalidArgument("BM25 function '\(name)': no input field '\(inputFieldNames[0])'")
            }
            guard case .varchar = input.dataType, input.enableAnalyzer else {
                throw QuiverError.invalidArgument("BM25 function '\(name)': input field '\(input.name)' must be a varchar field with enable_analyzer")
            }
            guard let output = fields.first(where: { $0.name == outputFieldNames[0] }) else {
                throw QuiverError.invalidArgument("BM25 function '\(name)': no output field '\(outputFieldNames[0])'")
            }
            guard output.dataType == .sparseFloatVector, !output.nullable, !output.isPrimaryKey, output.defaultValue == nil else {
                throw QuiverError.invalidArgument(
                    "BM25 function '\(name)': output field '\(output.name)' must be a non-nullable sparse_float_vector field without a default")
            }
            guard params.isEmpty else {
                throw QuiverError.invalidArgument(
                    "BM25 function '\(name)' takes no parameters; set bm25_k1 and bm25_b as index parameters of '\(output.name)'")
            }
        }
    }
}

extension CollectionSchema {
    /// Checks the functions: each valid against the fields, names unique, each output field
    /// written by one function and read by none.
    func validateFunctions() throws {
        var names = Set<String>(), outputs = Set<String>()
        for function in functions {
            try function.validate(in: fields)
            guard names.insert(function.name).inserted else {
                throw QuiverError.invalidArgument("function '\(function.name)' appears twice in the schema")
            }
            for output in function.outputFieldNames where !outputs.insert(output).inserted {
                throw QuiverError.invalidArgument("field '\(output)' is the output of two functions")
            }
        }
        for function in functions {
            if let input = function.inputFieldNames.first(where: outputs.contains) {
                throw QuiverError.invalidArgument("function '\(function.name)' reads '\(input)', which a function writes")
            }
        }
    }

    /// The function that writes field `name`, if one does.
    public func function(writing name: String) -> FunctionSchema? {
        functions.first { $0.outputFieldNames.contains(name) }
    }

    /// Refuses `bm25_k1` and `bm25_b` in the index parameters of a field no BM25 function writes.
    func checkBM25IndexParams(_ params: [String: Value], field: FieldSchema) throws {
        if let key = params.keys.sorted().first(where: { $0.hasPrefix("bm25_") }), bm25(output: field.name) == nil {
            throw QuiverError.invalidArgument("index parameter \(key) applies to the output field of a BM25 function; '\(field.name)' is not one")
        }
    }

    /// The BM25 function whose output is `field`, with the analyzer of its input.
    func bm25(output field: String) -> (function: FunctionSchema, input: String, analyzer: Analyzer)? {
        guard let f = function(writing: field), f.type == .bm25, let input = f.inputFieldNames.first,
            let analyzer = analyzer(for: input)
        else { return nil }
        return (f, input, analyzer)
    }

    /// Fills the output fields of the functions in a stored row from its (stored) inputs: the
    /// one place a row's function outputs are computed, for inserts and upserts of rows and of
    /// columns alike. A null input text gives an empty vector.
    func applyFunctions(to row: inout Row) {
        for f in functions where f.type == .bm25 {
            guard let analyzer = analyzer(for: f.inputFieldNames[0]) else { continue }
            row[f.outputFieldNames[0]] = .sparse(BM25.documentVector(row[f.inputFieldNames[0]]?.stringValue ?? "", analyzer: analyzer))
        }
    }

    /// ``applyFunctions(to:)-(Row)`` for the `n` rows of a column batch.
    func applyFunctions(to columns: inout [String: Column], rows n: Int) {
        for f in functions where f.type == .bm25 {
            guard let analyzer = analyzer(for: f.inputFieldNames[0]) else { continue }
            let input = columns[f.inputFieldNames[0]]
            var out = SparseRows()
            for i in 0..<n { out.append(BM25.documentVector(input?.value(at: i).stringValue ?? "", analyzer: analyzer)) }
            columns[f.outputFieldNames[0]] = Column(storage: .sparse(out), nulls: nil)
        }
    }
}
