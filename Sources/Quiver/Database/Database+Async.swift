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

    /// Opens a database without blocking the caller's thread; see ``open(at:options:)-64w76``.
    ///
    /// - Throws: as ``open(at:options:)-64w76``: `.locked`, `.corruption`, `.io`.
    public static func open(at path: String, options: DatabaseOptions = DatabaseOptions()) async throws -> Database {
        try await offload { try Database.open(at: path, options: options) }
    }

    /// Closes the database without blocking the caller's thread; see ``close()-1qu38``.
    ///
    /// - Throws: as ``close()-1qu38``; the lock is released all the same.
    public func close() async throws {
        try await Self.offload { try self.close() }
    }

    /// Creates a collection the quick way without blocking the caller's thread; see
    /// ``createCollection(_:dimension:metric:idType:autoID:)-9xf40``.
    ///
    /// - Throws: as ``createCollection(_:dimension:metric:idType:autoID:)-9xf40``.
    public func createCollection(
        _ name: String, dimension: Int, metric: MetricType = .cosine, idType: IDType = .int64, autoID: Bool = false
    ) async throws {
        try await Self.offload { try self.createCollection(name, dimension: dimension, metric: metric, idType: idType, autoID: autoID) }
    }

    /// Creates a collection with an explicit schema without blocking the caller's thread; see
    /// ``createCollection(_:schema:metric:)-8qypy``.
    ///
    /// - Throws: as ``createCollection(_:schema:metric:)-8qypy``.
    public func createCollection(_ name: String, schema: CollectionSchema, metric: MetricType = .cosine) async throws {
        try await Self.offload { try self.createCollection(name, schema: schema, metric: metric) }
    }

    /// The names of the collections, sorted; see ``listCollections()-95163``.
    ///
    /// - Throws: `.closed` after ``close()-1qu38``.
    public func listCollections() async throws -> [String] {
        try await Self.offload { try self.listCollections() }
    }

    /// The schema, metric and row count of a collection; see ``describeCollection(_:)-7ew69``.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func describeCollection(_ name: String) async throws -> CollectionDescription {
        try await Self.offload { try self.describeCollection(name) }
    }

    /// Row count and segment counts; see ``collectionStats(_:)-8lird``.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func collectionStats(_ name: String) async throws -> CollectionStats {
        try await Self.offload { try self.collectionStats(name) }
    }

    /// Deletes a collection and its files without blocking the caller's thread; see ``dropCollection(_:)-1avba``.
    ///
    /// - Throws: as ``dropCollection(_:)-1avba``.
    public func dropCollection(_ name: String) async throws {
        try await Self.offload { try self.dropCollection(name) }
    }

    /// Renames a collection without blocking the caller's thread; see ``renameCollection(_:to:)-6kdjq``.
    ///
    /// - Throws: `.notFound`, `.alreadyExists`, or `.invalidArgument` for a bad new name.
    public func renameCollection(_ name: String, to newName: String) async throws {
        try await Self.offload { try self.renameCollection(name, to: newName) }
    }

    /// Seals the collection's growing segment without blocking the caller's thread; see ``flush(_:)-5l1yp``.
    ///
    /// - Throws: as ``flush(_:)-5l1yp``.
    public func flush(_ name: String) async throws {
        try await Self.offload { try self.flush(name) }
    }

    /// Merges the collection's sealed segments without blocking the caller's thread; see ``compact(_:)-8252x``.
    ///
    /// - Throws: as ``compact(_:)-8252x``.
    @discardableResult
    public func compact(_ name: String) async throws -> Bool {
        try await Self.offload { try self.compact(name) }
    }

    /// Inserts rows without blocking the caller's thread; see ``insert(into:rows:)-el0a``.
    ///
    /// - Throws: as ``insert(into:rows:)-el0a``; nothing is applied on an error.
    public func insert(into collection: String, rows: [Row]) async throws -> InsertResult {
        try await Self.offload { try self.insert(into: collection, rows: rows) }
    }

    /// Upserts rows without blocking the caller's thread; see ``upsert(into:rows:)-94l09``.
    ///
    /// - Throws: as ``upsert(into:rows:)-94l09``; nothing is applied on an error.
    public func upsert(into collection: String, rows: [Row]) async throws -> UpsertResult {
        try await Self.offload { try self.upsert(into: collection, rows: rows) }
    }

    /// Deletes rows by primary key and/or filter without blocking the caller's thread; see
    /// ``delete(from:ids:filter:filterParams:)-5zcp4``.
    ///
    /// - Throws: as ``delete(from:ids:filter:filterParams:)-5zcp4``.
    public func delete(
        from collection: String, ids: [Value]? = nil, filter: String? = nil, filterParams: [String: Value] = [:]
    ) async throws -> DeleteResult {
        try await Self.offload { try self.delete(from: collection, ids: ids, filter: filter, filterParams: filterParams) }
    }

    /// The rows with the given primary keys without blocking the caller's thread; see
    /// ``get(from:ids:outputFields:filter:filterParams:)``.
    ///
    /// - Throws: as the synchronous `get`.
    public func get(from collection: String, ids: [Value], outputFields: [String]? = nil) async throws -> [Row] {
        try await Self.offload { try self.get(from: collection, ids: ids, outputFields: outputFields) }
    }

    /// Rows by primary keys and/or a filter without blocking the caller's thread; see
    /// ``query(from:filter:filterParams:ids:limit:offset:outputFields:)-5r0ei``.
    ///
    /// - Throws: as ``query(from:filter:filterParams:ids:limit:offset:outputFields:)-5r0ei``.
    public func query(
        from collection: String, filter: String = "", filterParams: [String: Value] = [:], ids: [Value]? = nil,
        limit: Int? = nil, offset: Int = 0, outputFields: [String]? = nil
    ) async throws -> [Row] {
        try await Self.offload {
            try self.query(from: collection, filter: filter, filterParams: filterParams, ids: ids, limit: limit, offset: offset, outputFields: outputFields)
        }
    }

    /// Searches without blocking the caller's thread; see
    /// ``search(_:vectors:limit:offset:filter:filterParams:outputFields:annsField:metric:options:)-2njz7``.
    ///
    /// - Throws: as ``search(_:vectors:limit:offset:filter:filterParams:outputFields:annsField:metric:options:)-2njz7``.
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

    /// Searches a binary vector field without blocking the caller's thread; see
    /// ``search(_:binaryVectors:limit:offset:filter:filterParams:outputFields:annsField:metric:options:)-20z47``.
    ///
    /// - Throws: as ``search(_:binaryVectors:limit:offset:filter:filterParams:outputFields:annsField:metric:options:)-20z47``.
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

    /// Searches with stored vectors as queries without blocking the caller's thread; see
    /// ``search(_:ids:limit:offset:filter:filterParams:outputFields:annsField:metric:options:)-6ggtq``.
    ///
    /// - Throws: as ``search(_:ids:limit:offset:filter:filterParams:outputFields:annsField:metric:options:)-6ggtq``.
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
