import Foundation

/// The largest `limit + offset` of a search or query, as in Milvus.
public let maxTopK = 16_384

/// Inserting, upserting, deleting and reading rows.
extension Database {
    /// Inserts rows. Every row is validated before anything is written; the call is atomic.
    ///
    /// ```swift
    /// let result = try db.insert("docs", rows: [["id": 1, "vector": .vector(v), "text": "hi"]])
    /// try db.insert("docs", rows: [["id": 2, "vector": .vector(w)]], partition: "2024")
    /// ```
    /// - Parameters:
    ///   - collection: the collection's name.
    ///   - rows: the rows.
    ///   - partition: the partition the rows go to; `nil` (the default) for `_default`. A
    ///     collection with a partition key takes none: each row goes to its key's partition.
    ///     Primary keys are unique in the whole collection, across partitions.
    /// - Throws: `.alreadyExists` naming a primary key that is taken; `.dimensionMismatch`;
    ///   `.invalidArgument` naming the row and field for any other bad value, or for a partition
    ///   given to a collection with a partition key; `.notFound` for an unknown partition.
    ///   Nothing is applied.
    public func insert(_ collection: String, rows: [Row], partition: String? = nil) throws -> InsertResult {
        let ids = try withEngine(collection, .manage) { try $0.write(rows, upsert: false, partition: partition) }
        return InsertResult(insertCount: ids.count, ids: ids)
    }

    /// Inserts rows, replacing any live row with the same primary key (in whichever partition it
    /// is: the new row goes to `partition`). Atomic like `insert`.
    ///
    /// - Throws: `.dimensionMismatch`; `.invalidArgument` naming the row and field for a bad
    ///   value (an `autoID` collection included: upserted rows must carry their keys), or for a
    ///   partition given to a collection with a partition key; `.notFound` for an unknown
    ///   partition. Nothing is applied.
    public func upsert(_ collection: String, rows: [Row], partition: String? = nil) throws -> UpsertResult {
        let ids = try withEngine(collection, .manage) { try $0.write(rows, upsert: true, partition: partition) }
        return UpsertResult(upsertCount: ids.count, ids: ids)
    }

    /// Inserts rows given column by column (``ColumnBatch``): a typed array per field, a vector
    /// field as one contiguous `n × dimension` array, no ``Value`` per cell. Validated and
    /// applied exactly as `insert(_:rows:partition:)` would the same rows: all or nothing, logged
    /// to the WAL as one record (durable per ``DatabaseOptions/durability``).
    ///
    /// ```swift
    /// try db.insert("docs", columns: ColumnBatch([
    ///     "id": .int64(ids), "vector": .floatVectors(flat, dimension: 128), "text": .strings(texts),
    /// ]))
    /// ```
    /// - Parameters:
    ///   - collection: the collection's name.
    ///   - columns: the rows, one column per field.
    ///   - partition: the partition the rows go to, as for `insert(_:rows:partition:)`.
    /// - Throws: `.alreadyExists` naming a primary key that is taken; `.dimensionMismatch`;
    ///   `.invalidArgument` for columns of different lengths, a vector column that is not whole
    ///   vectors, or naming the row and field of any bad value, or for a partition given to a
    ///   collection with a partition key; `.notFound` for an unknown partition. Nothing is applied.
    /// - Complexity: O(cells) checks and copies; columns of the fields' own types are not boxed.
    public func insert(_ collection: String, columns: ColumnBatch, partition: String? = nil) throws -> InsertResult {
        let ids = try withEngine(collection, .manage) { try $0.write(columns, upsert: false, partition: partition) }
        return InsertResult(insertCount: ids.count, ids: ids)
    }

