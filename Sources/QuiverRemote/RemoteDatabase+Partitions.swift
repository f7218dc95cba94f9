import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Partitions: `CreatePartition`, `DropPartition`, `HasPartition`, `ShowPartitions`. Inserts,
/// upserts, deletes, queries and searches send their partition names in the requests
/// (`RemoteDatabase+Data`, `+Search`).
extension RemoteDatabase {
    /// Creates a partition (not retried: a repeated create fails where the first succeeded).
    ///
    /// - Throws: `.alreadyExists` or `.invalidArgument` as the server answers; `.notFound` when
    ///   there is no such collection.
    public func createPartition(_ collection: String, partition: String) async throws {
        var request = Milvus_Proto_Milvus_CreatePartitionRequest()
        request.dbName = databaseName
        request.collectionName = collection
        request.partitionName = partition
        _ = try await call("CreatePartition", idempotent: false) { [request] service, metadata, options in
            try await service.createPartition(request, metadata: metadata, options: options)
        }
    }

    /// Drops a partition and its rows (not retried: a repeated drop fails where the first succeeded).
    ///
    /// - Throws: `.notFound` for a missing collection or partition; `.invalidArgument` for
    ///   `_default` or a collection with a partition key. Milvus refuses a loaded partition;
    ///   `quiver serve` and Milvus Lite drop it.
    public func dropPartition(_ collection: String, partition: String) async throws {
        var request = Milvus_Proto_Milvus_DropPartitionRequest()
        request.dbName = databaseName
        request.collectionName = collection
        request.partitionName = partition
        _ = try await call("DropPartition", idempotent: false) { [request] service, metadata, options in
            try await service.dropPartition(request, metadata: metadata, options: options)
        }
    }

    /// Whether the collection has the partition (`HasPartition`).
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func hasPartition(_ collection: String, partition: String) async throws -> Bool {
        var request = Milvus_Proto_Milvus_HasPartitionRequest()
        request.dbName = databaseName
        request.collectionName = collection
        request.partitionName = partition
        let response = try await call("HasPartition", idempotent: true) { [request] service, metadata, options in
            try await service.hasPartition(request, metadata: metadata, options: options)
        }
        return response.value
    }

    /// The names of the collection's partitions (`ShowPartitions`), in the server's order.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func listPartitions(_ collection: String) async throws -> [String] {
        var request = Milvus_Proto_Milvus_ShowPartitionsRequest()
        request.dbName = databaseName
        request.collectionName = collection
        let response = try await call("ShowPartitions", idempotent: true) { [request] service, metadata, options in
            try await service.showPartitions(request, metadata: metadata, options: options)
        }
        return response.partitionNames
    }
}
