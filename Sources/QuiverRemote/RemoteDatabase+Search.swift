import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Vector search: the query vectors in a `PlaceholderGroup` (or primary keys), the filter with
/// its template values, and the search parameters as the key/value pairs pymilvus sends.
extension RemoteDatabase {
    /// Searches (`Search` with `Strong` consistency): one list of hits per query, nearest first,
    /// with the output fields asked for in each hit's entity.
    ///
    /// The parameters travel as pymilvus sends them: `topk`, `offset`, `round_decimal`,
    /// `ignore_growing`, `metric_type`, `anns_field`, `group_by_field`, `group_size`,
    /// `strict_group_size`, and `params` as JSON holding the index parameters (`ef`,
    /// `nprobe`) with `radius` and `range_filter`. Float16 and bfloat16 fields get their
    /// queries narrowed to 16 bits, as the server compares them.
    ///
    /// - Throws: `.dimensionMismatch` for a query of the wrong length (before sending);
    ///   `.invalidArgument` for a field that is not a vector field of the right kind, bad
    ///   paging or options; `.filterSyntax`; `.notFound` for a missing collection.
    public func search(_ collection: String, _ request: SearchRequest) async throws -> [[Hit]] {
        let schema = try await schema(of: collection)
        let message = try Self.searchMessage(collection, request, schema: schema, databaseName: databaseName)
        let response = try await call("Search", idempotent: true) { [message] service, metadata, options in
            try await service.search(message, metadata: metadata, options: options)
        }
        return try Self.hits("Search", response.results, outputFields: request.outputFields ?? [], schema: schema)
    }

    /// The `SearchRequest` message of a search, checked first as the embedded engine would
    /// (field, dimensions, paging) so bad input fails before it is sent.
    static func searchMessage(
        _ collection: String, _ request: SearchRequest, schema: CollectionSchema, databaseName: String
    ) throws -> Milvus_Proto_Milvus_SearchRequest {
        let field = try Self.vectorField(request.annsField, queries: request.queries, schema: schema)
        guard request.limit >= 1, request.offset >= 0, request.limit <= maxTopK, request.offset <= maxTopK - request.limit else {
            throw QuiverError(.invalidArgument, "limit must be at least 1 and limit + offset at most \(maxTopK), got limit \(request.limit) and offset \(request.offset)")
        }
        var message = Milvus_Proto_Milvus_SearchRequest()
        message.dbName = databaseName
        message.collectionName = collection
        message.dsl = request.filter.trimmingCharacters(in: .whitespacesAndNewlines)
        message.dslType = .boolExprV1
        message.exprTemplateValues = try FieldConversion.templateValues(request.filterParams)
        message.outputFields = request.outputFields ?? []
        message.partitionNames = request.partitions
        message.consistencyLevel = .strong
        message.useDefaultConsistency = false
        switch request.queries {
        case .vectors(let vectors):
            message.placeholderGroup = try Self.placeholders(vectors: vectors, field: field)
            message.nq = Int64(vectors.count)
        case .binaryVectors(let vectors):
            message.placeholderGroup = try Self.placeholders(bits: vectors, field: field)
            message.nq = Int64(vectors.count)
        case .sparseVectors(let vectors):
            message.placeholderGroup = try Self.placeholders(sparse: vectors)
            message.nq = Int64(vectors.count)
        case .ids(let keys):
            guard !keys.isEmpty else { throw QuiverError(.invalidArgument, "search by primary keys needs at least one key") }
            message.ids = FieldConversion.ids(keys, schema: schema)
            message.nq = Int64(keys.count)
        case .texts(let texts):
            message.placeholderGroup = try Self.placeholders(texts: texts)
            message.nq = Int64(texts.count)
        }
        guard message.nq >= 1 else { throw QuiverError(.invalidArgument, "a search needs at least one query") }
        message.searchParams = Self.searchParameters(request, field: field, schema: schema)
        return message
    }