    /// Upserts rows given column by column: `insert(_:columns:partition:)` that replaces any live
    /// row with the same primary key (in whichever partition it is: the new row goes to
    /// `partition`). Atomic like `insert`.
    ///
    /// - Throws: as `insert(_:columns:partition:)`, but no `.alreadyExists`; an `autoID`
    ///   collection's upserted rows must carry their keys. Nothing is applied.
    public func upsert(_ collection: String, columns: ColumnBatch, partition: String? = nil) throws -> UpsertResult {
        let ids = try withEngine(collection, .manage) { try $0.write(columns, upsert: true, partition: partition) }
        return UpsertResult(upsertCount: ids.count, ids: ids)
    }

    /// Deletes rows by primary key and/or filter.
    ///
    /// ```swift
    /// try db.delete("docs", ids: [1, 2])
    /// try db.delete("docs", filter: "lang == {lang}", filterParams: ["lang": "fr"])
    /// ```
    /// - Parameters:
    ///   - collection: the collection's name.
    ///   - ids: primary keys to delete; with a filter, only those of them that match it.
    ///   - filter: a filter expression; the rows it matches are deleted. Empty (the default) for none.
    ///   - filterParams: values for the filter's `{name}` templates.
    ///   - partitions: delete only rows of these partitions; empty (the default) for all.
    /// - Returns: the number of live rows deleted.
    /// - Throws: `.invalidArgument` when neither `ids` nor a filter is given; `.filterSyntax`;
    ///   `.notFound` for an unknown partition.
    public func delete(
        _ collection: String, ids: [Value]? = nil, filter: String = "", filterParams: [String: Value] = [:],
        partitions: [String] = []
    ) throws -> DeleteResult {
        try delete(collection, DeleteRequest(ids: ids, filter: filter, filterParams: filterParams, partitions: partitions))
    }

    /// Deletes the rows a ``DeleteRequest`` names: the one implementation of delete, which the
    /// labelled call and the `async` requirement of ``VectorDatabase`` come through.
    ///
    /// - Throws: `.invalidArgument` when the request has neither ids nor a filter, a key of the
    ///   wrong type, or partitions given to a collection with a partition key; `.filterSyntax`;
    ///   `.notFound` when there is no such collection or partition.
    public func delete(_ collection: String, _ request: DeleteRequest) throws -> DeleteResult {
        try withEngine(collection, .manage) { try delete(engine: $0, request) }
    }

    private func delete(engine e: CollectionEngine, _ request: DeleteRequest) throws -> DeleteResult {
        let keys = try request.ids.map { try $0.map { try PrimaryKey.from($0, field: e.schema.primaryField) } }
        var expression: FilterExpression? = nil
        if !request.filter.allSatisfy(\.isWhitespace) {
            expression = try FilterExpression.compile(request.filter, params: request.filterParams, schema: e.schema)
        }
        guard keys != nil || expression != nil else { throw QuiverError.invalidArgument("delete needs ids or a filter expression") }
        return DeleteResult(deleteCount: try e.delete(keys: keys, filter: expression, partitions: request.partitions))
    }

    /// The rows with the given primary keys, in that order (missing keys are skipped).
    ///
    /// - Parameters:
    ///   - collection: the collection's name.
    ///   - ids: the primary keys, `.int` or `.string` as the primary-key field is.
    ///   - outputFields: fields to return besides the primary key; `["*"]` for all; `nil` (the
    ///     default) for the primary key only.
    ///   - filter: when given, only the rows that also match it.
    ///   - filterParams: values for the filter's `{name}` templates.
    ///   - partitions: only rows of these partitions; empty (the default) for all.
    /// - Throws: `.invalidArgument` for a key of the wrong type or an unknown output field;
    ///   `.filterSyntax` for a bad filter; `.notFound` for an unknown partition.
    public func get(
        _ collection: String, ids: [Value], outputFields: [String]? = nil, filter: String = "",
        filterParams: [String: Value] = [:], partitions: [String] = []
    ) throws -> [Row] {
        try query(collection, QueryRequest(
            filter: filter, filterParams: filterParams, ids: ids, outputFields: outputFields, partitions: partitions))
    }

