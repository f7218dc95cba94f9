/// A handle to one collection, for code that works with it repeatedly.
///
/// ```swift
/// let docs = try db.collection("docs")
/// _ = try docs.insert([["id": 1, "vector": .vector(v)]])
/// let hits = try docs.search([q], limit: 5)
/// ```
/// The handle holds the name, not a snapshot: after `renameCollection` it refers to whatever
/// collection then has the old name (or throws `.notFound`).
///
/// Each method calls the ``Database`` method of the same name with ``name`` as the collection;
/// see there for the parameters, results and errors.
public struct CollectionHandle: Sendable {
    /// The database the collection is in.
    public let database: Database
    /// The collection's name.
    public let name: String

    /// Inserts rows; see ``Database/insert(into:rows:)-el0a``.
    ///
    /// - Throws: as ``Database/insert(into:rows:)-el0a``; nothing is applied on an error.
    public func insert(_ rows: [Row]) throws -> InsertResult { try database.insert(into: name, rows: rows) }
    /// Inserts rows, replacing live rows with the same primary key; see ``Database/upsert(into:rows:)-94l09``.
    ///
    /// - Throws: as ``Database/upsert(into:rows:)-94l09``; nothing is applied on an error.
    public func upsert(_ rows: [Row]) throws -> UpsertResult { try database.upsert(into: name, rows: rows) }

    /// Deletes rows by primary key and/or filter; see ``Database/delete(from:ids:filter:filterParams:)-5zcp4``.
    ///
    /// - Throws: `.invalidArgument` when neither `ids` nor a filter is given, `.filterSyntax`.
    public func delete(ids: [Value]? = nil, filter: String? = nil, filterParams: [String: Value] = [:]) throws -> DeleteResult {
        try database.delete(from: name, ids: ids, filter: filter, filterParams: filterParams)
    }

    /// The rows with the given primary keys, in that order (missing keys are skipped); see
    /// ``Database/get(from:ids:outputFields:filter:filterParams:)``.
    ///
    /// - Throws: `.invalidArgument` for a key of the wrong type or an unknown output field.
    public func get(_ ids: [Value], outputFields: [String]? = nil) throws -> [Row] {
        try database.get(from: name, ids: ids, outputFields: outputFields)
    }

    /// Rows by primary keys and/or a filter, with paging; see
    /// ``Database/query(from:filter:filterParams:ids:limit:offset:outputFields:)-5r0ei``.
    ///
    /// - Throws: `.invalidArgument` when there is no filter, no ids and no limit, `.filterSyntax`.
    public func query(
        filter: String = "", filterParams: [String: Value] = [:], ids: [Value]? = nil, limit: Int? = nil, offset: Int = 0,
        outputFields: [String]? = nil
    ) throws -> [Row] {
        try database.query(from: name, filter: filter, filterParams: filterParams, ids: ids, limit: limit, offset: offset, outputFields: outputFields)
    }

    /// For each query vector, the `limit` closest live rows; see
    /// ``Database/search(_:vectors:limit:offset:filter:filterParams:outputFields:annsField:metric:options:)-2njz7``.
    ///
    /// - Throws: `.dimensionMismatch`, `.invalidArgument`, `.filterSyntax`.
    public func search(
        _ vectors: [[Float]], limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, options: SearchOptions = SearchOptions()
    ) throws -> [[Hit]] {
        try database.search(name, vectors: vectors, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                            outputFields: outputFields, annsField: annsField, options: options)
    }

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

    /// Inserts rows without blocking the caller's thread; see ``insert(_:)-24ty3``.
    ///
    /// - Throws: as ``insert(_:)-24ty3``.
    public func insert(_ rows: [Row]) async throws -> InsertResult { try await database.insert(into: name, rows: rows) }
    /// Upserts rows without blocking the caller's thread; see ``upsert(_:)-4tkj5``.
    ///
    /// - Throws: as ``upsert(_:)-4tkj5``.
    public func upsert(_ rows: [Row]) async throws -> UpsertResult { try await database.upsert(into: name, rows: rows) }

    /// Searches without blocking the caller's thread; see
    /// ``search(_:limit:offset:filter:filterParams:outputFields:annsField:options:)-3u2id``.
    ///
    /// - Throws: as the synchronous search.
    public func search(
        _ vectors: [[Float]], limit: Int = 10, offset: Int = 0, filter: String = "", filterParams: [String: Value] = [:],
        outputFields: [String]? = nil, annsField: String? = nil, options: SearchOptions = SearchOptions()
    ) async throws -> [[Hit]] {
        try await database.search(name, vectors: vectors, limit: limit, offset: offset, filter: filter, filterParams: filterParams,
                                  outputFields: outputFields, annsField: annsField, options: options)
    }

    /// Queries without blocking the caller's thread; see
    /// ``query(filter:filterParams:ids:limit:offset:outputFields:)-3rc90``.
    ///
    /// - Throws: as the synchronous query.
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
