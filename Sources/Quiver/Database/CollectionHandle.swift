/// A handle to one collection, for code that works with it repeatedly.
///
/// ```swift
/// let docs = try db.collection("docs")
/// _ = try docs.insert([["id": 1, "vector": .vector(v)]])
/// let hits = try docs.search([q], limit: 5)
/// ```
/// The handle holds the name, not a snapshot: after `renameCollection` it refers to whatever
/// collection then has the old name (or throws `.notFound`). A handle made from an alias follows
/// the alias: after `alterAlias` it works on the alias's new collection.
///
/// Each method forwards to the ``Database`` method of the same name with ``name`` as the
/// collection (the `async` ones to the `async` API, ``VectorDatabase``'s); see there for the
/// parameters, results and errors. The handle adds no behaviour of its own.
public struct CollectionHandle: Sendable {
    /// The database the collection is in.
    public let database: Database
    /// The collection's name.
    public let name: String

    // MARK: Rows

    /// Inserts rows; see `Database.insert(_:rows:partition:)`.
    ///
    /// - Throws: as `Database.insert(_:rows:partition:)`; nothing is applied on an error.
    public func insert(_ rows: [Row], partition: String? = nil) throws -> InsertResult {
        try database.insert(name, rows: rows, partition: partition)
    }
    /// Inserts rows, replacing live rows with the same primary key; see `Database.upsert(_:rows:partition:)`.
    ///
    /// - Throws: as `Database.upsert(_:rows:partition:)`; nothing is applied on an error.
    public func upsert(_ rows: [Row], partition: String? = nil) throws -> UpsertResult {
        try database.upsert(name, rows: rows, partition: partition)
    }
    /// Inserts rows given column by column; see `Database.insert(_:columns:partition:)`.
    ///
    /// - Throws: as `Database.insert(_:columns:partition:)`; nothing is applied on an error.
    public func insert(columns: ColumnBatch, partition: String? = nil) throws -> InsertResult {
        try database.insert(name, columns: columns, partition: partition)
    }
    /// Upserts rows given column by column; see `Database.upsert(_:columns:partition:)`.
    ///
    /// - Throws: as `Database.upsert(_:columns:partition:)`; nothing is applied on an error.
    public func upsert(columns: ColumnBatch, partition: String? = nil) throws -> UpsertResult {
        try database.upsert(name, columns: columns, partition: partition)
    }

    /// The rows matching `filter` in primary-key order, in batches, from a snapshot; see
    /// ``Database/queryIterator(_:batchSize:limit:filter:filterParams:outputFields:partitions:)``.
    ///
    /// - Throws: as ``Database/queryIterator(_:batchSize:limit:filter:filterParams:outputFields:partitions:)``.
    public func queryIterator(
        batchSize: Int = 1000, limit: Int? = nil, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, partitions: [String] = []
    ) throws -> QueryIterator {
        try database.queryIterator(
            name, batchSize: batchSize, limit: limit, filter: filter, filterParams: filterParams, outputFields: outputFields,
            partitions: partitions)
    }

    /// The rows nearest to `vector`, best first, in batches, from a snapshot; see
    /// ``Database/searchIterator(_:vector:batchSize:limit:filter:filterParams:outputFields:annsField:partitions:)``.
    ///
    /// - Throws: as ``Database/searchIterator(_:vector:batchSize:limit:filter:filterParams:outputFields:annsField:partitions:)``.
    public func searchIterator(
        vector: [Float], batchSize: Int = 1000, limit: Int? = nil, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        partitions: [String] = []
    ) throws -> SearchIterator {
        try database.searchIterator(
            name, vector: vector, batchSize: batchSize, limit: limit, filter: filter, filterParams: filterParams,
            outputFields: outputFields, annsField: annsField, partitions: partitions)
    }

    /// Deletes rows by primary key and/or filter; see ``Database/delete(_:ids:filter:filterParams:partitions:)``.
    ///
    /// - Throws: `.invalidArgument` when neither `ids` nor a filter is given, `.filterSyntax`.
    public func delete(ids: [Value]? = nil, filter: String = "", filterParams: [String: Value] = [:], partitions: [String] = []) throws -> DeleteResult {
        try database.delete(name, ids: ids, filter: filter, filterParams: filterParams, partitions: partitions)
    }

