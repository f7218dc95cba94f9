/// The type of a field, with the parameters Milvus attaches to it.
public indirect enum DataType: Sendable, Hashable, CustomStringConvertible {
    /// `true` or `false`.
    case bool
    /// A signed 8-bit integer (−128...127); values are `Value.int`.
    case int8
    /// A signed 16-bit integer; values are `Value.int`.
    case int16
    /// A signed 32-bit integer; values are `Value.int`.
    case int32
    /// A signed 64-bit integer, the type of integer primary keys; values are `Value.int`.
    case int64
    /// A 32-bit float; `Value.double` values are rounded to it when stored.
    case float
    /// A 64-bit float.
    case double
    /// UTF-8 text of at most `maxLength` bytes (Milvus counts bytes).
    case varchar(maxLength: Int)
    /// Any JSON value.
    case json
    /// An array of scalars of one element type, at most `maxCapacity` long.
    case array(elementType: DataType, maxCapacity: Int)
    /// A dense vector of 32-bit floats.
    case floatVector(dimension: Int)
    /// A dense vector stored as IEEE 754 half-precision floats (half the bytes of `floatVector`).
    case float16Vector(dimension: Int)
    /// A dense vector stored as bfloat16 (the upper 16 bits of a float32).
    case bfloat16Vector(dimension: Int)
    /// A vector of `dimension` bits (a multiple of 8), compared with HAMMING or JACCARD.
    case binaryVector(dimension: Int)
    /// A sparse float vector (Milvus's `SPARSE_FLOAT_VECTOR`): index → weight pairs with no
    /// dimension (indices up to 2³² − 2); values are ``Value/sparse(_:)``. Compared with IP only,
    /// whatever the collection's metric. See ``SparseVector``.
    case sparseFloatVector

    /// `true` for the dense vector types (those with a ``dimension``); ``sparseFloatVector`` is
    /// ``isSparseVector``.
    public var isVector: Bool { dimension != nil }

    /// `true` for ``sparseFloatVector``.
    public var isSparseVector: Bool { self == .sparseFloatVector }

    /// `true` for every vector type, dense or sparse: a field a search can rank by.
    public var isSearchable: Bool { isVector || isSparseVector }

    /// The dimension of a vector type, `nil` for scalars.
    public var dimension: Int? {
        switch self {
        case .floatVector(let d), .float16Vector(let d), .bfloat16Vector(let d), .binaryVector(let d): d
        default: nil
        }
    }

    /// `true` for the binary vector type.
    public var isBinaryVector: Bool {
        if case .binaryVector = self { return true }
        return false
    }

    /// Bytes one stored vector takes.
    var vectorRowBytes: Int {
        switch self {
        case .floatVector(let d): d * 4
        case .float16Vector(let d), .bfloat16Vector(let d): d * 2
        case .binaryVector(let d): d / 8
        default: 0
        }
    }

    /// `true` for bool, the integer types, float, double and varchar: the types an array may hold.
    public var isScalar: Bool {
        switch self {
        case .bool, .int8, .int16, .int32, .int64, .float, .double, .varchar: true
        default: false
        }
    }

    /// `true` for the integer types.
    public var isInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64: true
        default: false
        }
    }

    /// The name used in schema files and `describe` output (pymilvus's spelling).
    public var name: String {
        switch self {
        case .bool: "bool"
        case .int8: "int8"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .float: "float"
        case .double: "double"
        case .varchar: "varchar"
        case .json: "json"
        case .array: "array"
        case .floatVector: "float_vector"
        case .float16Vector: "float16_vector"
        case .bfloat16Vector: "bfloat16_vector"
        case .binaryVector: "binary_vector"
        case .sparseFloatVector: "sparse_float_vector"
        }
    }

    public var description: String {
        switch self {
        case .varchar(let n): "varchar(\(n))"
        case .array(let e, let c): "array<\(e)>[\(c)]"
        case .floatVector(let d), .float16Vector(let d), .bfloat16Vector(let d), .binaryVector(let d): "\(name)(\(d))"
        default: name
        }
    }

    /// The integer range a value must fall in for this integer type.
    var integerRange: ClosedRange<Int64>? {
        switch self {
        case .int8: Int64(Int8.min)...Int64(Int8.max)
        case .int16: Int64(Int16.min)...Int64(Int16.max)
        case .int32: Int64(Int32.min)...Int64(Int32.max)
        case .int64: Int64.min...Int64.max
        default: nil
        }
    }
}

