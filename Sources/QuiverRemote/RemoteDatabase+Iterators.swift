import Quiver

/// Iterators on a server, paged as pymilvus's `query_iterator` and `search_iterator` (version 1)
/// page them: a server keeps no cursor, so each batch is one `Query` or `Search` that starts past
/// the last row returned.
///
/// - A query iterator asks for the `batchSize` smallest keys above the last key returned, in key
///   order (`pk > last` `and` the filter, with `iterator` and `reduce_stop_for_best` set).
/// - A search iterator's first batch is a plain search; each next one a range search whose inner
///   bound (`range_filter`) takes in the last distance returned and whose outer bound (`radius`)
///   lets every farther row in, dropping the rows already returned at exactly that distance (as
///   the embedded `SearchIterator` does). Milvus documents `range_filter` as inclusive, but
///   milvus-lite 3.2.2 treats it as exclusive (pymilvus's own `search_iterator` loses rows tied
///   at a batch's last distance there), so the bound sent is the next float toward the query.
///
/// Neither is a snapshot: a row written or deleted during the walk may or may not be seen, as
/// with pymilvus. A server's range search uses its index, so a search iterator on an indexed
/// field is as exact as the server's range search.
extension RemoteDatabase {
    /// A query iterator paged with `pk > last` queries; see `VectorDatabase.queryIterator(_:_:)`.
    ///
    /// - Throws: `.invalidArgument` for a bad batch size, limit or output field (`count(*)`);
    ///   `.notFound` for a missing collection; the first page's errors (a bad filter, an unknown
    ///   partition) when the first batch is read.
    public func queryIterator(_ collection: String, _ request: QueryIteratorRequest) async throws -> BatchSequence<Row> {
        try request.validate()
        if request.outputFields?.contains(where: { $0.lowercased() == "count(*)" }) == true {
            throw QuiverError(.invalidArgument, "an iterator returns rows; count(*) is a query's")
        }
        let pk = try await schema(of: collection).primaryField
        let cursor = KeyCursor()
        return BatchSequence { [self] in
            try await cursor.next(limit: request.limit, batchSize: request.batchSize) { last, wanted in
                var filter = request.filter.trimmingCharacters(in: .whitespacesAndNewlines)
                if let last {
                    let bound = "\(pk.name) > \(try Self.keyLiteral(last, of: pk))"
                    filter = filter.isEmpty ? bound : "(\(filter)) and \(bound)"
                }
                let rows = try await query(collection, QueryRequest(
                    filter: filter, filterParams: request.filterParams, limit: wanted, outputFields: request.outputFields,
                    partitions: request.partitions), iterator: true)
                return (rows, rows.last?[pk.name])
            }
        }
    }

    /// A search iterator paged with range searches; see `VectorDatabase.searchIterator(_:_:)`.
    ///
    /// - Throws: `.invalidArgument` for a bad batch size or limit; `.notFound` for a missing
    ///   collection; the first batch's errors (dimension, field, filter) when it is read.
    public func searchIterator(_ collection: String, _ request: SearchIteratorRequest) async throws -> BatchSequence<Hit> {
        try request.validate()
        let metric = try await describeCollection(collection).metric
        let cursor = DistanceCursor()
        return BatchSequence { [self] in
            try await cursor.next(limit: request.limit, batchSize: request.batchSize) { last, tied, wanted in
                var options = SearchOptions()
                if let last {
                    // One float short of `last`, so `last` is inside whether the server's inner
                    // bound is inclusive (Milvus) or exclusive (milvus-lite 3.2.2's FLAT).
                    options.rangeFilter = metric.higherIsBetter ? last.nextUp : last.nextDown
                    options.radius = Self.openBound(metric)
                }
                let hits = try await search(collection, SearchRequest(
                    queries: .vectors([request.vector]), limit: min(maxTopK, wanted + tied), filter: request.filter,
                    filterParams: request.filterParams, outputFields: request.outputFields, annsField: request.annsField,
                    options: options, partitions: request.partitions))
                return hits.first ?? []
            }
        }
    }

    /// A range search's outer bound that keeps every row beyond the inner one: the largest float
    /// for L2's ascending distances, the smallest for IP's similarities, below −1 for COSINE's.
    static func openBound(_ metric: MetricType) -> Float {
        switch metric {
        case .ip: -.greatestFiniteMagnitude
        case .cosine: -2
        default: .greatestFiniteMagnitude
        }
    }
}

/// Where a remote query iterator is: the last key returned and how many rows so far.
private actor KeyCursor {
    private var last: Value?
    private var returned = 0
    private var done = false

    /// The next page from `fetch(last key, rows wanted)`, which answers the rows and their last key.
    func next(
        limit: Int?, batchSize: Int, fetch: @Sendable (Value?, Int) async throws -> (rows: [Row], last: Value?)
    ) async throws -> [Row]? {
        guard !done else { return nil }
        let wanted = min(batchSize, (limit ?? .max) - returned)
        guard wanted > 0 else { done = true; return nil }
        let (rows, key) = try await fetch(last, wanted)
        guard let key, !rows.isEmpty else { done = true; return nil }
        last = key
        returned += rows.count
        return rows
    }
}

/// Where a remote search iterator is: the last distance returned and the ids returned at it.
private actor DistanceCursor {
    private var last: Float?
    private var tied: Set<Value> = []
    private var returned = 0
    private var done = false

    /// The next batch from `fetch(last distance, ids tied at it, hits wanted)`, which answers hits
    /// best first from that distance on (the tied ones among them are dropped here).
    func next(
        limit: Int?, batchSize: Int, fetch: @Sendable (Float?, Int, Int) async throws -> [Hit]
    ) async throws -> [Hit]? {
        guard !done else { return nil }
        let wanted = min(batchSize, (limit ?? .max) - returned)
        guard wanted > 0 else { done = true; return nil }
        let hits = try await fetch(last, tied.count, wanted)
            .filter { !(last == $0.distance && tied.contains($0.id)) }
            .prefix(wanted)
        guard let tail = hits.last else { done = true; return nil }
        if tail.distance != last { tied = [] }
        last = tail.distance
        for hit in hits where hit.distance == tail.distance { tied.insert(hit.id) }
        returned += hits.count
        return Array(hits)
    }
}