    /// The rows with the given primary keys, in that order (missing keys are skipped); see
    /// ``Database/get(_:ids:outputFields:filter:filterParams:partitions:)``.
    ///
    /// - Throws: `.invalidArgument` for a key of the wrong type or an unknown output field; `.filterSyntax`.
    public func get(
        _ ids: [Value], outputFields: [String]? = nil, filter: String = "", filterParams: [String: Value] = [:],
        partitions: [String] = []
    ) throws -> [Row] {
        try database.get(name, ids: ids, outputFields: outputFields, filter: filter, filterParams: filterParams, partitions: partitions)
    }

    /// Rows by primary keys and/or a filter, with paging; see
    /// ``Database/query(_:filter:filterParams:ids:limit:offset:outputFields:partitions:)``.
    ///
    /// - Throws: `.invalidArgument` when there is no filter, no ids and no limit, `.filterSyntax`.
    public func query(
        filter: String = "", filterParams: [String: Value] = [:], ids: [Value]? = nil, limit: Int? = nil, offset: Int = 0,
        outputFields: [String]? = nil, partitions: [String] = []
    ) throws -> [Row] {
        try database.query(name, filter: filter, filterParams: filterParams, ids: ids, limit: limit, offset: offset, outputFields: outputFields,
            partitions: partitions)
    }

    // MARK: Partitions

    /// Creates a partition; see `Database.createPartition(_:partition:)`.
    ///
    /// - Throws: `.alreadyExists`, `.invalidArgument` (a bad name, a partition-key collection).
    public func createPartition(_ partition: String) throws { try database.createPartition(name, partition: partition) }
    /// Drops a partition and its rows; see `Database.dropPartition(_:partition:)`.
    ///
    /// - Throws: `.notFound` for an unknown partition; `.invalidArgument` for `_default` or a partition-key collection.
    public func dropPartition(_ partition: String) throws { try database.dropPartition(name, partition: partition) }
    /// Whether the partition exists; see `Database.hasPartition(_:partition:)`.
    ///
    /// - Throws: `.notFound` when the collection no longer exists.
    public func hasPartition(_ partition: String) throws -> Bool { try database.hasPartition(name, partition: partition) }
    /// The partitions' names; see `Database.listPartitions(_:)`.
    ///
    /// - Throws: `.notFound` when the collection no longer exists.
    public func listPartitions() throws -> [String] { try database.listPartitions(name) }

    // MARK: Search

    /// For each query vector, the `limit` closest live rows; see
    /// ``Database/search(_:vectors:limit:offset:filter:filterParams:outputFields:annsField:metric:options:partitions:)``.
    ///
    /// - Throws: `.dimensionMismatch`, `.invalidArgument`, `.filterSyntax`.
    public func search(
        _ vectors: [[Float]], limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, options: SearchOptions = SearchOptions(),
        partitions: [String] = []
    ) throws -> [[Hit]] {
        try database.search(name, vectors: vectors, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                            outputFields: outputFields, annsField: annsField, options: options, partitions: partitions)
    }

    /// Searches a binary vector field with bit vectors of `dimension / 8` bytes; see
    /// ``Database/search(_:binaryVectors:limit:offset:filter:filterParams:outputFields:annsField:metric:options:partitions:)``.
    ///
    /// - Throws: `.dimensionMismatch`, `.invalidArgument`, `.filterSyntax`.
    public func search(
        binaryVectors: [[UInt8]], limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, options: SearchOptions = SearchOptions(),
        partitions: [String] = []
    ) throws -> [[Hit]] {
        try database.search(name, binaryVectors: binaryVectors, limit: limit, offset: offset, filter: filter,
                            filterParams: filterParams, outputFields: outputFields, annsField: annsField, options: options, partitions: partitions)
    }

    /// Searches with the stored vectors of the rows `ids` as queries; see
    /// ``Database/search(_:ids:limit:offset:filter:filterParams:outputFields:annsField:metric:options:partitions:)``.
    ///
    /// - Throws: `.notFound` naming an id that has no live row; `.invalidArgument`, `.filterSyntax`.
    public func search(
        ids: [Value], limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, options: SearchOptions = SearchOptions(),
        partitions: [String] = []
    ) throws -> [[Hit]] {
        try database.search(name, ids: ids, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                            outputFields: outputFields, annsField: annsField, options: options, partitions: partitions)
    }

    // MARK: Indexes