/// How vectors are compared. Results follow Milvus: `l2` is the squared Euclidean distance
/// (smaller is closer); `ip` and `cosine` are similarities (larger is closer).
public enum MetricType: String, Sendable, Hashable, CaseIterable, Codable {
    /// Float vectors: the squared Euclidean distance Σ(aᵢ − bᵢ)² (smaller is closer).
    case l2 = "L2"
    /// Float vectors: the inner product Σ aᵢbᵢ (larger is closer).
    case ip = "IP"
    /// Float vectors: the cosine similarity a·b / (|a| |b|), in −1...1 (larger is closer).
    case cosine = "COSINE"
    /// Binary vectors: the number of differing bits (smaller is closer).
    case hamming = "HAMMING"
    /// Binary vectors: 1 − |a ∧ b| / |a ∨ b| (smaller is closer).
    case jaccard = "JACCARD"

    /// `true` when a larger score means a closer match (IP, COSINE).
    public var higherIsBetter: Bool { self == .ip || self == .cosine }

    /// `true` for the metrics of binary vectors.
    public var isBinary: Bool { self == .hamming || self == .jaccard }

    /// Checks that the metric can compare vectors of `type` (a collection's metric does not
    /// apply to sparse fields, which are always compared with IP).
    func check(for field: FieldSchema) throws {
        if field.dataType.isSparseVector { return }
        guard field.dataType.isBinaryVector == isBinary else {
            let allowed = field.dataType.isBinaryVector ? "HAMMING or JACCARD" : "L2, IP or COSINE"
            throw QuiverError.invalidArgument("metric \(rawValue) cannot compare \(field.dataType.name) field '\(field.name)'; use \(allowed)")
        }
    }

    /// Parses `l2`, `L2`, `ip`, `cosine`, … (any case).
    public init?(name: String) {
        self.init(rawValue: name.uppercased())
    }
}

/// One field of a collection's schema.
public struct FieldSchema: Sendable, Hashable {
    /// The field's name: a letter or `_` first, then letters, digits and `_`, at most 255 bytes.
    public var name: String
    /// The field's type.
    public var dataType: DataType
    /// Exactly one field of a schema is the primary key; it must be `int64` or `varchar`.
    public var isPrimaryKey: Bool
    /// For an `int64` primary key: Quiver generates the ids and rows must not carry them.
    public var autoID: Bool
    /// The field may hold null (a missing value in an inserted row is stored as null, or as
    /// ``defaultValue`` when one is set).
    public var nullable: Bool
    /// The value stored when a row omits the field (or gives null for a non-nullable field with a default).
    public var defaultValue: Value?
    /// Free text about the field, stored with the schema; empty by default.
    public var description: String
    /// The field is the collection's partition key (Milvus's `is_partition_key`): each row goes to
    /// one of ``CollectionSchema/numPartitions`` partitions by a hash of this field's value, and a
    /// filter `field == v` or `field in [...]` reads only the partitions those values hash to. At
    /// most one field per schema; `int64` or `varchar`, not the primary key, not nullable. See
    /// <doc:Partitions>.
    public var isPartitionKey: Bool
    /// A `varchar` field's text is analyzed into terms (Milvus's `enable_analyzer`), with
    /// ``analyzerParams``: needed by `text_match`, `phrase_match` and a BM25 function reading it.
    public var enableAnalyzer: Bool
    /// Milvus's `analyzer_params` for an analyzed field (see ``Analyzer/init(params:)``); `nil`
    /// for the standard analyzer.
    public var analyzerParams: Value?
    /// The field's terms are indexed for `text_match` and `phrase_match` filters (Milvus's
    /// `enable_match`); needs ``enableAnalyzer``.
    public var enableMatch: Bool

