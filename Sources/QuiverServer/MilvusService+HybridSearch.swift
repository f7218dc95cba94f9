import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Hybrid search (`HybridSearch`): each sub-request is a `SearchRequest` message converted as
/// `Search` converts it, and the fusion comes from `rank_params` as pymilvus writes them.
extension MilvusService {
    /// The fusion parameters of a `HybridSearchRequest` (`rank_params`): `strategy` (`"rrf"` or
    /// `"weighted"`), `params` (`{"k": 60}`, or `{"weights": [...], "norm_score": true}`),
    /// `limit`, `offset`, `round_decimal`, `group_by_field`, `group_size`, `strict_group_size`
    /// and `rank_group_scorer` (`max`, `sum`, `avg`). pymilvus writes every value but the group
    /// scorer as JSON (a strategy is `"rrf"` with its quotes); a value that is not JSON is taken
    /// as text, as Milvus Lite does.
    struct RankParameters {
        var ranker: Ranker
        var limit = 10
        var offset = 0
        var roundDecimal = -1
        var groupBy: String?
        var groupSize = 1
        var strictGroupSize = false
        var groupScorer = GroupScorer.max

        init(_ pairs: [Milvus_Proto_Common_KeyValuePair]) throws {
            var values = [String: Value]()
            for pair in pairs { values[pair.key] = (try? Value(json: pair.value)) ?? .string(pair.value) }
            func integer(_ key: String) throws -> Int? {
                guard let v = values[key] else { return nil }
                if case .int(let n) = v { return Int(n) }
                if case .string(let s) = v { return try MilvusService.integer(s, name: key) }
                throw MilvusError.invalid("rank parameter \(key) must be an integer")
            }
            let params: [String: Value]
            switch values["params"] {
            case nil: params = [:]
            case .object(let object)?: params = object
            default: throw MilvusError.invalid("rank parameter params must be a JSON object")
            }
            switch values["strategy"]?.stringValue?.lowercased() ?? "rrf" {
            case "rrf":
                var k = 60.0
                if let v = params["k"] {
                    guard let d = v.doubleValue else { throw MilvusError.invalid("RRF k must be a number") }
                    k = d
                }
                ranker = .rrf(k: k)
            case "weighted":
                guard case .array(let list)? = params["weights"] else {
                    throw MilvusError.invalid("the weighted ranker needs params.weights, a list of numbers")
                }
                let weights = try list.map { v -> Float in
                    guard let d = v.doubleValue else { throw MilvusError.invalid("weights must be numbers") }
                    return Float(d)
                }
                var normalize = false  // Milvus's default when norm_score is absent
                if let v = params["norm_score"] {
                    switch v {
                    case .bool(let b): normalize = b
                    case .string(let s) where ["true", "false"].contains(s.lowercased()): normalize = s.lowercased() == "true"
                    default: throw MilvusError.invalid("norm_score must be true or false")
                    }
                }
                ranker = .weighted(weights, normalizeScores: normalize)
            case let other:
                throw MilvusError.unsupported("rank strategy '\(other)' (Quiver has rrf and weighted)")
            }
            limit = try integer("limit") ?? limit
            offset = try integer("offset") ?? offset
            roundDecimal = try integer("round_decimal") ?? roundDecimal
            if let field = values["group_by_field"]?.stringValue, !field.isEmpty { groupBy = field }
            groupSize = try integer("group_size") ?? groupSize
            if case .bool(let b)? = values["strict_group_size"] { strictGroupSize = b }
            if let text = values["rank_group_scorer"]?.stringValue {
                guard let scorer = GroupScorer(rawValue: text.lowercased()) else {
                    throw MilvusError.invalid("rank_group_scorer must be max, sum or avg, got '\(text)'")
                }
                groupScorer = scorer
            }
        }
    }

    func hybridSearch(
        request: Milvus_Proto_Milvus_HybridSearchRequest, context: ServerContext
    ) async throws -> Milvus_Proto_Milvus_SearchResults {
        await answer { [database] in
            let name = request.collectionName
            let schema = try schema(of: name, database: request.dbName)
            guard !request.hasFunctionScore, request.functionChains.isEmpty else {
                throw MilvusError.unsupported("function scores and function chains in HybridSearch (Quiver ranks with rank_params)")
            }
            let rank = try RankParameters(request.rankParams)
            let searches = try request.requests.map { message in
                var search = try Self.engineSearch(message, schema: schema)
                // pymilvus repeats the hybrid search's offset and grouping in each sub-request;
                // Milvus ignores them there (a sub-search returns its first `limit` hits), and the
                // engine takes them from the hybrid search.
                search.offset = 0
                search.options.groupBy = nil
                return search
            }
            let outputNames = try Self.outputNames(request.outputFields, schema: schema)
            var engineFields = outputNames
            if let group = rank.groupBy, !engineFields.contains(group) { engineFields.append(group) }
            let hybrid = HybridSearchRequest(
                requests: searches, ranker: rank.ranker, limit: rank.limit, offset: rank.offset, outputFields: engineFields,
                groupBy: rank.groupBy, groupSize: rank.groupSize, strictGroupSize: rank.strictGroupSize,
                groupScorer: rank.groupScorer, roundDecimal: rank.roundDecimal, partitions: request.partitionNames)
            let hits = try database.hybridSearch(name, hybrid)
            return Self.searchResults(
                hits, collection: name, limit: rank.limit, outputNames: outputNames, groupBy: rank.groupBy, schema: schema)
        }
    }
}
