/// The calls an embedded ``Database`` and a Milvus server have in common: one API from a laptop
/// to a cluster.
///
/// `Database` (the embedded engine) conforms, and so does `RemoteDatabase` in the `QuiverRemote`
/// module, which speaks Milvus's gRPC protocol to `quiver serve`, Milvus Lite's server or a Milvus
/// cluster. Code written against `any VectorDatabase` runs on either; `connect(_:)` in
/// `QuiverRemote` picks the backend from a path or a URL, as pymilvus's `MilvusClient(uri)` does.
///
/// ```swift
/// func ingest(into db: any VectorDatabase) async throws {
///     try await db.createCollection("docs", dimension: 384, metric: .ip)
///     _ = try await db.insert("docs", rows: [["id": 1, "vector": .vector(v), "text": "hi"]])
///     let hits = try await db.search("docs", vectors: [q], limit: 3, outputFields: ["text"])
/// }
/// ```
///
/// Every call names its collection first, without a label. The requirements take request values
/// (``SearchRequest``, ``QueryRequest``, …) so that a backend implements each call once; the
/// labelled methods with defaults that code calls are in the protocol's extension and build them.
/// Results (``Hit``, ``Row``, ``InsertResult``, …) and errors (``QuiverError`` with its ``QuiverError/Code``)
/// are the same types on every backend.
public protocol VectorDatabase: Sendable {
    /// Creates a collection with an explicit schema.
    ///
    /// - Throws: `.alreadyExists` when the name is taken; `.invalidArgument` for a bad name or schema.
    func createCollection(_ name: String, schema: CollectionSchema, metric: MetricType) async throws
    /// Deletes a collection and all its data.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    func dropCollection(_ name: String) async throws
    /// Whether a collection of that name exists.
    ///
    /// - Throws: `.closed` or `.unavailable` when the database cannot be asked.
    func hasCollection(_ name: String) async throws -> Bool
    /// The names of the collections, sorted.
    ///
    /// - Throws: `.closed` or `.unavailable` when the database cannot be asked.
    func listCollections() async throws -> [String]
    /// The schema, metric and row count of a collection.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    func describeCollection(_ name: String) async throws -> CollectionDescription
    /// Renames a collection.
    ///
    /// - Throws: `.notFound` for a missing collection; `.alreadyExists` when the new name is taken.
    func renameCollection(_ name: String, to newName: String) async throws
    /// Row and segment counts of a collection (a remote server reports the row count only).
    ///
    /// - Throws: `.notFound` when there is no such collection.
    func collectionStats(_ name: String) async throws -> CollectionStats
    /// Makes a collection searchable (Milvus's `load_collection`).
    ///
    /// - Throws: `.notFound` when there is no such collection.
    func loadCollection(_ name: String) async throws
    /// Gives a loaded collection's memory back (Milvus's `release_collection`).
    ///
    /// - Throws: `.notFound` when there is no such collection.
    func releaseCollection(_ name: String) async throws
    /// Whether a collection is loaded.
    ///
    /// - Throws: `.closed` or `.unavailable` when the database cannot be asked.
    func loadState(_ name: String) async throws -> LoadState
    /// Creates `alias` as a second name of `collection` (Milvus's `create_alias`). Every call that
    /// takes a collection name takes an alias too, except `dropCollection`.
    ///
    /// - Throws: `.alreadyExists` when `alias` is an alias or a collection's name already;
    ///   `.notFound` when there is no such collection; `.invalidArgument` for a bad name.
    func createAlias(_ collection: String, alias: String) async throws
    /// Points the existing `alias` at `collection` in one atomic step (Milvus's `alter_alias`):
    /// the switch of the blue/green pattern.
    ///
    /// - Throws: `.notFound` when `alias` is no alias or there is no such collection.
    func alterAlias(_ collection: String, alias: String) async throws
    /// Removes an alias; its collection stays (Milvus's `drop_alias`).
    ///
    /// - Throws: `.notFound` when there is no such alias (the embedded engine; a Milvus server
    ///   answers success).
    func dropAlias(_ alias: String) async throws
    /// The name of the collection an alias names (Milvus's `describe_alias`).
    ///
    /// - Throws: `.notFound` when there is no such alias.
    func describeAlias(_ alias: String) async throws -> String
    /// The aliases of a collection (given by its name or an alias), or of every collection for
    /// `nil`, sorted (Milvus's `list_aliases`).
    ///
    /// - Throws: `.notFound` when there is no such collection.
    func listAliases(_ collection: String?) async throws -> [String]
    /// Creates an empty partition of a collection (Milvus's `create_partition`).
    ///
    /// - Throws: `.alreadyExists` when it exists; `.invalidArgument` for a bad name or a
    ///   collection with a partition key; `.notFound` when there is no such collection.
    func createPartition(_ collection: String, partition: String) async throws
    /// Drops a partition and every row in it (Milvus's `drop_partition`).
    ///
    /// - Throws: `.notFound` for a missing collection or partition; `.invalidArgument` for
    ///   `_default` or a collection with a partition key.
    func dropPartition(_ collection: String, partition: String) async throws
    /// Whether a collection has a partition (Milvus's `has_partition`).
    ///
    /// - Throws: `.notFound` when there is no such collection.
    func hasPartition(_ collection: String, partition: String) async throws -> Bool
    /// The names of a collection's partitions (Milvus's `list_partitions`).
    ///
    /// - Throws: `.notFound` when there is no such collection.
    func listPartitions(_ collection: String) async throws -> [String]
    /// Seals a collection's growing segment so that what was written is in segment files.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.io` when the segment cannot be written.
    func flush(_ collection: String) async throws