    /// Rows by primary keys and/or a filter, with paging. `outputFields: ["count(*)"]` returns
    /// `[["count(*)": n]]`.
    ///
    /// `partitions` restricts it to rows of those partitions (empty, the default, for all).
    ///
    /// - Throws: `.invalidArgument` when there is no filter, no ids and no limit (as the Milvus
    ///   server does), or when `limit + offset` exceeds 16384; `.notFound` for an unknown partition.
    public func query(
        _ collection: String, filter: String = "", filterParams: [String: Value] = [:], ids: [Value]? = nil,
        limit: Int? = nil, offset: Int = 0, outputFields: [String]? = nil, partitions: [String] = []
    ) throws -> [Row] {
        try query(collection, QueryRequest(
            filter: filter, filterParams: filterParams, ids: ids, limit: limit, offset: offset, outputFields: outputFields,
            partitions: partitions))
    }

    /// Reads the rows a ``QueryRequest`` names: the one implementation of `query` and `get`, which
    /// the labelled calls and the `async` requirement of ``VectorDatabase`` come through.
    ///
    /// - Throws: `.invalidArgument` when there is no filter, no ids and no limit, for bad paging, a
    ///   key of the wrong type, an unknown output field, or partitions given to a collection with a
    ///   partition key; `.filterSyntax`; `.notFound` when there is no such collection or partition;
    ///   `.notLoaded` after `releaseCollection(_:)`.
    public func query(_ collection: String, _ request: QueryRequest) throws -> [Row] {
        try withEngine(collection, .read) { try query(engine: $0, request) }
    }

    private func query(engine e: CollectionEngine, _ request: QueryRequest) throws -> [Row] {
        let expression = try FilterExpression.compile(request.filter, params: request.filterParams, schema: e.schema)
        let scope = try e.scope(request.partitions, filter: expression)
        try Self.checkPaging(limit: request.limit, offset: request.offset)
        let keys = try request.ids.map { try $0.map { try PrimaryKey.from($0, field: e.schema.primaryField) } }
        if request.outputFields == ["count(*)"] {
            if let keys {
                let fields = try OutputFields.resolve([], schema: e.schema, includePrimaryKey: true)
                return [["count(*)": .int(Int64(try e.get(keys: keys, fields: fields, filter: expression, scope: scope).count))]]
            }
            return [["count(*)": .int(Int64(try e.count(filter: expression, scope: scope)))]]
        }
        if request.outputFields?.contains("count(*)") == true {
            throw QuiverError.invalidArgument("count(*) cannot be combined with other output fields")
        }
        let fields = try OutputFields.resolve(request.outputFields, schema: e.schema, includePrimaryKey: true)
        if let keys {
            let rows = try e.get(keys: keys, fields: fields, filter: expression, scope: scope)
            return Array(rows.dropFirst(request.offset).prefix(request.limit ?? Int.max))
        }
        guard request.limit != nil || !expression.matchesAll else {
            throw QuiverError.invalidArgument("query needs a filter, ids or a limit; an empty filter with no limit would return the whole collection")
        }
        return try e.query(filter: expression, limit: request.limit, offset: request.offset, fields: fields, scope: scope)
    }

