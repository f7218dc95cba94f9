import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Aliases: create, alter, drop, describe and list, over `Database`'s aliases (Milvus's
/// semantics: an alias names one collection and shares the collections' namespace; every RPC
/// that takes a collection name takes an alias, since the database resolves names in one place).
extension MilvusService {
    func createAlias(request: Milvus_Proto_Milvus_CreateAliasRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            try database.createAlias(request.collectionName, alias: request.alias)
            return Self.success
        }
    }

    func alterAlias(request: Milvus_Proto_Milvus_AlterAliasRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            try database.alterAlias(request.collectionName, alias: request.alias)
            return Self.success
        }
    }

    func dropAlias(request: Milvus_Proto_Milvus_DropAliasRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            // Milvus answers success for an alias that does not exist, as for a collection.
            guard try database.listAliases().contains(request.alias) else { return Self.success }
            try database.dropAlias(request.alias)
            return Self.success
        }
    }

    func describeAlias(request: Milvus_Proto_Milvus_DescribeAliasRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_DescribeAliasResponse {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            var response = Milvus_Proto_Milvus_DescribeAliasResponse()
            response.collection = try database.describeAlias(request.alias)
            response.alias = request.alias
            response.dbName = Self.databaseName
            return response
        }
    }

    /// The aliases of one collection, or of every collection when the request names none.
    func listAliases(request: Milvus_Proto_Milvus_ListAliasesRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_ListAliasesResponse {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            var response = Milvus_Proto_Milvus_ListAliasesResponse()
            let collection = request.collectionName
            response.aliases = try database.listAliases(collection.isEmpty ? nil : collection)
            response.collectionName = collection
            response.dbName = Self.databaseName
            return response
        }
    }
}