    /// Inserts rows into `partition` (`nil`: `_default`, or with a partition key the partition of
    /// each row's key); atomic: every row is validated before anything is written.
    ///
    /// - Throws: `.alreadyExists` naming a primary key that is taken; `.dimensionMismatch`;
    ///   `.invalidArgument` naming the row and field for any other bad value, or for a partition
    ///   given to a collection with a partition key; `.notFound` for an unknown partition.
    ///   Nothing is applied.
    func insert(_ collection: String, rows: [Row], partition: String?) async throws -> InsertResult
    /// Inserts rows into `partition`, replacing any live row with the same primary key; atomic
    /// like `insert`.
    ///
    /// - Throws: `.dimensionMismatch`; `.invalidArgument` for a bad value; `.notFound` for an
    ///   unknown partition. Nothing is applied.
    func upsert(_ collection: String, rows: [Row], partition: String?) async throws -> UpsertResult
    /// Inserts rows given column by column (``ColumnBatch``) into `partition` (as
    /// `insert(_:rows:partition:)`); atomic and validated like `insert`.
    ///
    /// - Throws: as `insert(_:rows:partition:)`, and `.invalidArgument` for columns of different lengths.
    func insert(_ collection: String, columns: ColumnBatch, partition: String?) async throws -> InsertResult
    /// Upserts rows given column by column (``ColumnBatch``) into `partition`; atomic like `upsert`.
    ///
    /// - Throws: as `upsert(_:rows:partition:)`, and `.invalidArgument` for columns of different lengths.
    func upsert(_ collection: String, columns: ColumnBatch, partition: String?) async throws -> UpsertResult
    /// Deletes the rows a ``DeleteRequest`` names.
    ///
    /// - Throws: `.invalidArgument` when it has neither ids nor a filter; `.filterSyntax`.
    func delete(_ collection: String, _ request: DeleteRequest) async throws -> DeleteResult
    /// Reads rows by primary keys and/or a filter, with paging (``QueryRequest``).
    ///
    /// - Throws: `.invalidArgument` for bad keys, fields or paging; `.filterSyntax`.
    func query(_ collection: String, _ request: QueryRequest) async throws -> [Row]
    /// Nearest-neighbour search (``SearchRequest``): one list of hits per query.
    ///
    /// - Throws: `.dimensionMismatch`, `.invalidArgument`, `.filterSyntax`.
    func search(_ collection: String, _ request: SearchRequest) async throws -> [[Hit]]
    /// Hybrid search (``HybridSearchRequest``): several searches fused by a ``Ranker``; one list
    /// of hits per query, with the fused scores.
    ///
    /// - Throws: `.invalidArgument` for mismatched query counts, weights or bad fusion
    ///   parameters; any error of `search` for a request.
    func hybridSearch(_ collection: String, _ request: HybridSearchRequest) async throws -> [[Hit]]
    /// Walks the rows a ``QueryIteratorRequest`` matches in primary-key order, a batch at a time,
    /// past the ``maxTopK`` limit of a query (pymilvus's `query_iterator`). The embedded engine
    /// reads a snapshot taken by this call; a server is paged with `pk > last` queries, so rows
    /// written during the walk may appear in it (as with pymilvus).
    ///
    /// - Throws: `.invalidArgument` for what ``QueryIteratorRequest/validate()`` refuses, a bad
    ///   output field or `count(*)`; `.filterSyntax`; `.notFound` for an unknown collection or partition.
    func queryIterator(_ collection: String, _ request: QueryIteratorRequest) async throws -> BatchSequence<Row>
    /// Walks the rows nearest to one query vector (``SearchIteratorRequest``) best first, a batch at
    /// a time, past the ``maxTopK`` limit of a search (pymilvus's `search_iterator`): each batch a
    /// range search beyond the last distance returned. The embedded engine scans a snapshot
    /// exactly; a server answers each range search with its index, so its walk is as exact as
    /// its range search.
    ///
    /// - Throws: `.invalidArgument` for what ``SearchIteratorRequest/validate()`` refuses, a NaN
    ///   component, a binary or sparse field, an unknown field; `.dimensionMismatch`;
    ///   `.filterSyntax`; `.notFound` for an unknown collection or partition.
    func searchIterator(_ collection: String, _ request: SearchIteratorRequest) async throws -> BatchSequence<Hit>

