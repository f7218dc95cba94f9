/// A handle to one collection, for code that works with it repeatedly.
///
/// ```swift
/// let docs = try db.collection("docs")
/// _ = try docs.insert([["id": 1, "vector": .vector(v)]])
/// let hits = try docs.search([q], limit: 5)
/// ```
/// The handle holds the name, not a snapshot: after `renameCollection` it refers to whatever
/// collection then has the old name (or throws `.notFound`).
public struct CollectionHandle: Sendable {
    public let database: Database
    public let name: String

    public func insert(_ rows: [Row]) throws -> InsertResult { try database.insert(into: name, rows: rows) }
    public func upsert(_ rows: [Row]) throws -> UpsertResult { try database.upsert(into: name, rows: rows) }

    public func delete(ids: [Value]? = nil, filter: String? = nil, filterParams: [String: Value] = [:]) throws -> DeleteResult {
        try database.delete(from: name, ids: ids, filter: filter, filterParams: filterParams)
    }

    public func get(_ ids: [Value], outputFields: [String]? = nil) throws -> [Row] {
        try database.get(from: name, ids: ids, outputFields: outputFields)
    }

    public func query(
        filter: String = "", filterParams: [String: Value] = [:], ids: [Value]? = nil, limit: Int? = nil, offset: Int = 0,
        outputFields: [String]? = nil
    ) throws -> [Row] {
        try database.query(from: name, filter: filter, filterParams: filterParams, ids: ids, limit: limit, offset: offset, outputFields: outputFields)
    }

    public func search(
        _ vectors: [[Float]], limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, options: SearchOptions = SearchOptions()
    ) throws -> [[Hit]] {
        try database.search(name, vectors: vectors, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                            outputFields: outputFields, annsField: annsField, options: options)
    }

    public func flush() throws { try database.flush(name) }
    @discardableResult public func compact() throws -> Bool { try database.compact(name) }
    public func stats() throws -> CollectionStats { try database.collectionStats(name) }
    public func describe() throws -> CollectionDescription { try database.describeCollection(name) }

    public func insert(_ rows: [Row]) async throws -> InsertResult { try await database.insert(into: name, rows: rows) }
    public func upsert(_ rows: [Row]) async throws -> UpsertResult { try await database.upsert(into: name, rows: rows) }

    public func search(
        _ vectors: [[Float]], limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, options: SearchOptions = SearchOptions()
    ) async throws -> [[Hit]] {
        try await database.search(name, vectors: vectors, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                                  outputFields: outputFields, annsField: annsField, options: options)
    }

    public func query(
        filter: String = "", filterParams: [String: Value] = [:], ids: [Value]? = nil, limit: Int? = nil, offset: Int = 0,
        outputFields: [String]? = nil
    ) async throws -> [Row] {
        try await database.query(from: name, filter: filter, filterParams: filterParams, ids: ids, limit: limit, offset: offset, outputFields: outputFields)
    }
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
