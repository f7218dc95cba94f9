import Dispatch

/// The `async` API: ``Database``'s conformance to ``VectorDatabase``, and `async` forms of the calls
/// only the embedded engine has (``open(at:options:)-64w76``, ``compact(_:)-8252x``,
/// ``waitForIndexBuilds(_:)-5r4c4``).
///
/// Each requirement runs the synchronous call of the same name on Quiver's own queue, so heavy
/// work (a flush, a compaction, a long scan, an fsync) never occupies a thread of Swift's
/// cooperative pool; the awaiting task is suspended, not blocked. The labelled calls with defaults
/// (`insert`, `delete(_:ids:filter:filterParams:)`, `search(_:vectors:…)`, …) come from
/// ``VectorDatabase``'s extension, which builds the request values, so `await db.search(…)` on a
/// `Database` and on an `any VectorDatabase` run the same code. In `async` code a call with `await`
/// picks these; a call without `await` in synchronous code picks the synchronous overload.
///
/// ``hasCollection(_:)`` and ``loadState(_:)`` only look at the catalog under a lock, so their
/// synchronous forms are the requirements' implementations (nothing to offload).
extension Database: VectorDatabase {
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

    /// Creates an alias without blocking the caller's thread; see `createAlias(_:alias:)`.
    ///
    /// - Throws: as the synchronous `createAlias(_:alias:)`.
    public func createAlias(_ collection: String, alias: String) async throws {
        try await Self.offload { try self.createAlias(collection, alias: alias) }
    }

    /// Moves an alias without blocking the caller's thread; see `alterAlias(_:alias:)`.
    ///
    /// - Throws: as the synchronous `alterAlias(_:alias:)`.
    public func alterAlias(_ collection: String, alias: String) async throws {
        try await Self.offload { try self.alterAlias(collection, alias: alias) }
    }

    /// Removes an alias without blocking the caller's thread; see `dropAlias(_:)`.
    ///
    /// - Throws: as the synchronous `dropAlias(_:)`.
    public func dropAlias(_ alias: String) async throws {
        try await Self.offload { try self.dropAlias(alias) }
    }

    /// Loads a collection without blocking the caller's thread; see `loadCollection(_:)`.
    ///
    /// - Throws: as the synchronous `loadCollection(_:)`.
    public func loadCollection(_ name: String) async throws {
        try await Self.offload { try self.loadCollection(name) }
    }