    /// The hits of a server's `SearchResultData`, one list per query, with the output fields in
    /// each hit's entity.
    ///
    /// - Throws: `.serverError` when the result's ids, scores and counts disagree.
    static func hits(
        _ rpc: String, _ data: Milvus_Proto_Schema_SearchResultData, outputFields: [String], schema: CollectionSchema
    ) throws -> [[Hit]] {
        let ids = FieldConversion.keys(data.ids)
        let total = data.topks.reduce(0) { $0 + Int($1) }
        guard ids.count == total, data.scores.count == total else {
            throw QuiverError(.serverError, "\(rpc): the server's result has \(ids.count) ids and \(data.scores.count) scores for \(total) hits")
        }
        var entities = [Row](repeating: [:], count: total)
        if !outputFields.isEmpty {
            entities = try Self.resultRows(
                rpc, data.fieldsData, count: total, outputFields: outputFields, returned: data.outputFields, schema: schema,
                includePrimaryKey: false)
        }
        var hits = [[Hit]]()
        hits.reserveCapacity(data.topks.count)
        var next = 0
        for k in data.topks {
            hits.append((next..<next + Int(k)).map { Hit(id: ids[$0], distance: data.scores[$0], entity: entities[$0]) })
            next += Int(k)
        }
        return hits
    }

    /// The vector field a search runs on: the one named, or the schema's only one.
    static func vectorField(_ name: String?, queries: SearchRequest.Queries, schema: CollectionSchema) throws -> FieldSchema {
        let field: FieldSchema
        if let name {
            guard let f = schema.field(named: name), f.dataType.isSearchable else {
                throw QuiverError(.invalidArgument, "'\(name)' is not a vector field of the collection")
            }
            field = f
        } else {
            let candidates: [FieldSchema]
            switch queries {
            case .vectors: candidates = schema.vectorFields.filter { !$0.dataType.isBinaryVector }
            case .binaryVectors: candidates = schema.vectorFields.filter(\.dataType.isBinaryVector)
            case .ids: candidates = schema.searchableFields
            case .sparseVectors: candidates = schema.sparseVectorFields
            // Texts go to the first BM25 output field, as the embedded engine picks it.
            case .texts: candidates = schema.functions.first { $0.type == .bm25 }.flatMap { schema.field(named: $0.outputFieldNames[0]) }.map { [$0] } ?? []
            }
            guard candidates.count == 1 else {
                throw QuiverError(.invalidArgument, candidates.isEmpty
                    ? "the collection has no vector field for these queries"
                    : "the collection has several vector fields; name one with annsField")
            }
            field = candidates[0]
        }
        switch queries {
        case .vectors where field.dataType.isBinaryVector:
            throw QuiverError(.invalidArgument, "field '\(field.name)' holds binary vectors; search it with binaryVectors")
        case .binaryVectors where !field.dataType.isBinaryVector:
            throw QuiverError(.invalidArgument, "field '\(field.name)' holds float vectors; search it with vectors")
        case .texts where !SchemaConversion.isBM25Output(field.name, in: schema):
            throw QuiverError(.invalidArgument, "'\(field.name)' is not the output of a BM25 function; only such a field is searched with texts")
        case _ where !queries.isTexts && SchemaConversion.isBM25Output(field.name, in: schema):
            throw QuiverError(.invalidArgument, "'\(field.name)' is the output of a BM25 function; search it with texts")
        case .sparseVectors where !field.dataType.isSparseVector, .vectors where field.dataType.isSparseVector:
            throw QuiverError(.invalidArgument, field.dataType.isSparseVector
                ? "field '\(field.name)' holds sparse vectors; search it with sparseVectors"
                : "field '\(field.name)' is not a sparse vector field; search it with vectors")
        default:
            return field
        }
    }

    /// A serialized `PlaceholderGroup` of full-text queries, as pymilvus sends `data=["text"]`
    /// for a BM25 function's output field: type `VarChar`, one UTF-8 string per query.
    static func placeholders(texts: [String]) throws -> Data {
        var placeholder = Milvus_Proto_Common_PlaceholderValue()
        placeholder.tag = "$0"
        placeholder.type = .varChar
        placeholder.values = texts.map { Data($0.utf8) }
        var group = Milvus_Proto_Common_PlaceholderGroup()
        group.placeholders = [placeholder]
        return try group.serializedData()
    }

