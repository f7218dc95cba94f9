/// Walks the rows of a query in batches, in primary-key order, over a snapshot taken when the
/// iterator was made: any number of rows (past ``maxTopK``), each exactly once, and writes,
/// deletes and flushes made during the walk change nothing it returns.
///
/// Made by ``Database/queryIterator(_:batchSize:limit:filter:filterParams:outputFields:partitions:)``.
/// Call ``next()`` until it returns `nil`, or use it as an `AsyncSequence` of batches:
///
/// ```swift
/// let rows = try db.queryIterator("docs", batchSize: 1000, filter: "year > 2000", outputFields: ["title"])
/// while let batch = rows.next() { for row in batch { print(row["title"]!) } }
/// for await batch in try db.queryIterator("docs") { … }
/// ```
///
/// The snapshot holds the collection's segments (as any read does while it runs) and 8 bytes
/// per matching row; it is released with the iterator.
public final class QueryIterator: Sendable, AsyncSequence {
    private let segments: [SegmentRef]
    private let order: [RowRef]
    private let fields: OutputFields
    /// The rows each batch holds (the last may hold fewer).
    public let batchSize: Int
    private let position = Locked(0)

    /// - Throws: `.corruption` naming the file when a vector field asked for is damaged: its
    ///   rows are verified here, whole, so that `next()` has nothing left to fail on.
    init(snapshot: Snapshot, filter: FilterExpression, scope: Set<UInt64>?, fields: OutputFields, batchSize: Int, limit: Int?) throws {
        let (segments, order) = CollectionEngine.keyOrder(snapshot, filter: filter, scope: scope, limit: limit)
        for case .sealed(let s) in segments {
            for field in fields.schemaFields where field.dataType.isVector { try s.verifyVectors(field.name) }
        }
        self.segments = segments
        self.order = order
        self.fields = fields
        self.batchSize = batchSize
    }

    /// The number of rows the walk returns in all (those matching when it was made, up to its limit).
    public var count: Int { order.count }

    /// The next batch of rows in primary-key order; `nil` once every row was returned.
    ///
    /// - Complexity: O(batch size × output fields).
    public func next() -> [Row]? {
        let range: Range<Int> = position.withLock { p in
            let range = p..<Swift.min(p + batchSize, order.count)
            p = range.upperBound
            return range
        }
        guard !range.isEmpty else { return nil }
        // Cannot throw: the vectors asked for were verified when the iterator was made.
        return order[range].map { try! segments[Int($0.segment)].entity(row: Int($0.row), fields: fields) }
    }

    /// The batches as an `AsyncSequence`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let base: QueryIterator
        /// The next batch; `nil` at the end.
        public mutating func next() async -> [Row]? { base.next() }
    }

    /// An iterator over the batches (all iterators share the one walk).
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: self) }
}

/// Walks the nearest neighbours of one query vector in batches, best first, over a snapshot
/// taken when the iterator was made: any number of hits (past ``maxTopK``), each row exactly
/// once, unchanged by writes made during the walk.
///
/// Made by ``Database/searchIterator(_:vector:batchSize:limit:filter:filterParams:outputFields:annsField:partitions:)``.
/// Each batch is an exact range search (approximate indexes are not used) for the rows at or
/// beyond the last distance returned, leaving out the rows already returned at exactly that
/// distance (ties are ordered by where the rows are stored, which the snapshot fixes), as
/// Milvus's search iterator pages with `radius`/`range_filter`.
///
/// ```swift
/// let hits = try db.searchIterator("docs", vector: q, batchSize: 500)
/// while let batch = try hits.next() { … }
/// ```
public final class SearchIterator: Sendable, AsyncSequence {
    private let engine: CollectionEngine
    private let snapshot: Snapshot
    private let request: CollectionEngine.SearchRequest
    /// The hits each batch holds (the last may hold fewer).
    public let batchSize: Int
    private let limit: Int?
    private struct Cursor {
        /// The distance of the last hit returned, and the ids returned at exactly that distance.
        var last: Float?
        var tied: Set<Value> = []
        var returned = 0
        var done = false
    }
    private let cursor = Locked(Cursor())

    init(engine: CollectionEngine, snapshot: Snapshot, request: CollectionEngine.SearchRequest, batchSize: Int, limit: Int?) {
        self.engine = engine
        self.snapshot = snapshot
        self.request = request
        self.batchSize = batchSize
        self.limit = limit
    }

