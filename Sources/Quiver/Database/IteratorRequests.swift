/// What a query iterator walks (``VectorDatabase/queryIterator(_:_:)``): the rows matching a
/// filter, in primary-key order, `batchSize` at a time.
public struct QueryIteratorRequest: Sendable, Hashable {
    /// Rows per batch, 1 to ``maxTopK``.
    public var batchSize: Int
    /// The most rows returned in all; `nil` for every matching row.
    public var limit: Int?
    /// A filter expression; empty for every row.
    public var filter: String
    /// Values for the filter's `{name}` templates.
    public var filterParams: [String: Value]
    /// Fields to return besides the primary key; `["*"]` for all.
    public var outputFields: [String]?
    /// Only rows of these partitions; empty for all.
    public var partitions: [String]

    /// A query iterator's walk; see ``VectorDatabase/queryIterator(_:_:)``.
    public init(
        batchSize: Int = 1000, limit: Int? = nil, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, partitions: [String] = []
    ) {
        self.batchSize = batchSize
        self.limit = limit
        self.filter = filter
        self.filterParams = filterParams
        self.outputFields = outputFields
        self.partitions = partitions
    }

    /// Refuses what no backend can walk, before anything is read.
    ///
    /// - Throws: `.invalidArgument` for a batch size out of 1...``maxTopK`` or a negative limit.
    public func validate() throws { try checkIteration(batchSize: batchSize, limit: limit) }
}

/// What a search iterator walks (``VectorDatabase/searchIterator(_:_:)``): the rows nearest to one
/// query vector, best first, `batchSize` at a time.
public struct SearchIteratorRequest: Sendable, Hashable {
    /// The query vector, with the field's dimension.
    public var vector: [Float]
    /// Hits per batch, 1 to ``maxTopK``.
    public var batchSize: Int
    /// The most hits returned in all; `nil` for every matching row.
    public var limit: Int?
    /// A filter expression the rows must match; empty for all rows.
    public var filter: String
    /// Values for the filter's `{name}` templates.
    public var filterParams: [String: Value]
    /// Fields to return in ``Hit/entity``; `nil` for none.
    public var outputFields: [String]?
    /// The vector field to search (needed when the schema has several).
    public var annsField: String?
    /// Only rows of these partitions; empty for all.
    public var partitions: [String]

    /// A search iterator's walk; see ``VectorDatabase/searchIterator(_:_:)``.
    public init(
        vector: [Float], batchSize: Int = 1000, limit: Int? = nil, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, partitions: [String] = []
    ) {
        self.vector = vector
        self.batchSize = batchSize
        self.limit = limit
        self.filter = filter
        self.filterParams = filterParams
        self.outputFields = outputFields
        self.annsField = annsField
        self.partitions = partitions
    }

    /// Refuses what no backend can walk, before anything is read.
    ///
    /// - Throws: `.invalidArgument` for a batch size out of 1...``maxTopK`` or a negative limit.
    public func validate() throws { try checkIteration(batchSize: batchSize, limit: limit) }
}

/// The one check of an iterator's paging, for both requests and the synchronous iterators.
func checkIteration(batchSize: Int, limit: Int?) throws {
    guard (1...maxTopK).contains(batchSize) else {
        throw QuiverError.invalidArgument("batch size \(batchSize) is out of range: it must be 1 to \(maxTopK)")
    }
    if let limit, limit < 0 { throw QuiverError.invalidArgument("limit \(limit) must not be negative") }
}

/// The batches of an iterator on any backend (``VectorDatabase/queryIterator(_:_:)``,
/// ``VectorDatabase/searchIterator(_:_:)``): call ``next()`` until it returns `nil`, or use it as
/// an `AsyncSequence` of batches.
///
/// ```swift
/// for try await batch in try await db.queryIterator("docs", batchSize: 500, filter: "year > 2000") {
///     for row in batch { print(row["id"]!) }
/// }
/// ```
///
/// Every copy and every `AsyncIterator` made from it share one walk: each batch is returned once.
public struct BatchSequence<Item: Sendable>: AsyncSequence, Sendable {
    /// A batch.
    public typealias Element = [Item]
    private let nextBatch: @Sendable () async throws -> [Item]?

    /// A walk whose batches `next` returns, `nil` at the end; a backend makes it.
    public init(_ next: @escaping @Sendable () async throws -> [Item]?) {
        nextBatch = next
    }

    /// The next batch; `nil` once the walk is over.
    ///
    /// - Throws: what the backend's read throws (`.unavailable` for a server that went away, …).
    public func next() async throws -> [Item]? { try await nextBatch() }

    /// The batches' iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let base: BatchSequence
        /// The next batch; `nil` at the end.
        ///
        /// - Throws: as ``BatchSequence/next()``.
        public mutating func next() async throws -> [Item]? { try await base.next() }
    }

    /// An iterator over the batches (all iterators share the one walk).
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: self) }
}