    /// Defines an index on a vector field and starts building it.
    ///
    /// - Throws: `.invalidArgument` for a bad parameter; `.alreadyExists` when the field has a different index.
    func createIndex(_ collection: String, _ request: IndexRequest) async throws
    /// The type, metric, parameters and build progress of the index of `field`.
    ///
    /// - Throws: `.notFound` when the field has no index.
    func describeIndex(_ collection: String, field: String) async throws -> IndexDescription
    /// The fields that have an index (an index is named after its field), sorted.
    ///
    /// - Throws: `.notFound` when there is no such collection.
    func listIndexes(_ collection: String) async throws -> [String]
    /// Removes the index of `field`; searches of the field become exact.
    ///
    /// - Throws: `.notFound` when the field has no index.
    func dropIndex(_ collection: String, field: String) async throws

    /// Closes the database or the connection; later calls throw `.closed`.
    ///
    /// - Throws: `.io` when the embedded database cannot write its last state (its lock is released all the same).
    func close() async throws
}

/// Whether a collection is loaded, with Milvus's meaning (`LoadState` in pymilvus).
public enum LoadState: String, Sendable, Hashable {
    /// There is no such collection.
    case notExist = "NotExist"
    /// The collection exists and is not loaded.
    case notLoad = "NotLoad"
    /// The collection is being loaded.
    case loading = "Loading"
    /// The collection is loaded and can be searched.
    case loaded = "Loaded"
}