    /// The next batch of hits, best first; `nil` once every matching row was returned (or the limit).
    ///
    /// - Throws: what a search throws (not for input already checked when the iterator was made).
    /// - Complexity: O(rows × dimension) per batch: an exact scan of the snapshot.
    public func next() throws -> [Hit]? {
        try cursor.withLock { c in
            guard !c.done else { return nil }
            let wanted = Swift.min(batchSize, (limit ?? .max) - c.returned)
            guard wanted > 0 else { c.done = true; return nil }
            var request = self.request
            request.limit = wanted + c.tied.count
            request.offset = 0
            // The inner bound of Milvus's range search is inclusive: the rows at the last
            // distance come back, and the ones already returned are dropped. An infinite bound on
            // the first batch makes every batch the same exact scan.
            request.rangeFilter = c.last ?? (snapshot.metric.higherIsBetter ? .infinity : -.infinity)
            let hits = try engine.search(request, in: snapshot)[0]
                .filter { !(c.last == $0.distance && c.tied.contains($0.id)) }
                .prefix(wanted)
            guard let tail = hits.last else { c.done = true; return nil }
            if tail.distance != c.last { c.tied = [] }
            c.last = tail.distance
            for hit in hits where hit.distance == tail.distance { c.tied.insert(hit.id) }
            c.returned += hits.count
            return Array(hits)
        }
    }

    /// The batches as an `AsyncSequence`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let base: SearchIterator
        /// The next batch; `nil` at the end.
        ///
        /// - Throws: as ``SearchIterator/next()``.
        public mutating func next() async throws -> [Hit]? { try base.next() }
    }

    /// An iterator over the batches (all iterators share the one walk).
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: self) }
}

extension Database {
    /// A ``QueryIterator``: the rows matching `filter`, in primary-key order, `batchSize` at a
    /// time, from a snapshot taken now.
    ///
    /// - Parameters:
    ///   - collection: the collection's name.
    ///   - batchSize: rows per batch, 1 to ``maxTopK``.
    ///   - limit: the most rows returned in all; `nil` (the default) for every matching row.
    ///   - filter: a filter expression; empty (the default) for every row.
    ///   - filterParams: values for the filter's `{name}` templates.
    ///   - outputFields: fields to return besides the primary key; `["*"]` for all.
    ///   - partitions: only rows of these partitions; empty (the default) for all.
    /// - Throws: `.invalidArgument` for a batch size out of range, a negative limit, an unknown
    ///   output field or `count(*)`, or partitions given to a collection with a partition key;
    ///   `.filterSyntax`; `.notFound` when there is no such collection or partition.
    /// - Complexity: O(matching rows × log) to take the snapshot's key order.
    public func queryIterator(
        _ collection: String, batchSize: Int = 1000, limit: Int? = nil, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, partitions: [String] = []
    ) throws -> QueryIterator {
        try checkIteration(batchSize: batchSize, limit: limit)
        return try withEngine(collection, .read) { e in
            let expression = try FilterExpression.compile(filter, params: filterParams, schema: e.schema)
            if outputFields?.contains("count(*)") == true {
                throw QuiverError.invalidArgument("an iterator returns rows; count(*) is a query's")
            }
            let fields = try OutputFields.resolve(outputFields, schema: e.schema, includePrimaryKey: true)
            let scope = try e.scope(partitions, filter: expression)
            return try QueryIterator(
                snapshot: try e.snapshot(), filter: expression, scope: scope, fields: fields, batchSize: batchSize, limit: limit)
        }
    }

    /// A ``SearchIterator``: the rows nearest to `vector` (that match `filter`), best first,
    /// `batchSize` at a time, from a snapshot taken now.
    ///
    /// - Parameters:
    ///   - collection: the collection's name.
    ///   - vector: the query vector, with the field's dimension.
    ///   - batchSize: hits per batch, 1 to ``maxTopK``.
    ///   - limit: the most hits returned in all; `nil` (the default) for every matching row.
    ///   - filter: a filter expression the rows must match; empty (the default) for all rows.
    ///   - filterParams: values for the filter's `{name}` templates.
    ///   - outputFields: fields to return in ``Hit/entity``; `nil` (the default) for none.
    ///   - annsField: the vector field to search (needed when the schema has several).
    ///   - partitions: only rows of these partitions; empty (the default) for all (as `search`).
    /// - Throws: `.invalidArgument` for a batch size out of range, a negative limit, a binary
    ///   vector field, a NaN component, an unknown field, or partitions given to a collection
    ///   with a partition key; `.dimensionMismatch`; `.filterSyntax`; `.notFound` for an unknown
    ///   partition.
    public func searchIterator(
        _ collection: String, vector: [Float], batchSize: Int = 1000, limit: Int? = nil, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        partitions: [String] = []
    ) throws -> SearchIterator {
        try checkIteration(batchSize: batchSize, limit: limit)
        return try withEngine(collection, .read) { e in
            let request = try checkedSearch(e, SearchRequest(
                queries: .vectors([vector]), limit: batchSize, filter: filter, filterParams: filterParams,
                outputFields: outputFields, annsField: annsField, partitions: partitions))
            return SearchIterator(engine: e, snapshot: try e.snapshot(), request: request, batchSize: batchSize, limit: limit)
        }
    }}
