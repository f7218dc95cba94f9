import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Indexes: create (which also sets the collection's metric, as in Milvus), describe, drop, state
/// and build progress. Quiver names an index after its vector field; a different `index_name`
/// given at creation is remembered while the server runs.
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
            let metricName = pairs["metric_type"] ?? ""
            var metric: MetricType?
            if !metricName.isEmpty {
                guard let m = MetricType(name: metricName) else { throw MilvusError.invalid("unknown metric_type '\(metricName)'") }
                metric = m
            }
            // Milvus chooses a collection's metric with its first index: follow it while no index exists.
            if let metric, try database.listIndexes(collection).isEmpty,
                try database.describeCollection(collection).metric != metric
            {
                try database.changeMetric(of: collection, to: metric)
            }
            try database.createIndex(collection, field: field.name, type: type, metric: metric, params: params)
            let name = request.indexName
            if !name.isEmpty && name != field.name {
                state.indexNames.withLock { $0[IndexKey(collection: collection, field: field.name)] = name }
            }
            return Self.success
        }
    }

    func describeIndex(request: Milvus_Proto_Milvus_DescribeIndexRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_DescribeIndexResponse {
        let collection = request.collectionName
        return await answer(index: collection) { [database] in
            try requireCollection(collection, database: request.dbName)
            var response = Milvus_Proto_Milvus_DescribeIndexResponse()
            for field in try indexedFields(collection, indexName: request.indexName, fieldName: request.fieldName) {
                let index = try database.describeIndex(collection, field: field)
                var d = Milvus_Proto_Milvus_IndexDescription()
                d.indexName = indexName(collection, field: field)
                d.indexID = Self.collectionID(collection + "/" + field)
                d.fieldName = field
                var buildParams = [String: Value]()
                for (key, value) in index.params { buildParams[key] = value }
                d.params = [
                    SchemaConversion.keyValue("index_type", index.type.rawValue),
                    SchemaConversion.keyValue("metric_type", index.metric.rawValue),
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
            let fields = try indexedFields(collection, indexName: request.indexName, fieldName: request.fieldName)
            guard fields.count == 1 else {
                throw MilvusError.invalid("the collection has \(fields.count) indexes; name the one to drop")
            }
            try database.dropIndex(collection, field: fields[0])
            _ = state.indexNames.withLock { $0.removeValue(forKey: IndexKey(collection: collection, field: fields[0])) }
            return Self.success
        }
    }

    func getIndexState(request: Milvus_Proto_Milvus_GetIndexStateRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_GetIndexStateResponse {
        let collection = request.collectionName
        return await answer(index: collection) { [database] in
            try requireCollection(collection, database: request.dbName)
            var response = Milvus_Proto_Milvus_GetIndexStateResponse()
            let fields = try indexedFields(collection, indexName: request.indexName, fieldName: request.fieldName)
            let states = try fields.map { try database.describeIndex(collection, field: $0).state }
            response.state = states.allSatisfy { $0 == .finished } ? .finished : .inProgress
            return response
        }
    }

    func getIndexBuildProgress(
        request: Milvus_Proto_Milvus_GetIndexBuildProgressRequest, context: ServerContext
    ) async throws -> Milvus_Proto_Milvus_GetIndexBuildProgressResponse {
        let collection = request.collectionName
        return await answer(index: collection) { [database] in
            try requireCollection(collection, database: request.dbName)
            var response = Milvus_Proto_Milvus_GetIndexBuildProgressResponse()
            for field in try indexedFields(collection, indexName: request.indexName, fieldName: request.fieldName) {
                let index = try database.describeIndex(collection, field: field)
                response.indexedRows += Int64(index.indexedRows)
                response.totalRows += Int64(index.totalRows)
            }
            return response
        }
    }

    // MARK: Names

    private func vectorField(named name: String, in schema: CollectionSchema) throws -> FieldSchema {
        if name.isEmpty {
            guard schema.vectorFields.count == 1 else { throw MilvusError.invalid("the collection has several vector fields; name one") }
            return schema.vectorFields[0]
        }
        guard let field = schema.field(named: name) else {
            throw MilvusError.invalid("field '\(name)' is not in the collection's schema")
        }
        guard field.dataType.isVector else {
            throw MilvusError.unsupported("Quiver indexes vector fields; '\(name)' is \(field.dataType.name)")
        }
        return field
    }

    /// The name an index is reported under: the one it was created with, or its field's.
    func indexName(_ collection: String, field: String) -> String {
        state.indexNames.withLock { $0[IndexKey(collection: collection, field: field)] } ?? field
    }

    /// The indexed fields a request names by index name and/or field name (all of them when it
    /// names neither).
    ///
    /// - Throws: Milvus's IndexNotFound when none matches.
    private func indexedFields(_ collection: String, indexName name: String, fieldName: String) throws -> [String] {
        let fields = try database.listIndexes(collection).filter { field in
            (name.isEmpty || indexName(collection, field: field) == name) && (fieldName.isEmpty || field == fieldName)
        }
        guard !fields.isEmpty else {
            throw MilvusError.indexNotFound(collection, detail: name.isEmpty ? "no index" : "no index named '\(name)'")
        }
        return fields
    }

    func forgetIndexNames(of collection: String) {
        state.indexNames.withLock { names in names = names.filter { $0.key.collection != collection } }
    }

    func renameIndexNames(from old: String, to new: String) {
        state.indexNames.withLock { names in
            for (key, value) in names where key.collection == old {
                names[key] = nil
                names[IndexKey(collection: new, field: key.field)] = value
            }
        }
    }
}