    /// A serialized `PlaceholderGroup` of float queries: little-endian float32, or float16 /
    /// bfloat16 bits for fields of those types.
    static func placeholders(vectors: [[Float]], field: FieldSchema) throws -> Data {
        let dimension = field.dataType.dimension ?? 0
        var placeholder = Milvus_Proto_Common_PlaceholderValue()
        placeholder.tag = "$0"
        switch field.dataType {
        case .float16Vector: placeholder.type = .float16Vector
        case .bfloat16Vector: placeholder.type = .bfloat16Vector
        default: placeholder.type = .floatVector
        }
        placeholder.values = try vectors.enumerated().map { i, v in
            guard v.count == dimension else {
                throw QuiverError(.dimensionMismatch, "query vector \(i) has \(v.count) dimensions, field '\(field.name)' has \(dimension)")
            }
            var bytes = [UInt8]()
            switch placeholder.type {
            case .floatVector:
                bytes.reserveCapacity(4 * v.count)
                for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            default:
                bytes.reserveCapacity(2 * v.count)
                for x in v {
                    let bits = placeholder.type == .float16Vector ? HalfFloat.half(from: x) : HalfFloat.bfloat16(from: x)
                    bytes.append(UInt8(bits & 0xff))
                    bytes.append(UInt8(bits >> 8))
                }
            }
            return Data(bytes)
        }
        var group = Milvus_Proto_Common_PlaceholderGroup()
        group.placeholders = [placeholder]
        return try group.serializedData()
    }

    /// A serialized `PlaceholderGroup` of sparse queries (type `SparseFloatVector`, each one
    /// byte string of (index u32, weight f32) pairs, as pymilvus sends them).
    static func placeholders(sparse: [SparseVector]) throws -> Data {
        var placeholder = Milvus_Proto_Common_PlaceholderValue()
        placeholder.tag = "$0"
        placeholder.type = .sparseFloatVector
        placeholder.values = sparse.map(SparseConversion.bytes)
        var group = Milvus_Proto_Common_PlaceholderGroup()
        group.placeholders = [placeholder]
        return try group.serializedData()
    }

    /// A serialized `PlaceholderGroup` of binary queries (`dimension / 8` bytes each).
    static func placeholders(bits: [[UInt8]], field: FieldSchema) throws -> Data {
        let bytes = (field.dataType.dimension ?? 0) / 8
        var placeholder = Milvus_Proto_Common_PlaceholderValue()
        placeholder.tag = "$0"
        placeholder.type = .binaryVector
        placeholder.values = try bits.enumerated().map { i, v in
            guard v.count == bytes else {
                throw QuiverError(.dimensionMismatch, "query vector \(i) has \(v.count * 8) bits, field '\(field.name)' has \(bytes * 8)")
            }
            return Data(v)
        }
        var group = Milvus_Proto_Common_PlaceholderGroup()
        group.placeholders = [placeholder]
        return try group.serializedData()
    }

    /// `search_params` as pymilvus writes them (values as Python's `str()`, `params` as JSON).
    static func searchParameters(
        _ request: SearchRequest, field: FieldSchema, schema: CollectionSchema
    ) -> [Milvus_Proto_Common_KeyValuePair] {
        let options = request.options
        var pairs = [
            pair("topk", String(request.limit)),
            pair("round_decimal", String(options.roundDecimal)),
            pair("ignore_growing", "False"),
        ]
        if request.offset > 0 { pairs.append(pair("offset", String(request.offset))) }
        if let group = options.groupBy {
            pairs.append(pair("group_by_field", group))
            pairs.append(pair("group_size", String(options.groupSize)))
            pairs.append(pair("strict_group_size", options.strictGroupSize ? "True" : "False"))
        }
        if let metric = request.metric {
            pairs.append(pair("metric_type", SchemaConversion.wireMetricName(metric, field: field.name, schema: schema)))
        }
        pairs.append(pair("anns_field", field.name))
        var params = options.params
        if let radius = options.radius { params["radius"] = .double(Double(radius)) }
        if let rangeFilter = options.rangeFilter { params["range_filter"] = .double(Double(rangeFilter)) }
        pairs.append(pair("params", Value.object(params).jsonString))
        return pairs
    }
}

extension SearchRequest.Queries {
    /// Whether these are query texts (a full-text search).
    fileprivate var isTexts: Bool { if case .texts = self { true } else { false } }
}
