/// Vector indexes, with Milvus's names: `createIndex`, `dropIndex`, `listIndexes`, `describeIndex`.
///
/// ```swift
/// try db.createIndex(on: "docs", field: "vector", type: .hnsw, params: ["M": 16, "efConstruction": 200])
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
    /// - Throws: `.invalidArgument` for a parameter outside Milvus's documented range, an unknown
    ///   parameter or a metric that differs from the collection's; `.alreadyExists` when the field
    ///   has a different index; `.unsupported` for an approximate index on a non-float vector field.
    public func createIndex(
        on collection: String, field: String, type: IndexType, metric: MetricType? = nil, params: [String: Value] = [:]
    ) throws {
        let e = try engine(collection)
        let f = try vectorField(of: e.schema, named: field)
        try e.createIndex(field: f, type: type, metric: metric, params: params)
    }

    /// Defines an index by its Milvus type name (`"HNSW"`, `"IVF_FLAT"`, …).
    ///
    /// - Throws: `.invalidArgument` for an unknown type name, and as the typed overload.
    public func createIndex(
        on collection: String, field: String, typeName: String, metric: MetricType? = nil, params: [String: Value] = [:]
    ) throws {
        try createIndex(on: collection, field: field, type: IndexType(validating: typeName), metric: metric, params: params)
    }

    /// Removes the index of `field` and its files; searches of the field become exact.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func dropIndex(on collection: String, field: String) throws {
        try engine(collection).dropIndex(field: field)
    }

    /// The fields that have an index (an index is named after its field), sorted.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``.
    public func listIndexes(on collection: String) throws -> [String] {
        try engine(collection).indexDefinitions().map(\.field).sorted()
    }

    /// The type, metric, parameters and build progress of the index of `field`.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func describeIndex(on collection: String, field: String) throws -> IndexDescription {
        try engine(collection).describeIndex(field: field)
    }

    /// Blocks until the index builds scheduled so far in `collection` have finished.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``. A build that failed does not throw here; it is logged.
    public func waitForIndexBuilds(on collection: String) throws {
        try engine(collection).waitForIndexBuilds()
    }
}

// MARK: - async variants (see Database+Async.swift)

extension Database {
    /// Defines an index without blocking the caller's thread; see
    /// ``createIndex(on:field:type:metric:params:)-6c35l``.
    ///
    /// - Throws: as ``createIndex(on:field:type:metric:params:)-6c35l``.
    public func createIndex(
        on collection: String, field: String, type: IndexType, metric: MetricType? = nil, params: [String: Value] = [:]
    ) async throws {
        try await Self.offload { try self.createIndex(on: collection, field: field, type: type, metric: metric, params: params) }
    }

    /// Removes an index without blocking the caller's thread; see ``dropIndex(on:field:)-9osyn``.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func dropIndex(on collection: String, field: String) async throws {
        try await Self.offload { try self.dropIndex(on: collection, field: field) }
    }

    /// Describes an index without blocking the caller's thread; see ``describeIndex(on:field:)-9bpek``.
    ///
    /// - Throws: `.notFound` when the field has no index.
    public func describeIndex(on collection: String, field: String) async throws -> IndexDescription {
        try await Self.offload { try self.describeIndex(on: collection, field: field) }
    }

    /// Suspends (without blocking a cooperative thread) until the scheduled index builds have finished.
    ///
    /// - Throws: as ``waitForIndexBuilds(on:)-5r4c4``.
    public func waitForIndexBuilds(on collection: String) async throws {
        try await Self.offload { try self.waitForIndexBuilds(on: collection) }
    }
}
