import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Vector search: query vectors from the placeholder group (or primary keys), the filter with its
/// template values, and the search parameters pymilvus sends as key/value pairs.
extension MilvusService {
    /// The most query vectors one search may carry.
    static let maxQueries = 16_384

    /// The search parameters of a `SearchRequest` (`search_params`): `topk`/`limit`, `offset`,
    /// `round_decimal`, `metric_type`, `anns_field`, `group_by_field`, `group_size`,
    /// `strict_group_size`, and `params` (JSON: `ef`, `nprobe`, `radius`, `range_filter`, …).
    struct SearchParameters {
        var limit = 10
        var offset = 0
        /// `metric_type` as sent; resolved against the searched field by `engineSearch`.
        var metricName = ""
        var annsField: String?
        var options = SearchOptions()

        init(_ pairs: [Milvus_Proto_Common_KeyValuePair]) throws {
            let values = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            if let text = values["topk"] ?? values["limit"] { limit = try MilvusService.integer(text, name: "topk") }
            if let text = values["offset"] { offset = try MilvusService.integer(text, name: "offset") }
            if let text = values["round_decimal"] { options.roundDecimal = try MilvusService.integer(text, name: "round_decimal") }
            metricName = values["metric_type"] ?? ""
            if let text = values["anns_field"], !text.isEmpty { annsField = text }
            if let text = values["group_by_field"], !text.isEmpty { options.groupBy = text }
            if let text = values["group_size"] { options.groupSize = try MilvusService.integer(text, name: "group_size") }
            if let text = values["strict_group_size"] { options.strictGroupSize = text.lowercased() == "true" }
            var params = [String: Value]()
            if let text = values["params"], !text.isEmpty {
                guard case .object(let object) = try Self.json(text, name: "params") else {
                    throw MilvusError.invalid("search parameter params must be a JSON object, got '\(text)'")
                }
                params = object
            }
            for key in ["radius", "range_filter"] {
                if let text = values[key], params[key] == nil { params[key] = try Self.json(text, name: key) }
            }
            if let radius = params.removeValue(forKey: "radius") { options.radius = try Self.float(radius, name: "radius") }
            if let range = params.removeValue(forKey: "range_filter") { options.rangeFilter = try Self.float(range, name: "range_filter") }
            options.params = params
        }

        private static func json(_ text: String, name: String) throws -> Value {
            do { return try Value(json: text) } catch {
                throw MilvusError.invalid("search parameter \(name) is not JSON: '\(text)'")
            }
        }

        private static func float(_ value: Value, name: String) throws -> Float {
            guard let d = value.doubleValue ?? value.stringValue.flatMap(Double.init) else {
                throw MilvusError.invalid("search parameter \(name) must be a number")
            }
            return Float(d)
        }
    }

