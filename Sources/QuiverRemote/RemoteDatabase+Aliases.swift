import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Aliases: `CreateAlias`, `AlterAlias`, `DropAlias`, `DescribeAlias`, `ListAliases`.
///
/// The schema cache is keyed by the name a caller uses, an alias included, so moving or dropping
/// an alias through this client forgets what was cached under it (a change made by another
/// client is seen at the next `DescribeCollection` of that name, as for a rename).
extension RemoteDatabase {
    /// Creates `alias` as a second name of `collection` (not retried: a repeated create fails
    /// where the first succeeded).
    ///
    /// - Throws: `.alreadyExists` when `alias` is an alias or a collection's name already;
    ///   `.notFound` when there is no such collection; `.invalidArgument` for a bad name.
    public func createAlias(_ collection: String, alias: String) async throws {
        var request = Milvus_Proto_Milvus_CreateAliasRequest()
        request.dbName = databaseName
        request.collectionName = collection
        request.alias = alias
        _ = try await call("CreateAlias", idempotent: false) { [request] service, metadata, options in
            try await service.createAlias(request, metadata: metadata, options: options)
        }
        connection.schemas.withLock { $0[alias] = nil }
    }

    /// Points the existing `alias` at `collection` (idempotent, so retried on unavailability).
    ///
    /// - Throws: `.notFound` when `alias` is no alias or there is no such collection.
    public func alterAlias(_ collection: String, alias: String) async throws {
        var request = Milvus_Proto_Milvus_AlterAliasRequest()
        request.dbName = databaseName
        request.collectionName = collection
        request.alias = alias
        _ = try await call("AlterAlias", idempotent: true) { [request] service, metadata, options in
            try await service.alterAlias(request, metadata: metadata, options: options)
        }
        connection.schemas.withLock { $0[alias] = nil }
    }

    /// Removes an alias. Milvus answers success for an alias that does not exist; this call
    /// asks `DescribeAlias` first and throws `.notFound` then, as the embedded engine does.
    ///
    /// - Throws: `.notFound` when there is no such alias.
    public func dropAlias(_ alias: String) async throws {
        _ = try await describeAlias(alias)
        var request = Milvus_Proto_Milvus_DropAliasRequest()
        request.dbName = databaseName
        request.alias = alias
        _ = try await call("DropAlias", idempotent: true) { [request] service, metadata, options in
            try await service.dropAlias(request, metadata: metadata, options: options)
        }
        connection.schemas.withLock { $0[alias] = nil }
    }

    /// The name of the collection `alias` names (`DescribeAlias`).
    ///
    /// - Throws: `.notFound` when there is no such alias.
    public func describeAlias(_ alias: String) async throws -> String {
        var request = Milvus_Proto_Milvus_DescribeAliasRequest()
        request.dbName = databaseName
        request.alias = alias
        return try await call("DescribeAlias", idempotent: true) { [request] service, metadata, options in
            try await service.describeAlias(request, metadata: metadata, options: options)
        }.collection
    }

    /// The aliases of `collection`, or of every collection for `nil` (`ListAliases`), sorted.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func listAliases(_ collection: String?) async throws -> [String] {
        var request = Milvus_Proto_Milvus_ListAliasesRequest()
        request.dbName = databaseName
        request.collectionName = collection ?? ""
        return try await call("ListAliases", idempotent: true) { [request] service, metadata, options in
            try await service.listAliases(request, metadata: metadata, options: options)
        }.aliases.sorted()
    }
}