    /// Nearest-neighbour search: for each query vector, the `limit` closest live rows (exact
    /// unless the field has an approximate index; see <doc:Indexes>).
    ///
    /// Distances follow Milvus: L2 is the squared distance (ascending); IP and COSINE are
    /// similarities (descending). A filter is applied before ranking, so `limit` results come
    /// back whenever at least that many rows match. Range search, grouping and rounding are in
    /// `options`.
    ///
    /// ```swift
    /// let hits = try db.search("docs", vectors: [q], limit: 3, filter: "lang == 'en'", outputFields: ["text"])
    /// ```
    /// - Parameters:
    ///   - collection: the collection's name.
    ///   - vectors: the query vectors, each with the field's dimension.
    ///   - limit: results per query, 1 or more; `limit + offset` at most ``maxTopK``.
    ///   - offset: results to skip before the first one returned (paging).
    ///   - filter: a filter expression the rows must match; empty (the default) for all rows.
    ///   - filterParams: values for the filter's `{name}` templates.
    ///   - outputFields: fields to return in ``Hit/entity``; `nil` (the default) for none.
    ///   - annsField: the vector field to search (needed when the schema has several).
    ///   - metric: when given, must equal the collection's metric.
    ///   - options: range search, grouping, rounding, threads and index parameters.
    ///   - partitions: search only these partitions; empty (the default) for all. With a
    ///     partition key, give none: a filter on the key (`key == v`, `key in [...]`) reads only
    ///     the partitions of its values.
    /// - Throws: `.dimensionMismatch`, `.invalidArgument` (NaN, limit out of range, unknown field,
    ///   bad options, partitions given to a collection with a partition key), `.filterSyntax`,
    ///   `.notFound` for an unknown partition.
    /// - Complexity: O(queries × rows × dimension).
    public func search(
        _ collection: String, vectors: [[Float]], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) throws -> [[Hit]] {
        try search(collection, SearchRequest(
            queries: .vectors(vectors), limit: limit, offset: offset, filter: filter, filterParams: filterParams,
            outputFields: outputFields, annsField: annsField, metric: metric, options: options, partitions: partitions))
    }

    /// Searches a sparse vector field by inner product (the only metric of sparse fields), best
    /// first; rows that share no index with the query (score 0) are not matches.
    ///
    /// ```swift
    /// var options = SearchOptions()
    /// options.params = ["drop_ratio_search": 0.2]   // ignore each query's smallest 20% of weights
    /// let hits = try db.search("docs", sparseVectors: [try SparseVector([3: 0.5, 17: 1.2])], limit: 10,
    ///                          annsField: "sparse", options: options)
    /// ```
    /// A sealed segment with a ready `SPARSE_INVERTED_INDEX` is searched through it (MaxScore),
    /// the others exactly; both give the same scores, so the results are exact either way.
    ///
    /// - Throws: `.invalidArgument` when the field is not sparse, for a metric other than IP, or
    ///   as `search(_:vectors:…)`.
    /// - Complexity: O(queries × stored pairs) without an index.
    public func search(
        _ collection: String, sparseVectors: [SparseVector], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) throws -> [[Hit]] {
        try search(collection, SearchRequest(
            queries: .sparseVectors(sparseVectors), limit: limit, offset: offset, filter: filter, filterParams: filterParams,
            outputFields: outputFields, annsField: annsField, metric: metric, options: options, partitions: partitions))
    }

    /// Full-text search: ranks rows by BM25 against each query text, best first (positive
    /// scores, higher is better; rows sharing no term with a text are not matches). The field is
    /// a BM25 function's output (see <doc:FullTextSearch>); each text is analyzed with the
    /// function's input field's analyzer.
    ///
    /// ```swift
    /// let hits = try db.search("docs", texts: ["how are segments flushed"], limit: 5, outputFields: ["text"],
    ///                          annsField: "sparse")
    /// ```
    /// Document frequencies and the average length are those of the whole collection's live rows,
    /// whatever the filter and partitions, so scores do not change when segments are flushed or
    /// compacted. `k1` and `b` are the field's index parameters `bm25_k1` and `bm25_b` (1.2 and
    /// 0.75 without an index).
    ///
    /// - Throws: `.invalidArgument` when the field is not a BM25 function's output, and as
    ///   `search(_:vectors:…)`; `.unsupported` for range search.
    /// - Complexity: O(postings of the query's terms) per text, after a sealed segment's first
    ///   BM25 search (which inverts its output column: O(stored pairs)).
    public func search(
        _ collection: String, texts: [String], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) throws -> [[Hit]] {
        try search(collection, SearchRequest(
            queries: .texts(texts), limit: limit, offset: offset, filter: filter, filterParams: filterParams,
            outputFields: outputFields, annsField: annsField, options: options, partitions: partitions))
    }

