import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Collections: create, drop, has, list, describe, rename, statistics, load, release, flush.
extension RemoteDatabase {
    /// Creates a collection (Milvus `CreateCollection` with `Strong` consistency), gives each
    /// vector field an exact index with `metric` (the metric lives in the index in Milvus) and
    /// loads it, as pymilvus's quick setup does.
    ///
    /// - Throws: `.alreadyExists` when the name is taken; `.invalidArgument` for a schema the
    ///   server rejects; `.unsupported` for a field type it lacks (Milvus Lite has no float16,
    ///   bfloat16 or binary vectors).
    public func createCollection(_ name: String, schema: CollectionSchema, metric: MetricType) async throws {
        if try await hasCollection(name) {
            throw QuiverError(.alreadyExists, "collection '\(name)' already exists")
        }
        var request = Milvus_Proto_Milvus_CreateCollectionRequest()
        request.dbName = databaseName
        request.collectionName = name
        request.schema = try SchemaConversion.wireSchema(name: name, schema: schema).serializedData()
        request.shardsNum = 1
        if schema.partitionKeyField != nil { request.numPartitions = Int64(schema.numPartitions) }
        request.consistencyLevel = .strong
        // Repeatable: Milvus answers a create with the same schema with success.
        _ = try await call("CreateCollection", idempotent: true) { [request] service, metadata, options in
            try await service.createCollection(request, metadata: metadata, options: options)
        }
        connection.schemas.withLock { $0[name] = schema }
        for field in schema.searchableFields {
            let sparse = field.dataType.isSparseVector
            try await sendCreateIndex(
                name, field: field.name, indexName: Self.exactIndexName(field.name), type: Self.exactIndexType(sparse: sparse),
                metric: sparse ? .ip : metric, params: [:])
        }
        try await loadCollection(name)
    }

    /// Drops a collection.
    ///
    /// - Throws: `.notFound` when there is no such collection (Milvus itself answers success).
    public func dropCollection(_ name: String) async throws {
        guard try await hasCollection(name) else { throw Self.collectionNotFound(name) }
        var request = Milvus_Proto_Milvus_DropCollectionRequest()
        request.dbName = databaseName
        request.collectionName = name
        _ = try await call("DropCollection", idempotent: true) { [request] service, metadata, options in
            try await service.dropCollection(request, metadata: metadata, options: options)
        }
        connection.schemas.withLock { $0[name] = nil }
    }

    /// Whether the collection exists: `DescribeCollection` answers it, or Milvus's
    /// "collection not found" (pymilvus's `has_collection`).
    public func hasCollection(_ name: String) async throws -> Bool {
        do {
            _ = try await describe(name)
            return true
        } catch let error as QuiverError where error.code == .notFound {
            return false
        }
    }

    /// The collection names, sorted.
    public func listCollections() async throws -> [String] {
        var request = Milvus_Proto_Milvus_ShowCollectionsRequest()
        request.dbName = databaseName
        let response = try await call("ShowCollections", idempotent: true) { [request] service, metadata, options in
            try await service.showCollections(request, metadata: metadata, options: options)
        }
        return response.collectionNames.sorted()
    }

    /// The schema (from `DescribeCollection`), the metric (from the index of the first vector
    /// field) and the live row count (a `count(*)` query, exact after deletes as the embedded
    /// engine's is; Milvus's statistics count deleted rows until compaction).
    ///
    /// Given an alias, the server describes the collection it names: `name` and `aliases` are
    /// that collection's.
    ///
    /// - Throws: `.notFound` for a missing collection; `.unsupported` for a field type Quiver lacks.
    public func describeCollection(_ name: String) async throws -> CollectionDescription {
        let (response, schema) = try await describeResponse(name)
        let metric = try await collectionMetric(name, schema: schema)
        return CollectionDescription(
            name: response.collectionName.isEmpty ? name : response.collectionName, schema: schema, metric: metric,
            rowCount: try await count(name), aliases: response.aliases.sorted())
    }