    /// A field; only `name` and `dataType` are required.
    ///
    /// ```swift
    /// FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true, autoID: true)
    /// FieldSchema(name: "lang", dataType: .varchar(maxLength: 8), defaultValue: "en")
    /// ```
    /// The combination is checked when the field is put into a ``CollectionSchema``.
    public init(
        name: String, dataType: DataType, isPrimaryKey: Bool = false, autoID: Bool = false,
        nullable: Bool = false, defaultValue: Value? = nil, description: String = "", isPartitionKey: Bool = false,
        enableAnalyzer: Bool = false, analyzerParams: Value? = nil, enableMatch: Bool = false
    ) {
        self.isPartitionKey = isPartitionKey
        self.enableAnalyzer = enableAnalyzer
        self.analyzerParams = analyzerParams
        self.enableMatch = enableMatch
        self.name = name
        self.dataType = dataType
        self.isPrimaryKey = isPrimaryKey
        self.autoID = autoID
        self.nullable = nullable
        self.defaultValue = defaultValue
        self.description = description
    }
}

/// The name of the hidden JSON column that holds dynamic fields (as in Milvus).
public let dynamicFieldName = "$meta"

/// The fields of a collection and whether it accepts dynamic fields.
///
/// ```swift
/// let schema = try CollectionSchema(fields: [
///     FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
///     FieldSchema(name: "vector", dataType: .floatVector(dimension: 384)),
///     FieldSchema(name: "title", dataType: .varchar(maxLength: 256), nullable: true),
/// ], enableDynamicField: true)
/// ```
public struct CollectionSchema: Sendable, Hashable {
    /// The fields in declaration order; validated by ``init(fields:enableDynamicField:description:numPartitions:functions:)``.
    public private(set) var fields: [FieldSchema]
    /// Whether rows may carry fields the schema does not declare; they are kept in the hidden
    /// JSON field ``dynamicFieldName`` and can be filtered on and returned like declared ones.
    public var enableDynamicField: Bool
    /// Free text about the collection, stored with the schema; empty by default.
    public var description: String
    /// With a partition key field (``FieldSchema/isPartitionKey``): the number of partitions its
    /// values are hashed into, 1...``maxPartitionKeyPartitions`` (Milvus's `num_partitions`,
    /// 16 by default). Without one it is not used (and not stored).
    public private(set) var numPartitions: Int
    /// The schema's functions (Milvus's `functions`): fields computed from other fields when rows
    /// are written, such as a BM25 function's term frequencies (see <doc:FullTextSearch>).
    public private(set) var functions: [FunctionSchema]

    /// The largest ``numPartitions``.
    public static let maxPartitionKeyPartitions = 1024

    /// The analyzers of the fields with ``FieldSchema/enableAnalyzer``, by field name, parsed
    /// once when the schema is validated.
    private(set) var analyzers: [String: Analyzer] = [:]

    /// Creates and validates a schema.
    ///
    /// - Throws: `.invalidArgument` when there is not exactly one primary key, the key is not
    ///   `int64`/`varchar`, `autoID` is set on a varchar key, analyzer settings are on a field
    ///   that is not `varchar` or are malformed (`.unsupported` for a tokenizer Quiver lacks), names repeat or are invalid, a vector
    ///   field is nullable or has no dimension, there is no vector field, a default value does
    ///   not fit its field, or the partition key is not one non-nullable `int64`/`varchar` field
    ///   other than the primary key with `numPartitions` in 1...``maxPartitionKeyPartitions``, or a
    ///   function is malformed (see ``FunctionSchema``).
    public init(
        fields: [FieldSchema], enableDynamicField: Bool = false, description: String = "", numPartitions: Int = 16,
        functions: [FunctionSchema] = []
    ) throws {
        self.fields = fields
        self.functions = functions
        self.enableDynamicField = enableDynamicField
        self.description = description
        self.numPartitions = numPartitions
        try validate()
    }

    /// The partition key field, if the schema has one.
    public var partitionKeyField: FieldSchema? { fields.first(where: \.isPartitionKey) }

