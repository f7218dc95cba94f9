import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Indexes: create, describe, list, drop. A Milvus collection keeps its metric in its index and
/// cannot be searched without one, so each vector field has an exact (`FLAT`) index made at
/// creation under ``exactIndexName(_:)``; it stands for "no index" as the embedded engine
/// means it: not listed or described, replaced by ``createIndex(_:_:)``, restored by
/// ``dropIndex(_:field:)``.
extension RemoteDatabase {
    /// The name of the exact index made at creation for `field`.
    static func exactIndexName(_ field: String) -> String { "_quiver_exact_\(field)" }

    /// The type of that exact index: `FLAT`, or for a sparse field `SPARSE_INVERTED_INDEX` (Milvus
    /// has no FLAT for sparse vectors; its inverted index is exact, as Quiver's is).
    static func exactIndexType(sparse: Bool) -> String { sparse ? "SPARSE_INVERTED_INDEX" : "FLAT" }

    /// Defines an index (`CreateIndex` with `index_type`, `metric_type` and `params` as
    /// pymilvus sends them), replacing the exact index made at creation (the collection is
    /// released, that index dropped, the new one created and built, and the collection loaded
    /// again). Creating the same index again is a no-op.
    ///
    /// - Throws: `.invalidArgument` for a field that is not a vector field, a metric other than
    ///   the collection's or a bad parameter; `.alreadyExists` when the field has a different index.
    public func createIndex(_ collection: String, _ request: IndexRequest) async throws {
        let schema = try await schema(of: collection)
        guard let field = schema.field(named: request.field), field.dataType.isSearchable else {
            throw QuiverError(.invalidArgument, "'\(request.field)' is not a vector field of the collection")
        }
        let existing = try await indexes(collection, field: field.name)
        // A sparse field's metric is IP whatever the dense fields use.
        let metric: MetricType
        if field.dataType.isSparseVector { metric = .ip } else { metric = try await collectionMetric(collection, schema: schema) }
        if let given = request.metric, given != metric {
            throw QuiverError(.invalidArgument, "the collection's metric is \(metric.rawValue); an index cannot use \(given.rawValue)")
        }
        if let current = existing.first(where: { $0.indexName != Self.exactIndexName(field.name) }) {
            let description = try Self.description(current)
            guard description.type == request.type, Self.sameParams(description.params, request.params) else {
                throw QuiverError(.alreadyExists, "field '\(field.name)' has a \(description.type.rawValue) index; drop it before creating another")
            }
            return
        }
        let replacesExact = !existing.isEmpty
        if replacesExact {
            try await releaseCollection(collection)
            try await sendDropIndex(collection, field: field.name, indexName: Self.exactIndexName(field.name))
        }
        try await sendCreateIndex(collection, field: field.name, indexName: field.name, type: request.type.rawValue, metric: metric, params: request.params)
        if replacesExact {
            try await waitUntilBuilt(collection, field: field.name)
            try await loadCollection(collection)
        }
    }

    /// The index of `field` from `DescribeIndex`: type, metric, parameters, and build progress
    /// (state Finished or InProgress, indexed rows, and pending rows: Milvus's
    /// `pending_index_rows`, or `total_rows − indexed_rows` when larger).
    ///
    /// - Throws: `.notFound` when the field has no index (or only the exact one made at creation).
    public func describeIndex(_ collection: String, field: String) async throws -> IndexDescription {
        guard let index = try await indexes(collection, field: field).first(where: { $0.indexName != Self.exactIndexName(field) }) else {
            throw QuiverError(.notFound, "field '\(field)' of collection '\(collection)' has no index")
        }
        return try Self.description(index)
    }

    /// The fields that have an index, sorted (the exact indexes made at creation left out).
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func listIndexes(_ collection: String) async throws -> [String] {
        try await indexes(collection, field: nil)
            .filter { $0.indexName != Self.exactIndexName($0.fieldName) }
            .map(\.fieldName).sorted()
    }