    /// Defines an index on a vector field and starts building it; see
    /// `Database.createIndex(_:field:type:metric:params:name:)`.
    ///
    /// - Throws: `.invalidArgument` for a bad parameter; `.alreadyExists` when the field has a different index.
    public func createIndex(field: String, type: IndexType, metric: MetricType? = nil, params: [String: Value] = [:]) throws {
        try database.createIndex(name, field: field, type: type, metric: metric, params: params)
    }

    /// The type, metric, parameters and build progress of the index of `field`; see
    /// ``Database/describeIndex(_:field:)-5rare``.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func describeIndex(field: String) throws -> IndexDescription { try database.describeIndex(name, field: field) }

    /// The fields that have an index, sorted; see ``Database/listIndexes(_:)-27kvi``.
    ///
    /// - Throws: `.notFound` when the collection no longer exists.
    public func listIndexes() throws -> [String] { try database.listIndexes(name) }

    /// Removes the index of `field`; see ``Database/dropIndex(_:field:)-9wj80``.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func dropIndex(field: String) throws { try database.dropIndex(name, field: field) }

    /// Blocks until the index builds scheduled so far have finished; see ``Database/waitForIndexBuilds(_:)-4wzn``.
    ///
    /// - Throws: `.notFound` when the collection no longer exists.
    public func waitForIndexBuilds() throws { try database.waitForIndexBuilds(name) }

    // MARK: Maintenance and state

    /// Seals the growing segment into a segment file; see ``Database/flush(_:)-5l1yp``.
    ///
    /// - Throws: `.io` when the segment cannot be written.
    public func flush() throws { try database.flush(name) }
    /// Merges the sealed segments; returns whether there was anything to compact. See ``Database/compact(_:)-8252x``.
    ///
    /// - Throws: `.io` when the merged segment cannot be written.
    @discardableResult public func compact() throws -> Bool { try database.compact(name) }
    /// Row and segment counts; see ``Database/collectionStats(_:)-8lird``.
    ///
    /// - Throws: `.notFound` when the collection no longer exists.
    public func stats() throws -> CollectionStats { try database.collectionStats(name) }
    /// The schema, metric and row count; see ``Database/describeCollection(_:)-7ew69``.
    ///
    /// - Throws: `.notFound` when the collection no longer exists.
    public func describe() throws -> CollectionDescription { try database.describeCollection(name) }
    /// Whether the collection is loaded (``LoadState/notExist`` once it is gone); see ``Database/loadState(_:)``.
    ///
    /// - Throws: `.closed` after the database is closed.
    public func loadState() throws -> LoadState { try database.loadState(name) }

    // MARK: async

    /// Inserts rows without blocking the caller's thread; see the synchronous `insert(_:partition:)`.
    ///
    /// - Throws: as the synchronous `insert(_:partition:)`.
    public func insert(_ rows: [Row], partition: String? = nil) async throws -> InsertResult {
        try await database.insert(name, rows: rows, partition: partition)
    }
    /// Upserts rows without blocking the caller's thread; see the synchronous `upsert(_:partition:)`.
    ///
    /// - Throws: as the synchronous `upsert(_:partition:)`.
    public func upsert(_ rows: [Row], partition: String? = nil) async throws -> UpsertResult {
        try await database.upsert(name, rows: rows, partition: partition)
    }
    /// Inserts columns without blocking the caller's thread; see the synchronous `insert(columns:partition:)`.
    ///
    /// - Throws: as the synchronous `insert(columns:partition:)`.
    public func insert(columns: ColumnBatch, partition: String? = nil) async throws -> InsertResult {
        try await database.insert(name, columns: columns, partition: partition)
    }
    /// Upserts columns without blocking the caller's thread; see the synchronous `upsert(columns:partition:)`.
    ///
    /// - Throws: as the synchronous `upsert(columns:partition:)`.
    public func upsert(columns: ColumnBatch, partition: String? = nil) async throws -> UpsertResult {
        try await database.upsert(name, columns: columns, partition: partition)
    }

    /// Deletes rows without blocking the caller's thread; see the synchronous `delete(ids:filter:filterParams:partitions:)`.
    ///
    /// - Throws: as the synchronous delete.
    public func delete(ids: [Value]? = nil, filter: String = "", filterParams: [String: Value] = [:], partitions: [String] = []) async throws -> DeleteResult {
        try await database.delete(name, ids: ids, filter: filter, filterParams: filterParams, partitions: partitions)
    }