    /// The schema of Milvus's quick setup (what `createCollection(_:dimension:…)` and pymilvus's
    /// `create_collection(name, dimension)` make): an `id` primary key, a `vector` field of
    /// `dimension` floats, and dynamic fields on.
    ///
    /// - Throws: `.invalidArgument` for `autoID` with a varchar key, or a bad dimension or length.
    public static func quick(dimension: Int, idType: IDType = .int64, autoID: Bool = false) throws -> CollectionSchema {
        let idField: FieldSchema
        switch idType {
        case .int64: idField = FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true, autoID: autoID)
        case .varchar(let n):
            guard !autoID else { throw QuiverError.invalidArgument("auto_id needs an int64 id; got a varchar id type") }
            idField = FieldSchema(name: "id", dataType: .varchar(maxLength: n), isPrimaryKey: true)
        }
        return try CollectionSchema(
            fields: [idField, FieldSchema(name: "vector", dataType: .floatVector(dimension: dimension))],
            enableDynamicField: true)
    }

    /// The primary key field.
    public var primaryField: FieldSchema { fields.first(where: \.isPrimaryKey)! }

    /// The dense vector fields (float, float16, bfloat16, binary), in schema order.
    public var vectorFields: [FieldSchema] { fields.filter { $0.dataType.isVector } }

    /// The sparse vector fields, in schema order.
    public var sparseVectorFields: [FieldSchema] { fields.filter { $0.dataType.isSparseVector } }

    /// Every field a search can rank by, dense or sparse, in schema order.
    public var searchableFields: [FieldSchema] { fields.filter { $0.dataType.isSearchable } }

    /// The field named `name`, if any.
    public func field(named name: String) -> FieldSchema? { fields.first { $0.name == name } }

    private mutating func validate() throws {
        var seen = Set<String>()
        for field in fields {
            try Names.validateField(field.name)
            if let analyzer = try field.validatedAnalyzer() { analyzers[field.name] = analyzer }
            guard seen.insert(field.name).inserted else {
                throw QuiverError.invalidArgument("field '\(field.name)' appears twice in the schema")
            }
            switch field.dataType {
            case .varchar(let n) where n < 1 || n > 65_535:
                throw QuiverError.invalidArgument("varchar field '\(field.name)' needs a max_length in 1...65535, got \(n)")
            case .array(let element, let capacity):
                guard element.isScalar else {
                    throw QuiverError.invalidArgument("array field '\(field.name)' has element type \(element); use a scalar type (bool, intN, float, double, varchar)")
                }
                if case .varchar(let n) = element, n < 1 || n > 65_535 {
                    throw QuiverError.invalidArgument("array field '\(field.name)' needs an element max_length in 1...65535, got \(n)")
                }
                guard (1...4096).contains(capacity) else {
                    throw QuiverError.invalidArgument("array field '\(field.name)' needs a max_capacity in 1...4096, got \(capacity)")
                }
            case .floatVector(let d), .float16Vector(let d), .bfloat16Vector(let d), .binaryVector(let d):
                if field.dataType.isBinaryVector {
                    guard d % 8 == 0, (8...65_536).contains(d) else {
                        throw QuiverError.invalidArgument("binary vector field '\(field.name)' needs a dimension that is a multiple of 8 in 8...65536, got \(d)")
                    }
                } else {
                    guard (1...32_768).contains(d) else {
                        throw QuiverError.invalidArgument("vector field '\(field.name)' needs a dimension in 1...32768, got \(d)")
                    }
                }
                guard true else {
                    throw QuiverError.invalidArgument("vector field '\(field.name)' needs a dimension in 1...32768, got \(d)")
                }
                guard !field.nullable else {
                    throw QuiverError.invalidArgument("vector field '\(field.name)' cannot be nullable")
                }
            case .sparseFloatVector:
                guard !field.nullable else {
                    throw QuiverError.invalidArgument("vector field '\(field.name)' cannot be nullable")
                }
            default: break
            }
            if field.autoID && !field.isPrimaryKey {
                throw QuiverError.invalidArgument("field '\(field.name)' sets auto_id but is not the primary key")
            }
            if let value = field.defaultValue, !value.isNull {
                if field.isPrimaryKey || field.dataType.isSearchable || field.dataType == .json {
                    throw QuiverError.invalidArgument("field '\(field.name)' of type \(field.dataType.name) cannot have a default value")
                }
                _ = try FieldValidator.coerce(value, to: field, row: nil)
            }
        }
        let keys = fields.filter(\.isPrimaryKey)
        guard keys.count == 1 else {
            throw QuiverError.invalidArgument("a schema needs exactly one primary key field, found \(keys.count)")
        }
        let key = keys[0]
        switch key.dataType {
        case .int64: break
        case .varchar:
            if key.autoID { throw QuiverError.invalidArgument("auto_id needs an int64 primary key; '\(key.name)' is varchar") }
        default:
            throw QuiverError.invalidArgument("primary key '\(key.name)' must be int64 or varchar, not \(key.dataType.name)")
        }
        if key.nullable { throw QuiverError.invalidArgument("primary key '\(key.name)' cannot be nullable") }
        guard !searchableFields.isEmpty else {
            throw QuiverError.invalidArgument("a schema needs at least one vector field (dense or sparse)")
        }
        let partitionKeys = fields.filter(\.isPartitionKey)
        guard partitionKeys.count <= 1 else {
            throw QuiverError.invalidArgument("a schema may have one partition key field, found \(partitionKeys.count)")
        }
        if let field = partitionKeys.first {
            guard field.dataType == .int64 || { if case .varchar = field.dataType { true } else { false } }() else {
                throw QuiverError.invalidArgument("partition key field '\(field.name)' must be int64 or varchar, not \(field.dataType.name)")
            }
            guard !field.isPrimaryKey, !field.nullable else {
                throw QuiverError.invalidArgument("partition key field '\(field.name)' cannot be the primary key or nullable")
            }
            guard (1...Self.maxPartitionKeyPartitions).contains(numPartitions) else {
                throw QuiverError.invalidArgument(
                    "num_partitions must be in 1...\(Self.maxPartitionKeyPartitions) for a partition key, got \(numPartitions)")
            }
        } else {
            numPartitions = 16  // not used without a partition key; kept equal so that equal schemas compare equal
        }
        try validateFunctions()
    }
}

