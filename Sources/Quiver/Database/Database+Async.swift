import Dispatch

/// `async` variants of the whole API. Each runs the synchronous call on Quiver's own queue, so
/// heavy work (a flush, a compaction, a long scan, an fsync) never occupies a thread of Swift's
/// cooperative pool; the awaiting task is suspended, not blocked.
extension Database {
    static let workQueue = DispatchQueue(label: "quiver.work", qos: .userInitiated, attributes: .concurrent)

    /// Runs `body` on the work queue and resumes with its result.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            workQueue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Opens a database without blocking the caller's thread. See `open(at:options:)`.
    public static func open(at path: String, options: DatabaseOptions = DatabaseOptions()) async throws -> Database {
        try await offload { try Database.open(at: path, options: options) }
    }

    public func close() async throws {
        try await Self.offload { try self.close() }
    }

    public func createCollection(
        _ name: String, dimension: Int, metric: MetricType = .cosine, idType: IDType = .int64, autoID: Bool = false
    ) async throws {
        try await Self.offload { try self.createCollection(name, dimension: dimension, metric: metric, idType: idType, autoID: autoID) }
    }

    public func createCollection(_ name: String, schema: CollectionSchema, metric: MetricType = .cosine) async throws {
        try await Self.offload { try self.createCollection(name, schema: schema, metric: metric) }
    }

    public func listCollections() async throws -> [String] {
        try await Self.offload { try self.listCollections() }
    }

    public func describeCollection(_ name: String) async throws -> CollectionDescription {
        try await Self.offload { try self.describeCollection(name) }
    }

    public func collectionStats(_ name: String) async throws -> CollectionStats {
        try await Self.offload { try self.collectionStats(name) }
    }

    public func dropCollection(_ name: String) async throws {
        try await Self.offload { try self.dropCollection(name) }
    }

    public func renameCollection(_ name: String, to newName: String) async throws {
        try await Self.offload { try self.renameCollection(name, to: newName) }
    }

    public func flush(_ name: String) async throws {
        try await Self.offload { try self.flush(name) }
    }

    @discardableResult
    public func compact(_ name: String) async throws -> Bool {
        try await Self.offload { try self.compact(name) }
    }

    public func insert(into collection: String, rows: [Row]) async throws -> InsertResult {
        try await Self.offload { try self.insert(into: collection, rows: rows) }
    }

    public func upsert(into collection: String, rows: [Row]) async throws -> UpsertResult {
        try await Self.offload { try self.upsert(into: collection, rows: rows) }
    }

    public func delete(
        from collection: String, ids: [Value]? = nil, filter: String? = nil, filterParams: [String: Value] = [:]
    ) async throws -> DeleteResult {
        try await Self.offload { try self.delete(from: collection, ids: ids, filter: filter, filterParams: filterParams) }
    }

    public func get(from collection: String, ids: [Value], outputFields: [String]? = nil) async throws -> [Row] {
        try await Self.offload { try self.get(from: collection, ids: ids, outputFields: outputFields) }
    }

    public func query(
        from collection: String, filter: String = "", filterParams: [String: Value] = [:], ids: [Value]? = nil,
        limit: Int? = nil, offset: Int = 0, outputFields: [String]? = nil
    ) async throws -> [Row] {
        try await Self.offload {
            try self.query(from: collection, filter: filter, filterParams: filterParams, ids: ids, limit: limit, offset: offset, outputFields: outputFields)
        }
    }

    public func search(
        _ collection: String, vectors: [[Float]], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions()
    ) async throws -> [[Hit]] {
        try await Self.offload {
            try self.search(collection, vectors: vectors, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                            outputFields: outputFields, annsField: annsField, metric: metric, options: options)
        }
    }

    public func search(
        _ collection: String, binaryVectors: [[UInt8]], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions()
    ) async throws -> [[Hit]] {
        try await Self.offload {
            try self.search(collection, binaryVectors: binaryVectors, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                            outputFields: outputFields, annsField: annsField, metric: metric, options: options)
        }
    }

    public func search(
        _ collection: String, ids: [Value], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions()
    ) async throws -> [[Hit]] {
        try await Self.offload {
            try self.search(collection, ids: ids, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                            outputFields: outputFields, annsField: annsField, metric: metric, options: options)
        }
    }
}
