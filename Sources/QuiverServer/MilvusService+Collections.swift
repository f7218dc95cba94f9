import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol
import SwiftProtobuf

/// Collections: create, drop, has, describe, list, rename, statistics, load and release. Each
/// takes an alias for the collection's name (the database resolves it), except drop.
///
/// Quiver keeps every collection searchable while the database is open (segments are opened at
/// startup and new rows are searchable at once), so load state is always "loaded" and release
/// changes nothing: the answers are true of Quiver rather than imitations of Milvus's loading.
extension MilvusService {
    /// The metric a collection gets until its first index names one: COSINE, the metric of
    /// pymilvus's quick setup (HAMMING for a collection of binary vectors; IP for one of sparse
    /// vectors only, which are always compared with IP).
    static func provisionalMetric(for schema: CollectionSchema) -> MetricType {
        if schema.vectorFields.isEmpty { return .ip }
        return schema.vectorFields.allSatisfy(\.dataType.isBinaryVector) ? .hamming : .cosine
    }

    func createCollection(request: Milvus_Proto_Milvus_CreateCollectionRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            let wire: Milvus_Proto_Schema_CollectionSchema
            do { wire = try Milvus_Proto_Schema_CollectionSchema(serializedBytes: request.schema) } catch {
                throw MilvusError.invalid("the collection schema does not decode: \(error)")
            }
            let schema = try SchemaConversion.schema(from: wire, numPartitions: request.numPartitions)
            let name = request.collectionName
            // Milvus accepts a repeated create with the same schema and refuses a different one.
            // (An alias's name is taken too: `createCollection` refuses it below.)
            if database.hasCollection(name), case let existing = try database.describeCollection(name), existing.name == name {
                guard existing.schema == schema else {
                    throw MilvusError.invalid("create duplicate collection with different parameters, collection: \(name)")
                }
                return Self.success
            }
            try database.createCollection(name, schema: schema, metric: Self.provisionalMetric(for: schema))
            return Self.success
        }
    }

    func dropCollection(request: Milvus_Proto_Milvus_DropCollectionRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            // Milvus answers success for a collection that does not exist.
            guard database.hasCollection(request.collectionName) else { return Self.success }
            try database.dropCollection(request.collectionName)
            return Self.success
        }
    }

    func hasCollection(request: Milvus_Proto_Milvus_HasCollectionRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_BoolResponse {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            var response = Milvus_Proto_Milvus_BoolResponse()
            response.value = database.hasCollection(request.collectionName)
            return response
        }
    }

    func describeCollection(request: Milvus_Proto_Milvus_DescribeCollectionRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_DescribeCollectionResponse {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            // Given an alias, Milvus describes the collection it names, under that collection's name.
            let description = try database.describeCollection(request.collectionName)
            let name = description.name
            var response = Milvus_Proto_Milvus_DescribeCollectionResponse()
            response.schema = SchemaConversion.wireSchema(name: name, schema: description.schema)
            response.collectionID = Self.collectionID(name)
            response.collectionName = name
            response.dbName = Self.databaseName
            response.shardsNum = 1
            // With a partition key, Milvus's `num_partitions` is the key's partition count.
            response.numPartitions = description.schema.partitionKeyField != nil ? Int64(description.schema.numPartitions) : 1
            response.aliases = description.aliases
            response.consistencyLevel = .strong  // every read sees every acknowledged write
            response.virtualChannelNames = ["\(name)-v0"]
            response.physicalChannelNames = ["\(name)-p0"]
            return response
        }
    }

    func showCollections(request: Milvus_Proto_Milvus_ShowCollectionsRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_ShowCollectionsResponse {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            var names = try database.listCollections()
            if !request.collectionNames.isEmpty {
                for name in request.collectionNames where !names.contains(name) { throw MilvusError.collectionNotFound(name) }
                names = request.collectionNames
            }
            var response = Milvus_Proto_Milvus_ShowCollectionsResponse()
            response.collectionNames = names
            response.collectionIds = names.map(Self.collectionID)
            response.createdTimestamps = names.map { _ in 0 }
            response.createdUtcTimestamps = names.map { _ in 0 }
            response.inMemoryPercentages = names.map { _ in 100 }
            response.queryServiceAvailable = names.map { _ in true }
            response.shardsNum = names.map { _ in 1 }
            return response
        }
    }

    func renameCollection(request: Milvus_Proto_Milvus_RenameCollectionRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            try Self.checkDatabase(request.newDbname)
            try database.renameCollection(request.oldName, to: request.newName)
            return Self.success
        }
    }

    func getCollectionStatistics(
        request: Milvus_Proto_Milvus_GetCollectionStatisticsRequest, context: ServerContext
    ) async throws -> Milvus_Proto_Milvus_GetCollectionStatisticsResponse {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            var response = Milvus_Proto_Milvus_GetCollectionStatisticsResponse()
            let stats = try database.collectionStats(request.collectionName)
            response.stats = [SchemaConversion.keyValue("row_count", String(stats.rowCount))]
            return response
        }
    }

    // MARK: Load state (Database's: loaded on first use or by LoadCollection; reads of a released
    // collection answer 101, collection not loaded, until LoadCollection)

    /// Throws Milvus's CollectionNotFound when `name` does not exist.
    func requireCollection(_ name: String, database db: String) throws {
        try Self.checkDatabase(db)
        guard database.hasCollection(name) else { throw MilvusError.collectionNotFound(name) }
    }

    func loadCollection(request: Milvus_Proto_Milvus_LoadCollectionRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        await answer { [database] in
            try requireCollection(request.collectionName, database: request.dbName)
            try database.loadCollection(request.collectionName)
            return Self.success
        }
    }

    func releaseCollection(request: Milvus_Proto_Milvus_ReleaseCollectionRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        await answer { [database] in
            try requireCollection(request.collectionName, database: request.dbName)
            try database.releaseCollection(request.collectionName)
            return Self.success
        }
    }

    func getLoadingProgress(
        request: Milvus_Proto_Milvus_GetLoadingProgressRequest, context: ServerContext
    ) async throws -> Milvus_Proto_Milvus_GetLoadingProgressResponse {
        await answer { [database] in
            try requireCollection(request.collectionName, database: request.dbName)
            var response = Milvus_Proto_Milvus_GetLoadingProgressResponse()
            let progress: Int64 = try database.loadState(request.collectionName) == .loaded ? 100 : 0
            response.progress = progress
            response.refreshProgress = progress
            return response
        }
    }

    /// NotExist for a missing collection, as Milvus Lite answers (not CollectionNotFound).
    func getLoadState(request: Milvus_Proto_Milvus_GetLoadStateRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_GetLoadStateResponse {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            var response = Milvus_Proto_Milvus_GetLoadStateResponse()
            switch try database.loadState(request.collectionName) {
            case .notExist: response.state = .notExist
            case .notLoad: response.state = .notLoad
            case .loading: response.state = .loading
            case .loaded: response.state = .loaded
            }
            return response
        }
    }
}
