import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Partitions: create, drop, has and show, over `Database`'s partitions (Milvus's semantics:
/// `_default` always exists and cannot be dropped; a collection with a partition key manages its
/// own). Insert, Upsert, Delete, Query and Search honour `partition_name(s)` in their handlers.
///
/// Quiver loads and releases whole collections (partitions have no load state of their own), so a
/// partition is dropped without being released first
/// (Milvus refuses to drop a loaded partition; Milvus Lite 3.2.2 drops it).
extension MilvusService {
    func createPartition(request: Milvus_Proto_Milvus_CreatePartitionRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        await answer { [database] in
            try requireCollection(request.collectionName, database: request.dbName)
            try database.createPartition(request.collectionName, partition: request.partitionName)
            return Self.success
        }
    }

    func dropPartition(request: Milvus_Proto_Milvus_DropPartitionRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        await answer { [database] in
            try requireCollection(request.collectionName, database: request.dbName)
            try database.dropPartition(request.collectionName, partition: request.partitionName)
            return Self.success
        }
    }

    func hasPartition(request: Milvus_Proto_Milvus_HasPartitionRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_BoolResponse {
        await answer { [database] in
            try requireCollection(request.collectionName, database: request.dbName)
            var response = Milvus_Proto_Milvus_BoolResponse()
            response.value = try database.hasPartition(request.collectionName, partition: request.partitionName)
            return response
        }
    }

    /// Every partition, or those the request names (each must exist).
    func showPartitions(request: Milvus_Proto_Milvus_ShowPartitionsRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_ShowPartitionsResponse {
        await answer { [database] in
            try requireCollection(request.collectionName, database: request.dbName)
            var names = try database.listPartitions(request.collectionName)
            if !request.partitionNames.isEmpty {
                for name in request.partitionNames where !names.contains(name) { throw MilvusError.partitionNotFound(name) }
                names = request.partitionNames
            }
            var response = Milvus_Proto_Milvus_ShowPartitionsResponse()
            response.partitionNames = names
            response.partitionIds = names.indices.map { Int64($0) }
            response.createdTimestamps = names.map { _ in 0 }
            response.createdUtcTimestamps = names.map { _ in 0 }
            response.inMemoryPercentages = names.map { _ in 100 }
            return response
        }
    }
}