    func search(request: Milvus_Proto_Milvus_SearchRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_SearchResults {
        await answer { [database] in
            let name = request.collectionName
            let schema = try schema(of: name, database: request.dbName)
            guard request.subReqs.isEmpty, !request.hasFunctionScore, request.functionChains.isEmpty else {
                throw MilvusError.unsupported("sub-requests, function scores and function chains in Search (hybrid search is the HybridSearch RPC)")
            }
            let outputNames = try Self.outputNames(request.outputFields, schema: schema)
            var search = try Self.engineSearch(request, schema: schema)
            // The group-by field's values are returned in `group_by_field_value`; ask for them too.
            var engineFields = outputNames
            if let group = search.options.groupBy, !engineFields.contains(group) { engineFields.append(group) }
            search.outputFields = engineFields
            let hits = try database.search(name, search)
            return Self.searchResults(
                hits, collection: name, limit: search.limit, outputNames: outputNames, groupBy: search.options.groupBy,
                schema: schema)
        }
    }

    /// The engine's search of a `SearchRequest` message: its queries (placeholder group of
    /// vectors or texts, or primary keys), filter with template values, partitions and search
    /// parameters, with the metric resolved against the searched field of `schema` (`BM25` for
    /// a BM25 function's output); no output fields (the caller adds those it needs). `Search`
    /// and each sub-request of `HybridSearch` come through here.
    static func engineSearch(_ request: Milvus_Proto_Milvus_SearchRequest, schema: CollectionSchema) throws -> SearchRequest {
        let parameters = try SearchParameters(request.searchParams)
        let queries: SearchRequest.Queries
        switch request.searchInput {
        case .placeholderGroup(let bytes)?:
            switch try Self.queryVectors(bytes) {
            case .floats(let vectors): queries = .vectors(vectors)
            case .sparse(let vectors): queries = .sparseVectors(vectors)
            case .bytes(let vectors): queries = .binaryVectors(vectors)
            case .texts(let texts): queries = .texts(texts)
            }
        case .ids(let ids)?:
            let keys: [Value] = switch ids.idField {
            case .intID(let a)?: a.data.map { .int($0) }
            case .strID(let a)?: a.data.map { .string($0) }
            case nil: []
            }
            guard !keys.isEmpty, keys.count <= Self.maxQueries else {
                throw MilvusError.invalid("search by primary keys needs 1…\(Self.maxQueries) keys, got \(keys.count)")
            }
            queries = .ids(keys)
        case nil:
            throw MilvusError.invalid("the search request has no query vectors")
        }
        // The searched field as the engine picks it: the one named, a BM25 output for texts, or the only one.
        let field: String? = if let name = parameters.annsField {
            name
        } else if case .texts = queries {
            schema.functions.first { $0.type == .bm25 }?.outputFieldNames.first
        } else {
            schema.searchableFields.count == 1 ? schema.searchableFields[0].name : nil
        }
        let metric = try SchemaConversion.metric(wireName: parameters.metricName, field: field, schema: schema)
        return SearchRequest(
            queries: queries, limit: parameters.limit, offset: parameters.offset, filter: request.dsl,
            filterParams: try FieldConversion.templateValues(request.exprTemplateValues), annsField: parameters.annsField,
            metric: metric, options: parameters.options, partitions: request.partitionNames)
    }

    /// `SearchResults` of hits: ids, scores, the output fields' columns (`outputNames`, as the
    /// request named them) and, when grouping, the group values.
    static func searchResults(
        _ hits: [[Hit]], collection: String, limit: Int, outputNames: [String], groupBy: String?, schema: CollectionSchema
    ) -> Milvus_Proto_Milvus_SearchResults {
        var data = Milvus_Proto_Schema_SearchResultData()
        data.numQueries = Int64(hits.count)
        data.topK = Int64(limit)
        data.topks = hits.map { Int64($0.count) }
        let flat = hits.flatMap { $0 }
        data.ids = FieldConversion.ids(flat.map(\.id), schema: schema)
        data.scores = flat.map(\.distance)
        data.primaryFieldName = schema.primaryField.name
        let projection = FieldConversion.Projection(outputNames, schema: schema, includePrimaryKey: false)
        data.fieldsData = FieldConversion.columns(of: flat.map(\.entity), projection: projection, schema: schema)
        data.outputFields = projection.outputNames
        if let group = groupBy, let field = schema.field(named: group) {
            data.groupByFieldValue = FieldConversion.column(
                field, id: FieldConversion.fieldID(of: group, in: schema), values: flat.map { $0.entity[group] ?? .null })
        }
        var response = Milvus_Proto_Milvus_SearchResults()
        response.results = data
        response.collectionName = collection
        return response
    }

    enum QueryVectors {
        case floats([[Float]])
        case bytes([[UInt8]])
        case sparse([SparseVector])
        case texts([String])
    }

    /// The query vectors of a serialized `PlaceholderGroup`: float vectors as little-endian
    /// float32, float16 and bfloat16 vectors widened to float, binary vectors as bytes, sparse
    /// vectors as (index, weight) pairs (`SparseConversion`), and texts (type `VarChar`) as UTF-8.
    static func queryVectors(_ serialized: Data) throws -> QueryVectors {
        let group: Milvus_Proto_Common_PlaceholderGroup
        do { group = try Milvus_Proto_Common_PlaceholderGroup(serializedBytes: serialized) } catch {
            throw MilvusError.invalid("the placeholder group does not decode: \(error)")
        }
        guard group.placeholders.count == 1, let placeholder = group.placeholders.first else {
            throw MilvusError.invalid("the placeholder group must hold one placeholder, got \(group.placeholders.count)")
        }
        let values = placeholder.values
        guard !values.isEmpty, values.count <= maxQueries else {
            throw MilvusError.invalid("a search needs 1…\(maxQueries) query vectors, got \(values.count)")
        }
        switch placeholder.type {
        case .floatVector:
            return .floats(try values.enumerated().map { i, bytes in
                guard bytes.count % 4 == 0 else { throw MilvusError.invalid("query vector \(i) is not a whole number of float32 values") }
                return bytes.withUnsafeBytes { raw in
                    (0..<bytes.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                }
            })
        case .float16Vector, .bfloat16Vector:
            return .floats(try values.enumerated().map { i, bytes in
                guard bytes.count % 2 == 0 else { throw MilvusError.invalid("query vector \(i) is not a whole number of 16-bit values") }
                return HalfFloat.widen(bytes, float16: placeholder.type == .float16Vector)
            })
        case .binaryVector:
            return .bytes(values.map { [UInt8]($0) })
        case .sparseFloatVector:
            return .sparse(try values.enumerated().map { i, bytes in try SparseConversion.vector(bytes, what: "query vector \(i)") })
        case .varChar:
            // Full-text queries (pymilvus's `data=["text"]` for a BM25 field): one UTF-8 string each.
            return .texts(try values.enumerated().map { i, bytes in
                guard let text = String(data: bytes, encoding: .utf8) else { throw MilvusError.invalid("query text \(i) is not UTF-8") }
                return text
            })
        default:
            throw MilvusError.invalid("query vectors of type \(placeholder.type) are not supported by Quiver")
        }
    }
}