/// The primary key type for the quick-setup `createCollection`.
public enum IDType: Sendable, Hashable {
    /// 64-bit integer keys; with `autoID`, Quiver generates them.
    case int64
    /// Text keys of at most `maxLength` UTF-8 bytes, given with every row.
    case varchar(maxLength: Int)
}

enum Names {
    /// Collection names follow Milvus: a letter or `_` first, then letters, digits and `_`, at most 255.
    static func validateCollection(_ name: String) throws {
        try validate(name, what: "collection")
    }

    /// Aliases share the collections' namespace and rule.
    static func validateAlias(_ name: String) throws {
        try validate(name, what: "alias")
    }

    static func validateField(_ name: String) throws {
        try validate(name, what: "field")
    }

    /// Partition names follow the same rule (Milvus's `validatePartitionTag`).
    static func validatePartition(_ name: String) throws {
        try validate(name, what: "partition")
    }

    /// Index names follow the same rule (Milvus's `validateIndexName`).
    static func validateIndex(_ name: String) throws {
        try validate(name, what: "index")
    }

    /// Function names follow the same rule.
    static func validateFunction(_ name: String) throws {
        try validate(name, what: "function")
    }

    private static func validate(_ name: String, what: String) throws {
        guard !name.isEmpty else { throw QuiverError.invalidArgument("\(what) name is empty") }
        guard name.utf8.count <= 255 else {
            throw QuiverError.invalidArgument("\(what) name '\(name.prefix(32))…' is longer than 255 characters")
        }
        let bytes = Array(name.utf8)
        let first = bytes[0]
        let isLetter = { (c: UInt8) in (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        guard isLetter(first) || first == UInt8(ascii: "_") else {
            throw QuiverError.invalidArgument("\(what) name '\(name)' must start with a letter or '_'")
        }
        for c in bytes where !(isLetter(c) || (c >= 48 && c <= 57) || c == UInt8(ascii: "_")) {
            throw QuiverError.invalidArgument("\(what) name '\(name)' may contain only letters, digits and '_'")
        }
    }
}