    /// Reads rows by primary key without blocking the caller's thread; see
    /// the synchronous `get(_:outputFields:filter:filterParams:partitions:)`.
    ///
    /// - Throws: as the synchronous get.
    public func get(
        _ ids: [Value], outputFields: [String]? = nil, filter: String = "", filterParams: [String: Value] = [:],
        partitions: [String] = []
    ) async throws -> [Row] {
        try await database.get(name, ids: ids, outputFields: outputFields, filter: filter, filterParams: filterParams, partitions: partitions)
    }

    /// Queries without blocking the caller's thread; see
    /// the synchronous `query(filter:filterParams:ids:limit:offset:outputFields:partitions:)`.
    ///
    /// - Throws: as the synchronous query.
    public func query(
        filter: String = "", filterParams: [String: Value] = [:], ids: [Value]? = nil, limit: Int? = nil, offset: Int = 0,
        outputFields: [String]? = nil, partitions: [String] = []
    ) async throws -> [Row] {
        try await database.query(name, filter: filter, filterParams: filterParams, ids: ids, limit: limit, offset: offset, outputFields: outputFields,
            partitions: partitions)
    }

    /// Searches without blocking the caller's thread; see
    /// the synchronous `search(_:limit:offset:filter:filterParams:outputFields:annsField:options:partitions:)`.
    ///
    /// - Throws: as the synchronous search.
    public func search(
        _ vectors: [[Float]], limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, options: SearchOptions = SearchOptions(),
        partitions: [String] = []
    ) async throws -> [[Hit]] {
        try await database.search(name, vectors: vectors, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                                  outputFields: outputFields, annsField: annsField, options: options, partitions: partitions)
    }

    /// Searches a binary vector field without blocking the caller's thread; see
    /// the synchronous `search(binaryVectors:…:partitions:)`.
    ///
    /// - Throws: as the synchronous search.
    public func search(
        binaryVectors: [[UInt8]], limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, options: SearchOptions = SearchOptions(),
        partitions: [String] = []
    ) async throws -> [[Hit]] {
        try await database.search(name, binaryVectors: binaryVectors, limit: limit, offset: offset, filter: filter,
                                  filterParams: filterParams, outputFields: outputFields, annsField: annsField, options: options, partitions: partitions)
    }

    /// Searches with stored vectors as queries without blocking the caller's thread; see
    /// the synchronous `search(ids:…:partitions:)`.
    ///
    /// - Throws: as the synchronous search.
    public func search(
        ids: [Value], limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, options: SearchOptions = SearchOptions(),
        partitions: [String] = []
    ) async throws -> [[Hit]] {
        try await database.search(name, ids: ids, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                                  outputFields: outputFields, annsField: annsField, options: options, partitions: partitions)
    }

    /// Defines an index without blocking the caller's thread; see
    /// ``createIndex(field:type:metric:params:)-4lqeo``.
    ///
    /// - Throws: as the synchronous createIndex.
    public func createIndex(field: String, type: IndexType, metric: MetricType? = nil, params: [String: Value] = [:]) async throws {
        try await database.createIndex(name, field: field, type: type, metric: metric, params: params)
    }

    /// Describes an index without blocking the caller's thread; see ``describeIndex(field:)-2kp9o``.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func describeIndex(field: String) async throws -> IndexDescription {
        try await database.describeIndex(name, field: field)
    }

    /// The indexed fields without blocking the caller's thread; see ``listIndexes()-9mf00``.
    ///
    /// - Throws: `.notFound` when the collection no longer exists.
    public func listIndexes() async throws -> [String] { try await database.listIndexes(name) }

    /// Removes an index without blocking the caller's thread; see ``dropIndex(field:)-5iv1w``.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func dropIndex(field: String) async throws { try await database.dropIndex(name, field: field) }

    /// Seals the growing segment without blocking the caller's thread; see ``flush()-6po1k``.
    ///
    /// - Throws: `.io` when the segment cannot be written.
    public func flush() async throws { try await database.flush(name) }
}

extension Database {
    /// A handle to the collection `name`.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func collection(_ name: String) throws -> CollectionHandle {
        guard hasCollection(name) else { throw QuiverError.notFound("collection '\(name)' does not exist") }
        return CollectionHandle(database: self, name: name)
    }
}
