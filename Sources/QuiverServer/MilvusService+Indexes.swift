import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Indexes: create (which also sets the collection's metric, as in Milvus), describe, drop, state
/// and build progress. An index is named after its vector field unless `index_name` is given at
/// creation; the database stores the name with the index, so it outlives a restart.
extension MilvusService {
    func createIndex(request: Milvus_Proto_Milvus_CreateIndexRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        let collection = request.collectionName
        return await answer(index: collection) { [database] in
            let schema = try schema(of: collection, database: request.dbName)
            let pairs = Dictionary(request.extraParams.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            let field = try vectorField(named: request.fieldName, in: schema)
            var typeName = (pairs["index_type"] ?? "AUTOINDEX").uppercased()
            if typeName.isEmpty { typeName = "AUTOINDEX" }
            if typeName == "BIN_FLAT" { typeName = "FLAT" }
            guard let type = IndexType(rawValue: typeName) else {
                throw MilvusError(
                    code: 701, legacy: .illegalIndexType,
                    reason: "index type not supported: \(typeName); Quiver builds \(IndexType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var params = [String: Value]()
            if let text = pairs["params"], !text.isEmpty {
                guard case .object(let object) = try? Value(json: text) else {
                    throw MilvusError.invalid("index params must be a JSON object, got '\(text)'")
                }
                params = object
            }
            for key in ["M", "efConstruction", "nlist"] where params[key] == nil {
                if let text = pairs[key] { params[key] = .string(text) }
            }
            // BM25 on a BM25 function's output field (which the engine compares with IP).
            let metric = try SchemaConversion.metric(wireName: pairs["metric_type"] ?? "", field: field.name, schema: schema)
            // Milvus chooses a collection's metric with its first index: follow it while no index
            // exists (a sparse field's index is IP and leaves the dense fields' metric alone).
            if let metric, !field.dataType.isSparseVector, try database.listIndexes(collection).isEmpty,
                try database.describeCollection(collection).metric != metric
            {
                try database.changeMetric(of: collection, to: metric)
            }
            try database.createIndex(
                collection, field: field.name, type: type, metric: metric, params: params,
                name: request.indexName.isEmpty ? nil : request.indexName)
            return Self.success
        }
    }

    func describeIndex(request: Milvus_Proto_Milvus_DescribeIndexRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_DescribeIndexResponse {
        let collection = request.collectionName
        return await answer(index: collection) {
            let schema = try schema(of: collection, database: request.dbName)
            var response = Milvus_Proto_Milvus_DescribeIndexResponse()
            for index in try indexes(collection, indexName: request.indexName, fieldName: request.fieldName) {
                let field = index.field
                var d = Milvus_Proto_Milvus_IndexDescription()
                d.indexName = index.name
                d.indexID = Self.collectionID(collection + "/" + field)
                d.fieldName = field
                var buildParams = [String: Value]()
                for (key, value) in index.params { buildParams[key] = value }
                d.params = [
                    SchemaConversion.keyValue("index_type", index.type.rawValue),
                    SchemaConversion.keyValue("metric_type", SchemaConversion.wireMetricName(index.metric, field: field, schema: schema)),
                    SchemaConversion.keyValue("params", Value.object(buildParams).jsonString),
                ]
                d.indexedRows = Int64(index.indexedRows)
                d.totalRows = Int64(index.totalRows)
                d.pendingIndexRows = Int64(index.pendingRows)
                d.state = index.state == .finished ? .finished : .inProgress
                response.indexDescriptions.append(d)
            }
            return response
        }
    }

    func dropIndex(request: Milvus_Proto_Milvus_DropIndexRequest, context: ServerContext) async throws -> Milvus_Proto_Common_Status {
        let collection = request.collectionName
        return await answer(index: collection) { [database] in
            try requireCollection(collection, database: request.dbName)
            let found = try indexes(collection, indexName: request.indexName, fieldName: request.fieldName)
            guard found.count == 1 else {
                throw MilvusError.invalid("the collection has \(found.count) indexes; name the one to drop")
            }
            try database.dropIndex(collection, field: found[0].field)
            return Self.success
        }
    }

    func getIndexState(request: Milvus_Proto_Milvus_GetIndexStateRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_GetIndexStateResponse {
        let collection = request.collectionName
        return await answer(index: collection) {
            try requireCollection(collection, database: request.dbName)
            var response = Milvus_Proto_Milvus_GetIndexStateResponse()
            let found = try indexes(collection, indexName: request.indexName, fieldName: request.fieldName)
            response.state = found.allSatisfy { $0.state == .finished } ? .finished : .inProgress
            return response
        }
    }

    func getIndexBuildProgress(
        request: Milvus_Proto_Milvus_GetIndexBuildProgressRequest, context: ServerContext
    ) async throws -> Milvus_Proto_Milvus_GetIndexBuildProgressResponse {
        let collection = request.collectionName
        return await answer(index: collection) {
            try requireCollection(collection, database: request.dbName)
            var response = Milvus_Proto_Milvus_GetIndexBuildProgressResponse()
            for index in try indexes(collection, indexName: request.indexName, fieldName: request.fieldName) {
                response.indexedRows += Int64(index.indexedRows)
                response.totalRows += Int64(index.totalRows)
            }
            return response
        }
    }

    // MARK: Names

    private func vectorField(named name: String, in schema: CollectionSchema) throws -> FieldSchema {
        if name.isEmpty {
            guard schema.searchableFields.count == 1 else { throw MilvusError.invalid("the collection has several vector fields; name one") }
            return schema.searchableFields[0]
        }
        guard let field = schema.field(named: name) else {
            throw MilvusError.invalid("field '\(name)' is not in the collection's schema")
        }
        guard field.dataType.isSearchable else {
            throw MilvusError.unsupported("Quiver indexes vector fields; '\(name)' is \(field.dataType.name)")
        }
        return field
    }

    /// The indexes a request names by index name and/or field name (all of them when it names
    /// neither), described.
    ///
    /// - Throws: Milvus's IndexNotFound when none matches.
    private func indexes(_ collection: String, indexName name: String, fieldName: String) throws -> [IndexDescription] {
        let found = try database.listIndexes(collection)
            .filter { fieldName.isEmpty || $0 == fieldName }
            .map { try database.describeIndex(collection, field: $0) }
            .filter { name.isEmpty || $0.name == name }
        guard !found.isEmpty else {
            throw MilvusError.indexNotFound(collection, detail: name.isEmpty ? "no index" : "no index named '\(name)'")
        }
        return found
    }
}