    /// Searches a binary vector field (HAMMING or JACCARD) with query bit vectors of `dimension / 8` bytes.
    ///
    /// - Throws: `.dimensionMismatch` for a query of the wrong length; otherwise as `search(_:vectors:…)`.
    public func search(
        _ collection: String, binaryVectors: [[UInt8]], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) throws -> [[Hit]] {
        try search(collection, SearchRequest(
            queries: .binaryVectors(binaryVectors), limit: limit, offset: offset, filter: filter,
            filterParams: filterParams, outputFields: outputFields, annsField: annsField, metric: metric, options: options,
            partitions: partitions))
    }

    /// Searches with the stored vectors of the rows `ids` as queries (one result list per id).
    ///
    /// - Throws: `.notFound` naming an id that has no live row; otherwise as `search(_:vectors:…)`.
    public func search(
        _ collection: String, ids: [Value], limit: Int = 10, offset: Int = 0, filter: String = "",
        filterParams: [String: Value] = [:], outputFields: [String]? = nil, annsField: String? = nil,
        metric: MetricType? = nil, options: SearchOptions = SearchOptions(), partitions: [String] = []
    ) throws -> [[Hit]] {
        try search(collection, SearchRequest(
            queries: .ids(ids), limit: limit, offset: offset, filter: filter, filterParams: filterParams,
            outputFields: outputFields, annsField: annsField, metric: metric, options: options, partitions: partitions))
    }

    /// Runs the search a ``SearchRequest`` describes: the one implementation of search (float,
    /// binary and by-id queries), which the labelled calls and the `async` requirement of
    /// ``VectorDatabase`` come through.
    ///
    /// - Throws: `.dimensionMismatch` for a query of the wrong length; `.invalidArgument` (NaN,
    ///   limit out of range, unknown field, a float query on a binary field or the reverse, a
    ///   metric other than the collection's, bad options, partitions given to a collection with a
    ///   partition key); `.filterSyntax`; `.notFound` for a missing collection or partition, or an
    ///   id that has no live row (in any partition: the query vectors of `.ids` are read from the
    ///   whole collection).
    /// - Complexity: O(queries × rows × dimension) without an approximate index.
    public func search(_ collection: String, _ request: SearchRequest) throws -> [[Hit]] {
        try withEngine(collection, .read) { e in try e.search(checkedSearch(e, request)) }
    }

