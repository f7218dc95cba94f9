import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Hybrid search (`HybridSearch`): one `SearchRequest` message per request, as `search` builds
/// it, and the fusion in `rank_params` as pymilvus writes them.
extension RemoteDatabase {
    /// Hybrid search (`HybridSearch` with `Strong` consistency): the requests' rankings fused by
    /// the ranker on the server; one list of hits per query, with the fused scores.
    ///
    /// `rank_params` carry `strategy` (`"rrf"` or `"weighted"`), `params` (`{"k": …}` or
    /// `{"weights": […], "norm_score": …}`), `limit`, `offset`, `round_decimal` and, when
    /// grouping, `group_by_field`, `group_size`, `strict_group_size` and `rank_group_scorer`,
    /// each value JSON as pymilvus writes it (the scorer as plain text).
    ///
    /// - Throws: `.invalidArgument` for what `HybridSearchRequest.validate()` refuses and for a
    ///   request `search` would refuse (before sending); `.dimensionMismatch`; the server's
    ///   errors, mapped as for `search`.
    public func hybridSearch(_ collection: String, _ request: HybridSearchRequest) async throws -> [[Hit]] {
        try request.validate()
        let schema = try await schema(of: collection)
        var message = Milvus_Proto_Milvus_HybridSearchRequest()
        message.dbName = databaseName
        message.collectionName = collection
        message.partitionNames = request.partitions
        message.outputFields = request.outputFields ?? []
        message.consistencyLevel = .strong
        message.useDefaultConsistency = false
        message.requests = try request.requests.enumerated().map { i, r in
            var r = r
            if r.partitions.isEmpty { r.partitions = request.partitions }
            do {
                return try Self.searchMessage(collection, r, schema: schema, databaseName: databaseName)
            } catch let error as QuiverError {
                throw QuiverError(error.code, "request \(i) of the hybrid search: \(error.message)", cause: error.cause)
            }
        }
        message.rankParams = Self.rankParameters(request)
        let response = try await call("HybridSearch", idempotent: true) { [message] service, metadata, options in
            try await service.hybridSearch(message, metadata: metadata, options: options)
        }
        return try Self.hits("HybridSearch", response.results, outputFields: request.outputFields ?? [], schema: schema)
    }

    /// `rank_params` as pymilvus writes them.
    static func rankParameters(_ request: HybridSearchRequest) -> [Milvus_Proto_Common_KeyValuePair] {
        let strategy: String, params: [String: Value]
        switch request.ranker {
        case .rrf(let k):
            strategy = "rrf"
            params = ["k": k.rounded() == k ? .int(Int64(k)) : .double(k)]
        case .weighted(let weights, let normalize):
            strategy = "weighted"
            params = ["weights": .array(weights.map { .double(Double($0)) }), "norm_score": .bool(normalize)]
        }
        var pairs = [
            pair("strategy", Value.string(strategy).jsonString),
            pair("params", Value.object(params).jsonString),
            pair("limit", String(request.limit)),
            pair("round_decimal", String(request.roundDecimal)),
            pair("offset", String(request.offset)),
        ]
        if let group = request.groupBy {
            pairs.append(pair("group_by_field", Value.string(group).jsonString))
            pairs.append(pair("group_size", String(request.groupSize)))
            pairs.append(pair("strict_group_size", request.strictGroupSize ? "true" : "false"))
            pairs.append(pair("rank_group_scorer", request.groupScorer.rawValue))
        }
        return pairs
    }
}