    /// Drops the index of `field` and restores the exact index (the collection is released and
    /// loaded again), so searches of the field become exact. Not retried.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func dropIndex(_ collection: String, field: String) async throws {
        guard let index = try await indexes(collection, field: field).first(where: { $0.indexName != Self.exactIndexName(field) }) else {
            throw QuiverError(.notFound, "field '\(field)' of collection '\(collection)' has no index")
        }
        let metric = try Self.description(index).metric
        try await releaseCollection(collection)
        try await sendDropIndex(collection, field: field, indexName: index.indexName)
        let sparse = try await schema(of: collection).field(named: field)?.dataType.isSparseVector ?? false
        try await sendCreateIndex(collection, field: field, indexName: Self.exactIndexName(field), type: Self.exactIndexType(sparse: sparse), metric: metric, params: [:])
        try await loadCollection(collection)
    }

    // MARK: Shared

    /// `DescribeIndex` of one field or all; empty when Milvus answers IndexNotFound (700).
    func indexes(_ collection: String, field: String?) async throws -> [Milvus_Proto_Milvus_IndexDescription] {
        var request = Milvus_Proto_Milvus_DescribeIndexRequest()
        request.dbName = databaseName
        request.collectionName = collection
        request.fieldName = field ?? ""
        do {
            let response = try await call("DescribeIndex", idempotent: true) { [request] service, metadata, options in
                try await service.describeIndex(request, metadata: metadata, options: options)
            }
            return response.indexDescriptions.filter { field == nil || $0.fieldName == field }
        } catch let error as QuiverError where (error.cause as? MilvusError)?.code == MilvusError.indexNotFoundCode {
            return []
        }
    }

    /// The collection's metric: that of the first vector field's index (COSINE, pymilvus's
    /// quick-setup metric, when it has none).
    func collectionMetric(_ collection: String, schema: CollectionSchema) async throws -> MetricType {
        guard let field = schema.vectorFields.first else { return .cosine }
        guard let index = try await indexes(collection, field: field.name).first else {
            return field.dataType.isBinaryVector ? .hamming : .cosine
        }
        return try Self.description(index).metric
    }

    func sendCreateIndex(
        _ collection: String, field: String, indexName: String, type: String, metric: MetricType, params: [String: Value]
    ) async throws {
        // A BM25 function's output field takes metric BM25 (Milvus and Milvus Lite refuse IP there).
        let metricName = SchemaConversion.wireMetricName(metric, field: field, schema: try await schema(of: collection))
        var request = Milvus_Proto_Milvus_CreateIndexRequest()
        request.dbName = databaseName
        request.collectionName = collection
        request.fieldName = field
        request.indexName = indexName
        request.extraParams = [
            Self.pair("index_type", type), Self.pair("metric_type", metricName),
            Self.pair("params", Value.object(params).jsonString),
        ]
        // Repeatable: Milvus answers the same index again with success.
        _ = try await call("CreateIndex", idempotent: true) { [request] service, metadata, options in
            try await service.createIndex(request, metadata: metadata, options: options)
        }
    }

    private func sendDropIndex(_ collection: String, field: String, indexName: String) async throws {
        var request = Milvus_Proto_Milvus_DropIndexRequest()
        request.dbName = databaseName
        request.collectionName = collection
        request.fieldName = field
        request.indexName = indexName
        _ = try await call("DropIndex", idempotent: false) { [request] service, metadata, options in
            try await service.dropIndex(request, metadata: metadata, options: options)
        }
    }

    /// Polls `DescribeIndex` until the field's index is built (a collection is loaded only then).
    private func waitUntilBuilt(_ collection: String, field: String) async throws {
        try await poll {
            try await self.indexes(collection, field: field).allSatisfy { $0.state == .finished }
        }
    }

    /// Quiver's description of a wire index description.
    static func description(_ index: Milvus_Proto_Milvus_IndexDescription) throws -> IndexDescription {
        let pairs = Dictionary(index.params.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        let typeName = pairs["index_type"] ?? "AUTOINDEX"
        guard let type = IndexType(rawValue: typeName.uppercased() == "BIN_FLAT" ? "FLAT" : typeName.uppercased()) else {
            throw QuiverError(.unsupported, "field '\(index.fieldName)' has a \(typeName) index, a type Quiver does not have")
        }
        guard let metric = SchemaConversion.metric(named: pairs["metric_type"] ?? "") else {
            throw QuiverError(.unsupported, "field '\(index.fieldName)' has an index with metric '\(pairs["metric_type"] ?? "")', which Quiver does not have")
        }
        var params = [String: Value]()
        if let text = pairs["params"], case .object(let object)? = try? Value(json: text) { params = object }
        for (key, value) in pairs where !["index_type", "metric_type", "params"].contains(key) {
            params[key] = Int64(value).map(Value.int) ?? .string(value)
        }
        let indexed = Int(index.indexedRows)
        let pending = max(Int(index.pendingIndexRows), Int(index.totalRows) - indexed)
        return IndexDescription(
            field: index.fieldName, type: type, metric: metric, params: params,
            state: index.state == .finished ? .finished : .inProgress, indexedRows: indexed, pendingRows: pending)
    }

    /// Whether the parameters a server reports are those asked for (numbers compared by value:
    /// a server may echo `16` as `"16"`); a server that fills in defaults may report more.
    static func sameParams(_ reported: [String: Value], _ asked: [String: Value]) -> Bool {
        asked.allSatisfy { key, value in
            guard let other = reported[key] else { return false }
            return other == value || other.intValue != nil && other.intValue == value.intValue
                || other.stringValue.flatMap { Int64($0) } == value.intValue
        }
    }
}