/// What a delete removes: rows by primary key and/or the rows a filter matches.
public struct DeleteRequest: Sendable, Hashable {
    /// Primary keys to delete; with a filter, only those of them that match it.
    public var ids: [Value]?
    /// A filter expression; empty for none.
    public var filter: String
    /// Values for the filter's `{name}` templates.
    public var filterParams: [String: Value]
    /// Delete only rows of these partitions; empty for all.
    public var partitions: [String]

    /// A delete by ids and/or filter; at least one must be given.
    public init(ids: [Value]? = nil, filter: String = "", filterParams: [String: Value] = [:], partitions: [String] = []) {
        self.ids = ids
        self.filter = filter
        self.filterParams = filterParams
        self.partitions = partitions
    }
}

/// What a query reads: rows by primary keys and/or a filter, with paging.
public struct QueryRequest: Sendable, Hashable {
    /// A filter expression; empty for all rows.
    public var filter: String
    /// Values for the filter's `{name}` templates.
    public var filterParams: [String: Value]
    /// Primary keys; `nil` for no restriction by key.
    public var ids: [Value]?
    /// The most rows to return; `nil` for no limit (a query then needs a filter or ids).
    public var limit: Int?
    /// Rows to skip first.
    public var offset: Int
    /// Fields to return besides the primary key; `["*"]` for all, `["count(*)"]` for the count.
    public var outputFields: [String]?
    /// Read only rows of these partitions; empty for all.
    public var partitions: [String]

    /// A query; see ``Database/query(_:filter:filterParams:ids:limit:offset:outputFields:partitions:)``.
    public init(
        filter: String = "", filterParams: [String: Value] = [:], ids: [Value]? = nil, limit: Int? = nil,
        offset: Int = 0, outputFields: [String]? = nil, partitions: [String] = []
    ) {
        self.partitions = partitions
        self.filter = filter
        self.filterParams = filterParams
        self.ids = ids
        self.limit = limit
        self.offset = offset
        self.outputFields = outputFields
    }
}

/// What a search looks for: query vectors (or stored rows' vectors) and how to rank and filter.
public struct SearchRequest: Sendable, Hashable {
    /// The queries of a search.
    public enum Queries: Sendable, Hashable {
        /// Float vectors, each with the field's dimension (float, float16 and bfloat16 fields).
        case vectors([[Float]])
        /// Bit vectors of `dimension / 8` bytes (binary fields).
        case binaryVectors([[UInt8]])
        /// The stored vectors of the rows with these primary keys.
        case ids([Value])
        /// Sparse vectors (sparse fields), ranked by inner product; see ``SparseVector``.
        case sparseVectors([SparseVector])
        /// Query texts, for the output field of a BM25 function: analyzed with its input field's
        /// analyzer and ranked by BM25 (see <doc:FullTextSearch>).
        case texts([String])
    }
    /// The query vectors.
    public var queries: Queries
    /// Results per query, 1 or more; `limit + offset` at most ``maxTopK``.
    public var limit: Int
    /// Results to skip before the first one returned.
    public var offset: Int
    /// A filter expression the rows must match; empty for all rows.
    public var filter: String
    /// Values for the filter's `{name}` templates.
    public var filterParams: [String: Value]
    /// Fields to return in ``Hit/entity``; `nil` for none.
    public var outputFields: [String]?
    /// The vector field to search (needed when the schema has several).
    public var annsField: String?
    /// When given, must equal the collection's metric.
    public var metric: MetricType?
    /// Range search, grouping, rounding, threads and index parameters.
    public var options: SearchOptions
    /// Search only these partitions; empty for all. With a partition key, give none: a filter
    /// on the key reads only its values' partitions.
    public var partitions: [String]

    /// A search; see ``Database/search(_:vectors:limit:offset:filter:filterParams:outputFields:annsField:metric:options:partitions:)``.
    public init(
        queries: Queries, limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, metric: MetricType? = nil,
        options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) {
        self.partitions = partitions
        self.queries = queries
        self.limit = limit
        self.offset = offset
        self.filter = filter
        self.filterParams = filterParams
        self.outputFields = outputFields
        self.annsField = annsField
        self.metric = metric
        self.options = options
    }
}