    /// Releases a collection without blocking the caller's thread; see `releaseCollection(_:)`.
    ///
    /// - Throws: as the synchronous `releaseCollection(_:)`.
    public func releaseCollection(_ name: String) async throws {
        try await Self.offload { try self.releaseCollection(name) }
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

    /// Creates a partition without blocking the caller's thread; see `createPartition(_:partition:)`.
    ///
    /// - Throws: as the synchronous call.
    public func createPartition(_ collection: String, partition: String) async throws {
        try await Self.offload { try self.createPartition(collection, partition: partition) }
    }

    /// Drops a partition and its rows without blocking the caller's thread (a drop flushes); see
    /// `dropPartition(_:partition:)`.
    ///
    /// - Throws: as the synchronous call.
    public func dropPartition(_ collection: String, partition: String) async throws {
        try await Self.offload { try self.dropPartition(collection, partition: partition) }
    }

    /// Whether a partition exists; see `hasPartition(_:partition:)`.
    ///
    /// - Throws: as the synchronous call.
    public func hasPartition(_ collection: String, partition: String) async throws -> Bool {
        try await Self.offload { try self.hasPartition(collection, partition: partition) }
    }

    /// The partitions' names; see `listPartitions(_:)`.
    ///
    /// - Throws: as the synchronous call.
    public func listPartitions(_ collection: String) async throws -> [String] {
        try await Self.offload { try self.listPartitions(collection) }
    }

    /// Inserts rows into a partition without blocking the caller's thread; see the synchronous
    /// `insert(_:rows:partition:)`.
    ///
    /// - Throws: as the synchronous call; nothing is applied on an error.
    public func insert(_ collection: String, rows: [Row], partition: String?) async throws -> InsertResult {
        try await Self.offload { try self.insert(collection, rows: rows, partition: partition) }
    }

    /// Upserts rows into a partition without blocking the caller's thread; see the synchronous
    /// `upsert(_:rows:partition:)`.
    ///
    /// - Throws: as the synchronous call; nothing is applied on an error.
    public func upsert(_ collection: String, rows: [Row], partition: String?) async throws -> UpsertResult {
        try await Self.offload { try self.upsert(collection, rows: rows, partition: partition) }
    }

    /// Inserts rows given column by column into a partition without blocking the caller's
    /// thread; see the synchronous `insert(_:columns:partition:)`.
    ///
    /// - Throws: as the synchronous call; nothing is applied on an error.
    public func insert(_ collection: String, columns: ColumnBatch, partition: String?) async throws -> InsertResult {
        try await Self.offload { try self.insert(collection, columns: columns, partition: partition) }
    }

    /// Upserts rows given column by column into a partition without blocking the caller's
    /// thread; see the synchronous `upsert(_:columns:partition:)`.
    ///
    /// - Throws: as the synchronous call; nothing is applied on an error.
    public func upsert(_ collection: String, columns: ColumnBatch, partition: String?) async throws -> UpsertResult {
        try await Self.offload { try self.upsert(collection, columns: columns, partition: partition) }
    }

    /// Deletes the rows a request names without blocking the caller's thread; see ``delete(_:_:)-2hk7a``.
    ///
    /// - Throws: as ``delete(_:_:)-2hk7a``.
    public func delete(_ collection: String, _ request: DeleteRequest) async throws -> DeleteResult {
        try await Self.offload { try self.delete(collection, request) }
    }

    /// Reads the rows a request names without blocking the caller's thread; see ``query(_:_:)-6j0mz``.
    ///
    /// - Throws: as ``query(_:_:)-6j0mz``.
    public func query(_ collection: String, _ request: QueryRequest) async throws -> [Row] {
        try await Self.offload { try self.query(collection, request) }
    }

    /// Searches without blocking the caller's thread; see ``search(_:_:)-2djs6``.
    ///
    /// - Throws: as ``search(_:_:)-2djs6``.
    public func search(_ collection: String, _ request: SearchRequest) async throws -> [[Hit]] {
        try await Self.offload { try self.search(collection, request) }
    }

    /// A query iterator over a snapshot taken now, whose batches are read without blocking the
    /// caller's thread; see the synchronous ``QueryIterator``.
    ///
    /// - Throws: as the synchronous `queryIterator(_:batchSize:limit:filter:filterParams:outputFields:partitions:)`.
    public func queryIterator(_ collection: String, _ request: QueryIteratorRequest) async throws -> BatchSequence<Row> {
        let walk = try await Self.offload {
            try self.queryIterator(
                collection, batchSize: request.batchSize, limit: request.limit, filter: request.filter,
                filterParams: request.filterParams, outputFields: request.outputFields, partitions: request.partitions)
        }
        return BatchSequence { try await Self.offload { walk.next() } }
    }

    /// A search iterator over a snapshot taken now, whose batches (exact scans) run without
    /// blocking the caller's thread; see the synchronous ``SearchIterator``.
    ///
    /// - Throws: as the synchronous
    ///   `searchIterator(_:vector:batchSize:limit:filter:filterParams:outputFields:annsField:partitions:)`.
    public func searchIterator(_ collection: String, _ request: SearchIteratorRequest) async throws -> BatchSequence<Hit> {
        let walk = try await Self.offload {
            try self.searchIterator(
                collection, vector: request.vector, batchSize: request.batchSize, limit: request.limit, filter: request.filter,
                filterParams: request.filterParams, outputFields: request.outputFields, annsField: request.annsField,
                partitions: request.partitions)
        }
        return BatchSequence { try await Self.offload { try walk.next() } }
    }

    /// Runs a hybrid search without blocking the caller's thread; see the synchronous
    /// `hybridSearch(_:_:)`.
    ///
    /// - Throws: as the synchronous `hybridSearch(_:_:)`.
    public func hybridSearch(_ collection: String, _ request: HybridSearchRequest) async throws -> [[Hit]] {
        try await Self.offload { try self.hybridSearch(collection, request) }
    }

    /// Defines an index without blocking the caller's thread; see ``createIndex(_:_:)-2sng3``.
    ///
    /// - Throws: as ``createIndex(_:_:)-2sng3``.
    public func createIndex(_ collection: String, _ request: IndexRequest) async throws {
        try await Self.offload { try self.createIndex(collection, request) }
    }

    /// Describes an index without blocking the caller's thread; see ``describeIndex(_:field:)-5rare``.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func describeIndex(_ collection: String, field: String) async throws -> IndexDescription {
        try await Self.offload { try self.describeIndex(collection, field: field) }
    }

    /// The indexed fields, sorted, without blocking the caller's thread; see ``listIndexes(_:)-27kvi``.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    public func listIndexes(_ collection: String) async throws -> [String] {
        try await Self.offload { try self.listIndexes(collection) }
    }

    /// Removes an index without blocking the caller's thread; see ``dropIndex(_:field:)-9wj80``.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func dropIndex(_ collection: String, field: String) async throws {
        try await Self.offload { try self.dropIndex(collection, field: field) }
    }

    /// Suspends (without blocking a cooperative thread) until the scheduled index builds have finished.
    ///
    /// - Throws: as ``waitForIndexBuilds(_:)-4wzn``.
    public func waitForIndexBuilds(_ collection: String) async throws {
        try await Self.offload { try self.waitForIndexBuilds(collection) }
    }
}