    /// A ``SearchRequest`` checked and resolved against the collection's schema, for its engine
    /// `e`: every check of ``search(_:_:)`` (a search iterator's too).
    func checkedSearch(_ e: CollectionEngine, _ request: SearchRequest) throws -> CollectionEngine.SearchRequest {
        // Texts go to the BM25 field when the schema has one and none is named.
        let textField: String? = if case .texts = request.queries, request.annsField == nil {
            e.schema.functions.first { $0.type == .bm25 }?.outputFieldNames.first
        } else { nil }
        let field = try vectorField(of: e.schema, named: request.annsField ?? textField)
        let queries: QueryVectors
        let bm25 = e.schema.bm25(output: field.name)
        switch request.queries {
        case .texts(let texts):
            guard bm25 != nil else {
                throw QuiverError.invalidArgument("'\(field.name)' is not the output of a BM25 function; only such a field is searched with texts:")
            }
            guard request.options.radius == nil, request.options.rangeFilter == nil else {
                throw QuiverError(.unsupported, "range search (radius, range_filter) is not supported on BM25 field '\(field.name)'")
            }
            queries = .texts(texts)
        case _ where bm25 != nil:
            throw QuiverError.invalidArgument("'\(field.name)' is the output of BM25 function '\(bm25!.function.name)'; search it with texts:")
        case .sparseVectors(let vectors):
            guard field.dataType.isSparseVector else {
                throw QuiverError.invalidArgument("'\(field.name)' is not a sparse vector field; search it with vectors:")
            }
            queries = .sparse(vectors)
        case _ where field.dataType.isSparseVector:
            guard case .ids(let ids) = request.queries else {
                throw QuiverError.invalidArgument("'\(field.name)' is a sparse vector field; search it with sparseVectors:")
            }
            queries = try storedVectors(e, ids: ids, field: field)
        case .vectors(let vectors):
            guard !field.dataType.isBinaryVector else {
                throw QuiverError.invalidArgument("'\(field.name)' is a binary vector field; search it with binaryVectors:")
            }
            let d = field.dataType.dimension!
            for (i, v) in vectors.enumerated() {
                guard v.count == d else {
                    throw QuiverError(.dimensionMismatch, "query vector \(i) has \(v.count) dimensions, field '\(field.name)' has \(d)")
                }
                guard v.allSatisfy(\.isFinite) else {
                    throw QuiverError.invalidArgument("query vector \(i) has a NaN or infinite component")
                }
            }
            queries = .floats(vectors)
        case .binaryVectors(let vectors):
            guard field.dataType.isBinaryVector else {
                throw QuiverError.invalidArgument("'\(field.name)' is not a binary vector field; search it with vectors:")
            }
            let bytes = field.dataType.vectorRowBytes
            for (i, v) in vectors.enumerated() where v.count != bytes {
                throw QuiverError(.dimensionMismatch, "query vector \(i) has \(v.count * 8) bits, field '\(field.name)' has \(bytes * 8)")
            }
            queries = .bytes(vectors)
        case .ids(let ids):
            queries = try storedVectors(e, ids: ids, field: field)
        }
        // A sparse field is compared with IP whatever the collection's metric.
        let metric = e.metric(searching: field)
        if let requested = request.metric, requested != metric {
            throw QuiverError.invalidArgument(field.dataType.isSparseVector
                ? "sparse vector field '\(field.name)' is searched with IP only, not \(requested.rawValue)"
                : "metric \(requested.rawValue) differs from the collection's \(metric.rawValue)")
        }
        let (limit, offset, options) = (request.limit, request.offset, request.options)
        try Self.checkPaging(limit: limit, offset: offset)
        let groupField = try options.validate(metric: metric, schema: e.schema, limit: limit, offset: offset)
        let expression = try FilterExpression.compile(request.filter, params: request.filterParams, schema: e.schema)
        let scope = try e.scope(request.partitions, filter: expression)
        let fields = try OutputFields.resolve(request.outputFields, schema: e.schema, includePrimaryKey: false)
        return try .init(
            queries: queries, field: field, limit: limit, offset: offset, filter: expression, scope: scope, fields: fields,
            threads: options.threads ?? max(1, self.options.searchThreads), radius: options.radius,
            rangeFilter: options.rangeFilter, groupBy: groupField, groupSize: options.groupSize,
            roundDecimal: options.roundDecimal, indexParams: IndexSearchParams(options.params, limit: limit))
    }

    /// The stored vectors of field `field` of the rows `ids`, in that order, as search queries.
    private func storedVectors(_ e: CollectionEngine, ids: [Value], field: FieldSchema) throws -> QueryVectors {
        let pk = e.schema.primaryField
        let keys = try ids.map { try PrimaryKey.from($0, field: pk) }
        let fields = try OutputFields.resolve([field.name], schema: e.schema, includePrimaryKey: true)
        var found = [PrimaryKey: Value]()
        for row in try e.get(keys: keys, fields: fields, filter: nil) {
            found[try PrimaryKey.from(row[pk.name]!, field: pk)] = row[field.name]
        }
        let values = try keys.map { key in
            guard let v = found[key] else { throw QuiverError.notFound("no live row has primary key \(key)") }
            return v
        }
        if field.dataType.isSparseVector { return .sparse(values.map { if case .sparse(let v) = $0 { v } else { SparseVector() } }) }
        return field.dataType.isBinaryVector
            ? .bytes(values.map { if case .bytes(let b) = $0 { b } else { [] } })
            : .floats(values.map { $0.floatVector ?? [] })
    }