/// An index to define on a vector field.
public struct IndexRequest: Sendable, Hashable {
    /// The vector field to index.
    public var field: String
    /// The index type; see ``IndexType`` for each type's parameters and defaults.
    public var type: IndexType
    /// Must be the collection's metric when given.
    public var metric: MetricType?
    /// Build parameters with Milvus's names (`M`, `efConstruction`, `nlist`).
    public var params: [String: Value]
    /// The index's name (Milvus's `index_name`); the field's name when nil.
    public var name: String?

    /// An index definition.
    public init(field: String, type: IndexType, metric: MetricType? = nil, params: [String: Value] = [:], name: String? = nil) {
        self.field = field
        self.type = type
        self.metric = metric
        self.params = params
        self.name = name
    }
}

// MARK: - The labelled calls, with defaults, on every backend

extension VectorDatabase {
    /// Walks the rows matching `filter` in primary-key order, `batchSize` at a time; see
    /// ``queryIterator(_:_:)``.
    ///
    /// ```swift
    /// for try await batch in try await db.queryIterator("docs", batchSize: 1000, outputFields: ["title"]) { … }
    /// ```
    ///
    /// - Throws: as ``queryIterator(_:_:)``.
    public func queryIterator(
        _ collection: String, batchSize: Int = 1000, limit: Int? = nil, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, partitions: [String] = []
    ) async throws -> BatchSequence<Row> {
        try await queryIterator(collection, QueryIteratorRequest(
            batchSize: batchSize, limit: limit, filter: filter, filterParams: filterParams, outputFields: outputFields,
            partitions: partitions))
    }

    /// Walks the rows nearest to `vector`, best first, `batchSize` at a time; see
    /// ``searchIterator(_:_:)``.
    ///
    /// - Throws: as ``searchIterator(_:_:)``.
    public func searchIterator(
        _ collection: String, vector: [Float], batchSize: Int = 1000, limit: Int? = nil, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        partitions: [String] = []
    ) async throws -> BatchSequence<Hit> {
        try await searchIterator(collection, SearchIteratorRequest(
            vector: vector, batchSize: batchSize, limit: limit, filter: filter, filterParams: filterParams,
            outputFields: outputFields, annsField: annsField, partitions: partitions))
    }

    /// Creates a collection the quick way (Milvus's quick setup): an `id` primary key, a float
    /// vector field `vector` and a dynamic field; see ``CollectionSchema/quick(dimension:idType:autoID:)``.
    ///
    /// - Throws: `.alreadyExists` when the name is taken; `.invalidArgument` for a bad name or dimension.
    public func createCollection(
        _ name: String, dimension: Int, metric: MetricType = .cosine, idType: IDType = .int64, autoID: Bool = false
    ) async throws {
        try await createCollection(name, schema: CollectionSchema.quick(dimension: dimension, idType: idType, autoID: autoID), metric: metric)
    }

    /// The aliases of every collection, sorted; see ``listAliases(_:)``.
    ///
    /// - Throws: `.closed` or `.unavailable` when the database cannot be asked.
    public func listAliases() async throws -> [String] {
        try await listAliases(nil)
    }

    /// Inserts rows into `_default` (or, with a partition key, the partition of each row's key);
    /// see the requirement `insert(_:rows:partition:)`.
    ///
    /// - Throws: `.alreadyExists` naming a primary key that is taken; `.dimensionMismatch`;
    ///   `.invalidArgument` for a bad value. Nothing is applied.
    public func insert(_ collection: String, rows: [Row]) async throws -> InsertResult {
        try await insert(collection, rows: rows, partition: nil)
    }

