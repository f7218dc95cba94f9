/// Vector indexes, with Milvus's names: `createIndex`, `dropIndex`, `listIndexes`, `describeIndex`.
///
/// ```swift
/// try db.createIndex("docs", field: "vector", type: .hnsw, params: ["M": 16, "efConstruction": 200])
/// var options = SearchOptions()
/// options.params = ["ef": 128]
/// let hits = try db.search("docs", vectors: [q], limit: 10, options: options)
/// ```
///
/// Indexes are built per sealed segment in the background (at `createIndex`, after each flush and
/// after compaction); a segment whose index is not ready yet, and the growing segment, are searched
/// exactly, so results are always complete. See ``IndexType`` for the parameters and defaults.
extension Database {
    /// Defines an index on a vector field and starts building it for the sealed segments.
    ///
    /// Creating the same index again is a no-op.
    /// - Parameters:
    ///   - collection: the collection's name.
    ///   - field: the vector field to index.
    ///   - type: the index type; see ``IndexType`` for each type's parameters and defaults.
    ///   - metric: must be the collection's metric when given.
    ///   - params: build parameters with Milvus's names (`M`, `efConstruction`, `nlist`);
    ///     a parameter not given takes its default.
    ///   - name: the index's name (Milvus's `index_name`), stored with it and reported by
    ///     `describeIndex`; the field's name when nil. Unique within the collection.
    /// - Throws: `.invalidArgument` for a parameter outside Milvus's documented range, an unknown
    ///   parameter, a metric that differs from the collection's or a malformed name; `.alreadyExists`
    ///   when the field has a different index (or the same one under another name) or another
    ///   field's index has this name; `.unsupported` for an approximate index on a non-float vector field.
    public func createIndex(
        _ collection: String, field: String, type: IndexType, metric: MetricType? = nil, params: [String: Value] = [:],
        name: String? = nil
    ) throws {
        try createIndex(collection, IndexRequest(field: field, type: type, metric: metric, params: params, name: name))
    }

    /// Defines the index an ``IndexRequest`` describes: the one implementation of `createIndex`,
    /// which the labelled calls and the `async` requirement of ``VectorDatabase`` come through.
    ///
    /// - Throws: `.invalidArgument` for a bad parameter, a metric other than the collection's or a
    ///   field that is not a vector field, or a malformed name; `.alreadyExists` when the field has
    ///   a different index (or the same one under another name) or another field's index has the
    ///   name; `.unsupported` for an approximate index on a non-float vector field; `.notFound`
    ///   when there is no such collection.
    public func createIndex(_ collection: String, _ request: IndexRequest) throws {
        try withEngine(collection, .manage) { e in
            let f = try vectorField(of: e.schema, named: request.field)
            try e.createIndex(field: f, type: request.type, metric: request.metric, params: request.params, name: request.name)
        }
    }

    /// Defines an index by its Milvus type name (`"HNSW"`, `"IVF_FLAT"`, …).
    ///
    /// - Throws: `.invalidArgument` for an unknown type name, and as the typed overload.
    public func createIndex(
        _ collection: String, field: String, typeName: String, metric: MetricType? = nil, params: [String: Value] = [:],
        name: String? = nil
    ) throws {
        try createIndex(collection, field: field, type: IndexType(validating: typeName), metric: metric, params: params, name: name)
    }

    /// Removes the index of `field` and its files; searches of the field become exact.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func dropIndex(_ collection: String, field: String) throws {
        try withEngine(collection, .manage) { try $0.dropIndex(field: field) }
    }

    /// The fields that have an index (one index per vector field), sorted.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``.
    public func listIndexes(_ collection: String) throws -> [String] {
        try withEngine(collection, .manage) { try $0.indexDefinitions().map(\.field).sorted() }
    }

    /// The type, metric, parameters and build progress of the index of `field`.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func describeIndex(_ collection: String, field: String) throws -> IndexDescription {
        try withEngine(collection, .manage) { try $0.describeIndex(field: field) }
    }

    /// Blocks until the index builds scheduled so far in `collection` have finished.
    ///
    /// A build waits for a background compaction due on its segment (it runs once on the
    /// compacted segment), so this also waits for the running and due compactions and the builds
    /// they lead to.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``. A build that failed does not throw here; it is logged.
    public func waitForIndexBuilds(_ collection: String) throws {
        // The wait runs outside `withEngine`, so a release does not wait for the builds to finish
        // (it cancels them, and this returns).
        try withEngine(collection, .manage) { $0 }.waitForIndexBuilds()
    }
}