    /// Checks the paging of a search or query — every entry point (sync, async, handles, the CLI)
    /// comes through here: `limit`, when given, at least 1; `offset` not negative; and
    /// `limit + offset` at most ``maxTopK``, compared without overflow (an `offset` of `Int.max`
    /// is refused like any other).
    ///
    /// - Throws: `.invalidArgument` naming the value.
    static func checkPaging(limit: Int?, offset: Int) throws {
        guard offset >= 0 else { throw QuiverError.invalidArgument("offset must not be negative, got \(offset)") }
        guard let limit else { return }
        guard limit >= 1 else { throw QuiverError.invalidArgument("limit must be at least 1, got \(limit)") }
        guard limit <= maxTopK, offset <= maxTopK - limit else {
            throw QuiverError.invalidArgument("limit + offset must be at most \(maxTopK), got limit \(limit) and offset \(offset)")
        }
    }

    func vectorField(of schema: CollectionSchema, named name: String?) throws -> FieldSchema {
        if let name {
            guard let f = schema.field(named: name), f.dataType.isSearchable else {
                throw QuiverError.invalidArgument("'\(name)' is not a vector field of the collection")
            }
            return f
        }
        let vectors = schema.searchableFields
        guard vectors.count == 1 else {
            throw QuiverError.invalidArgument("the collection has several vector fields; name one with annsField")
        }
        return vectors[0]
    }
}

// MARK: - Codable rows

extension Database {
    /// Inserts `Encodable` values as rows (their coding keys are the field names).
    ///
    /// ```swift
    /// struct Doc: Codable { var id: Int; var vector: [Float]; var text: String }
    /// try db.insert("docs", objects: [Doc(id: 1, vector: v, text: "hi")])
    /// ```
    /// - Throws: `.invalidArgument` when a value does not encode to a keyed object; otherwise as
    ///   `insert(_:rows:partition:)`.
    public func insert<T: Encodable>(_ collection: String, objects: [T]) throws -> InsertResult {
        try insert(collection, rows: objects.map { try Self.row(from: $0) })
    }

    /// Upserts `Encodable` values as rows.
    ///
    /// - Throws: `.invalidArgument` when a value does not encode to a keyed object; otherwise as
    ///   `upsert(_:rows:partition:)`.
    public func upsert<T: Encodable>(_ collection: String, objects: [T]) throws -> UpsertResult {
        try upsert(collection, rows: objects.map { try Self.row(from: $0) })
    }

    /// The rows with the given keys decoded as `T` (all fields are read).
    ///
    /// - Throws: `.invalidArgument` when a row does not decode as `T`; otherwise as
    ///   ``get(_:ids:outputFields:filter:filterParams:partitions:)``.
    public func get<T: Decodable>(_ collection: String, ids: [Value], as type: T.Type) throws -> [T] {
        try get(collection, ids: ids, outputFields: ["*"]).map { try Self.decode(T.self, from: $0) }
    }

    static func row<T: Encodable>(from object: T) throws -> Row {
        let data: Data
        do { data = try JSONEncoder().encode(object) } catch {
            throw QuiverError(.invalidArgument, "could not encode \(T.self) as a row: \(error)")
        }
        guard case .object(let row) = try Value(jsonData: data) else {
            throw QuiverError.invalidArgument("\(T.self) does not encode to a keyed object")
        }
        return row
    }

    static func decode<T: Decodable>(_ type: T.Type, from row: Row) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(row.jsonString.utf8)) } catch {
            throw QuiverError(.invalidArgument, "could not decode a row as \(T.self): \(error)")
        }
    }
}