    /// Inserts rows into `_default`, replacing any live row with the same primary key; see
    /// the requirement `upsert(_:rows:partition:)`.
    ///
    /// - Throws: `.dimensionMismatch`; `.invalidArgument` for a bad value. Nothing is applied.
    public func upsert(_ collection: String, rows: [Row]) async throws -> UpsertResult {
        try await upsert(collection, rows: rows, partition: nil)
    }

    /// Inserts rows given column by column into `_default` (or, with a partition key, the
    /// partition of each row's key); see the requirement `insert(_:columns:partition:)`.
    ///
    /// - Throws: as `insert(_:rows:partition:)`, and `.invalidArgument` for columns of different lengths.
    public func insert(_ collection: String, columns: ColumnBatch) async throws -> InsertResult {
        try await insert(collection, columns: columns, partition: nil)
    }

    /// Upserts rows given column by column into `_default`; see the requirement
    /// `upsert(_:columns:partition:)`.
    ///
    /// - Throws: as `upsert(_:rows:partition:)`, and `.invalidArgument` for columns of different lengths.
    public func upsert(_ collection: String, columns: ColumnBatch) async throws -> UpsertResult {
        try await upsert(collection, columns: columns, partition: nil)
    }

    /// Deletes rows by primary key and/or filter, of `partitions` (all when empty); returns how
    /// many live rows were deleted.
    ///
    /// - Throws: `.invalidArgument` when neither `ids` nor a filter is given; `.filterSyntax`;
    ///   `.notFound` for an unknown partition.
    public func delete(
        _ collection: String, ids: [Value]? = nil, filter: String = "", filterParams: [String: Value] = [:],
        partitions: [String] = []
    ) async throws -> DeleteResult {
        try await delete(collection, DeleteRequest(ids: ids, filter: filter, filterParams: filterParams, partitions: partitions))
    }

    /// The rows with the given primary keys, in that order (missing keys are skipped); with a
    /// filter, only those that also match it; with `partitions`, only those in them.
    ///
    /// - Throws: `.invalidArgument` for a key of the wrong type or an unknown output field;
    ///   `.filterSyntax`; `.notFound` for an unknown partition.
    public func get(
        _ collection: String, ids: [Value], outputFields: [String]? = nil, filter: String = "",
        filterParams: [String: Value] = [:], partitions: [String] = []
    ) async throws -> [Row] {
        try await query(collection, QueryRequest(
            filter: filter, filterParams: filterParams, ids: ids, outputFields: outputFields, partitions: partitions))
    }

    /// Rows by primary keys and/or a filter, with paging, of `partitions` (all when empty);
    /// `outputFields: ["count(*)"]` returns `[["count(*)": n]]`.
    ///
    /// - Throws: `.invalidArgument` when there is no filter, no ids and no limit, or for bad
    ///   paging; `.filterSyntax`; `.notFound` for an unknown partition.
    public func query(
        _ collection: String, filter: String = "", filterParams: [String: Value] = [:], ids: [Value]? = nil,
        limit: Int? = nil, offset: Int = 0, outputFields: [String]? = nil, partitions: [String] = []
    ) async throws -> [Row] {
        try await query(collection, QueryRequest(
            filter: filter, filterParams: filterParams, ids: ids, limit: limit, offset: offset, outputFields: outputFields,
            partitions: partitions))
    }

    /// For each query vector, the `limit` closest live rows (Milvus's distances: L2 squared,
    /// ascending; IP and COSINE similarities, descending).
    ///
    /// - Throws: `.dimensionMismatch`, `.invalidArgument`, `.filterSyntax`.
    public func search(
        _ collection: String, vectors: [[Float]], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) async throws -> [[Hit]] {
        try await search(collection, SearchRequest(
            queries: .vectors(vectors), limit: limit, offset: offset, filter: filter, filterParams: filterParams,
            outputFields: outputFields, annsField: annsField, metric: metric, options: options, partitions: partitions))
    }