    /// Renames a collection (not retried: a repeated rename fails where the first succeeded).
    ///
    /// - Throws: `.notFound` for a missing collection; `.alreadyExists` when the new name is taken.
    public func renameCollection(_ name: String, to newName: String) async throws {
        guard try await hasCollection(name) else { throw Self.collectionNotFound(name) }
        if try await hasCollection(newName) {
            throw QuiverError(.alreadyExists, "collection '\(newName)' already exists")
        }
        var request = Milvus_Proto_Milvus_RenameCollectionRequest()
        request.dbName = databaseName
        request.oldName = name
        request.newName = newName
        _ = try await call("RenameCollection", idempotent: false) { [request] service, metadata, options in
            try await service.renameCollection(request, metadata: metadata, options: options)
        }
        connection.schemas.withLock {
            $0[newName] = $0[name]
            $0[name] = nil
        }
    }

    /// The live row count (a `count(*)` query; the server's statistics for a released
    /// collection); `segmentCount` and `growingRowCount` are 0, as
    /// the protocol gives them to no client here: Milvus's `GetCollectionStatistics` has only a
    /// row count (which counts deleted rows until compaction), and the segment RPCs
    /// (`GetPersistentSegmentInfo`, `GetQuerySegmentInfo`) are served neither by Milvus Lite 3.2.2
    /// nor by `quiver serve`.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func collectionStats(_ name: String) async throws -> CollectionStats {
        CollectionStats(rowCount: try await count(name))
    }

    /// Loads the collection (`LoadCollection`) and waits until `GetLoadingProgress` says 100.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func loadCollection(_ name: String) async throws {
        var request = Milvus_Proto_Milvus_LoadCollectionRequest()
        request.dbName = databaseName
        request.collectionName = name
        _ = try await call("LoadCollection", idempotent: true) { [request] service, metadata, options in
            try await service.loadCollection(request, metadata: metadata, options: options)
        }
        var progress = Milvus_Proto_Milvus_GetLoadingProgressRequest()
        progress.dbName = databaseName
        progress.collectionName = name
        try await poll { [progress] in
            try await self.call("GetLoadingProgress", idempotent: true) { [progress] service, metadata, options in
                try await service.getLoadingProgress(progress, metadata: metadata, options: options)
            }.progress >= 100
        }
    }

    /// Releases the collection (`ReleaseCollection`); `quiver serve` keeps it searchable.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func releaseCollection(_ name: String) async throws {
        var request = Milvus_Proto_Milvus_ReleaseCollectionRequest()
        request.dbName = databaseName
        request.collectionName = name
        _ = try await call("ReleaseCollection", idempotent: true) { [request] service, metadata, options in
            try await service.releaseCollection(request, metadata: metadata, options: options)
        }
    }

    /// The load state (`GetLoadState`); `.notExist` for a missing collection.
    public func loadState(_ name: String) async throws -> LoadState {
        var request = Milvus_Proto_Milvus_GetLoadStateRequest()
        request.dbName = databaseName
        request.collectionName = name
        let response: Milvus_Proto_Milvus_GetLoadStateResponse
        do {
            response = try await call("GetLoadState", idempotent: true) { [request] service, metadata, options in
                try await service.getLoadState(request, metadata: metadata, options: options)
            }
        } catch let error as QuiverError where error.code == .notFound {
            return .notExist
        }
        switch response.state {
        case .loaded: return .loaded
        case .loading: return .loading
        case .notLoad: return .notLoad
        default: return .notExist
        }
    }

    /// Seals what was written (`Flush`) and waits until `GetFlushState` says it is flushed.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func flush(_ collection: String) async throws {
        guard try await hasCollection(collection) else { throw Self.collectionNotFound(collection) }
        var request = Milvus_Proto_Milvus_FlushRequest()
        request.dbName = databaseName
        request.collectionNames = [collection]
        let response = try await call("Flush", idempotent: true) { [request] service, metadata, options in
            try await service.flush(request, metadata: metadata, options: options)
        }
        var state = Milvus_Proto_Milvus_GetFlushStateRequest()
        state.dbName = databaseName
        state.collectionName = collection
        state.segmentIds = response.collSegIds[collection]?.data ?? []
        state.flushTs = response.collFlushTs[collection] ?? 0
        try await poll { [state] in
            try await self.call("GetFlushState", idempotent: true) { [state] service, metadata, options in
                try await service.getFlushState(state, metadata: metadata, options: options)
            }.flushed
        }
    }

    // MARK: Shared

    /// The schema of `name`, from the cache or `DescribeCollection`.
    func schema(of name: String) async throws -> CollectionSchema {
        if let schema = connection.schemas.withLock({ $0[name] }) { return schema }
        return try await describe(name)
    }

    /// `DescribeCollection`: the schema, cached.
    @discardableResult
    func describe(_ name: String) async throws -> CollectionSchema {
        try await describeResponse(name).schema
    }

    /// `DescribeCollection`'s response and the schema in it (cached under `name`).
    func describeResponse(_ name: String) async throws -> (response: Milvus_Proto_Milvus_DescribeCollectionResponse, schema: CollectionSchema) {
        var request = Milvus_Proto_Milvus_DescribeCollectionRequest()
        request.dbName = databaseName
        request.collectionName = name
        let response: Milvus_Proto_Milvus_DescribeCollectionResponse
        do {
            response = try await call("DescribeCollection", idempotent: true) { [request] service, metadata, options in
                try await service.describeCollection(request, metadata: metadata, options: options)
            }
        } catch let error as QuiverError where error.code == .notFound {
            connection.schemas.withLock { $0[name] = nil }
            throw error
        }
        let schema: CollectionSchema
        do {
            let keyed = response.schema.fields.contains(where: \.isPartitionKey)
            schema = try SchemaConversion.schema(from: response.schema, numPartitions: keyed ? response.numPartitions : 0)
        } catch let error as MilvusError {
            throw QuiverError(.unsupported, "collection '\(name)' has a schema Quiver cannot represent: \(error.reason)", cause: error)
        }
        connection.schemas.withLock { $0[name] = schema }
        return (response, schema)
    }

    /// The live row count, by a `count(*)` query; for a released collection, which a server does
    /// not query (`.notLoaded`), the row count of `GetCollectionStatistics` (Milvus's counts
    /// deleted rows until compaction; `quiver serve`'s is exact).
    func count(_ name: String) async throws -> Int {
        do {
            let rows = try await query(name, QueryRequest(outputFields: ["count(*)"]))
            return Int(rows.first?["count(*)"]?.intValue ?? 0)
        } catch let error as QuiverError where error.code == .notLoaded {
            var request = Milvus_Proto_Milvus_GetCollectionStatisticsRequest()
            request.dbName = databaseName
            request.collectionName = name
            let response = try await call("GetCollectionStatistics", idempotent: true) { [request] service, metadata, options in
                try await service.getCollectionStatistics(request, metadata: metadata, options: options)
            }
            guard let text = response.stats.first(where: { $0.key == "row_count" })?.value, let count = Int(text) else {
                throw QuiverError(.serverError, "GetCollectionStatistics of '\(name)' has no row_count")
            }
            return count
        }
    }

    static func collectionNotFound(_ name: String) -> QuiverError {
        QuiverError(.notFound, "collection '\(name)' does not exist")
    }

    /// Calls `done` until it is true, waiting 20 ms, then longer up to 500 ms, between calls
    /// (Milvus's load and index builds are asynchronous), for at most the deadline (5 minutes
    /// without one).
    ///
    /// - Throws: `.timeout` when the wait passes the deadline.
    func poll(_ done: @Sendable () async throws -> Bool) async throws {
        let clock = ContinuousClock()
        let end = clock.now + (timeout ?? .seconds(300))
        var delay = Duration.milliseconds(20)
        while try await !done() {
            guard clock.now + delay < end else {
                throw QuiverError(.timeout, "\(uri) did not finish loading or building within \(timeout ?? .seconds(300))")
            }
            try await Task.sleep(for: delay)
            delay = min(.milliseconds(500), delay * 2)
        }
    }
}