    /// Searches a sparse vector field by inner product, best first (rows scoring 0 are not matches).
    ///
    /// - Throws: `.invalidArgument` when the field is not sparse or the metric is not IP, and as
    ///   the float search.
    public func search(
        _ collection: String, sparseVectors: [SparseVector], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) async throws -> [[Hit]] {
        try await search(collection, SearchRequest(
            queries: .sparseVectors(sparseVectors), limit: limit, offset: offset, filter: filter, filterParams: filterParams,
            outputFields: outputFields, annsField: annsField, metric: metric, options: options, partitions: partitions))
    }

    /// Full-text search of a BM25 function's output field with query texts, best first (BM25
    /// scores, positive; see <doc:FullTextSearch>).
    ///
    /// - Throws: `.invalidArgument` when the field is not a BM25 function's output, and as the float search.
    public func search(
        _ collection: String, texts: [String], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) async throws -> [[Hit]] {
        try await search(collection, SearchRequest(
            queries: .texts(texts), limit: limit, offset: offset, filter: filter, filterParams: filterParams,
            outputFields: outputFields, annsField: annsField, options: options, partitions: partitions))
    }

    /// Hybrid search of `requests` fused by `ranker` (see ``HybridSearchRequest`` for grouping,
    /// rounding and partitions).
    ///
    /// - Throws: `.invalidArgument` for mismatched query counts, weights or bad fusion
    ///   parameters; any error of `search` for a request.
    public func hybridSearch(
        _ collection: String, requests: [SearchRequest], ranker: Ranker = .rrf(), limit: Int = 10, offset: Int = 0,
        outputFields: [String]? = nil
    ) async throws -> [[Hit]] {
        try await hybridSearch(collection, HybridSearchRequest(
            requests: requests, ranker: ranker, limit: limit, offset: offset, outputFields: outputFields))
    }

    /// Searches a binary vector field (HAMMING or JACCARD) with bit vectors of `dimension / 8` bytes.
    ///
    /// - Throws: `.dimensionMismatch` for a query of the wrong length; `.invalidArgument`, `.filterSyntax`.
    public func search(
        _ collection: String, binaryVectors: [[UInt8]], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) async throws -> [[Hit]] {
        try await search(collection, SearchRequest(
            queries: .binaryVectors(binaryVectors), limit: limit, offset: offset, filter: filter,
            filterParams: filterParams, outputFields: outputFields, annsField: annsField, metric: metric, options: options,
            partitions: partitions))
    }

    /// Searches with the stored vectors of the rows `ids` as queries (one list of hits per id).
    ///
    /// - Throws: `.notFound` naming an id that has no live row; `.invalidArgument`, `.filterSyntax`.
    public func search(
        _ collection: String, ids: [Value], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) async throws -> [[Hit]] {
        try await search(collection, SearchRequest(
            queries: .ids(ids), limit: limit, offset: offset, filter: filter, filterParams: filterParams,
            outputFields: outputFields, annsField: annsField, metric: metric, options: options, partitions: partitions))
    }

    /// Defines an index on a vector field and starts building it; creating the same index again is a no-op.
    ///
    /// - Throws: `.invalidArgument` for a bad parameter or metric; `.alreadyExists` when the field has a different index.
    public func createIndex(
        _ collection: String, field: String, type: IndexType, metric: MetricType? = nil, params: [String: Value] = [:],
        name: String? = nil
    ) async throws {
        try await createIndex(collection, IndexRequest(field: field, type: type, metric: metric, params: params, name: name))
    }

    /// Defines an index by its Milvus type name (`"HNSW"`, `"IVF_FLAT"`, …).
    ///
    /// - Throws: `.invalidArgument` for an unknown type name, and as the typed overload.
    public func createIndex(
        _ collection: String, field: String, typeName: String, metric: MetricType? = nil, params: [String: Value] = [:],
        name: String? = nil
    ) async throws {
        try await createIndex(collection, field: field, type: IndexType(validating: typeName), metric: metric, params: params, name: name)
    }
}
