import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Rows: insert and upsert (validated first, split under the message limit), delete, query.
extension RemoteDatabase {
    /// Inserts rows (`Insert`), in as many requests as the message limit needs.
    ///
    /// Every row is checked against the schema before the first request. When a later request
    /// of a split insert fails, the rows the earlier ones inserted are deleted again, so the
    /// insert stays all or nothing; the error says so, or names the keys left when that delete
    /// fails too. Never retried (see ``RetryPolicy``).
    ///
    /// - Throws: `.dimensionMismatch`, `.invalidArgument` (as the embedded engine, before
    ///   anything is sent); `.alreadyExists` when the server rejects an existing key (`quiver
    ///   serve` does; Milvus does not deduplicate keys); `.resourceExhausted` for one row over
    ///   the message limit.
    public func insert(_ collection: String, rows: [Row], partition: String?) async throws -> InsertResult {
        let ids = try await write(collection, rows: rows, upsert: false, partition: partition)
        return InsertResult(insertCount: ids.count, ids: ids)
    }

    /// Upserts rows (`Upsert`), in as many requests as the message limit needs; retried on
    /// unavailability (writing the same rows again leaves the same rows).
    ///
    /// A split upsert that fails part way leaves the earlier requests' rows written (an upsert
    /// cannot be undone without the rows it replaced); the error says how many.
    ///
    /// - Throws: `.dimensionMismatch`, `.invalidArgument` before anything is sent.
    public func upsert(_ collection: String, rows: [Row], partition: String?) async throws -> UpsertResult {
        let ids = try await write(collection, rows: rows, upsert: true, partition: partition)
        return UpsertResult(upsertCount: ids.count, ids: ids)
    }

    /// Inserts rows given column by column: the rows of `columns` (`ColumnBatch.rows()`),
    /// inserted into `partition` as `insert(_:rows:partition:)` inserts rows.
    ///
    /// - Throws: as `insert(_:rows:partition:)`, and `.invalidArgument` for columns of different lengths.
    public func insert(_ collection: String, columns: ColumnBatch, partition: String?) async throws -> InsertResult {
        try await insert(collection, rows: try columns.rows(), partition: partition)
    }

    /// Upserts rows given column by column: the rows of `columns`, upserted into `partition` as
    /// `upsert(_:rows:partition:)`.
    ///
    /// - Throws: as `upsert(_:rows:partition:)`, and `.invalidArgument` for columns of different lengths.
    public func upsert(_ collection: String, columns: ColumnBatch, partition: String?) async throws -> UpsertResult {
        try await upsert(collection, rows: try columns.rows(), partition: partition)
    }

    private func write(_ collection: String, rows: [Row], upsert: Bool, partition: String?) async throws -> [Value] {
        let schema = try await schema(of: collection)
        let stored = try schema.validatedRows(rows, upsert: upsert)
        guard !stored.isEmpty else { return [] }
        let limit = connection.options.maxMessageBytes
        var ids = [Value]()
        ids.reserveCapacity(stored.count)
        for range in try Self.batches(stored, limit: limit) {
            let columns = FieldConversion.requestColumns(of: Array(stored[range]), schema: schema, upsert: upsert)
            do {
                let response: Milvus_Proto_Milvus_MutationResult
                if upsert {
                    var request = Milvus_Proto_Milvus_UpsertRequest()
                    request.dbName = databaseName
                    request.collectionName = collection
                    request.partitionName = partition ?? ""
                    request.fieldsData = columns
                    request.numRows = UInt32(range.count)
                    response = try await call("Upsert", idempotent: true) { [request] service, metadata, options in
                        try await service.upsert(request, metadata: metadata, options: options)
                    }
                } else {
                    var request = Milvus_Proto_Milvus_InsertRequest()
                    request.dbName = databaseName
                    request.collectionName = collection
                    request.partitionName = partition ?? ""
                    request.fieldsData = columns
                    request.numRows = UInt32(range.count)
                    response = try await call("Insert", idempotent: false) { [request] service, metadata, options in
                        try await service.insert(request, metadata: metadata, options: options)
                    }
                }
                let keys = FieldConversion.keys(response.ids)
                ids += keys.isEmpty ? stored[range].map { $0[schema.primaryField.name] ?? .null } : keys
            } catch let error as QuiverError where !ids.isEmpty {
                if upsert {
                    throw QuiverError(error.code, "\(error.message); the first \(ids.count) of \(stored.count) rows were upserted by earlier requests", cause: error)
                }
                throw await undoInsert(collection, ids: ids, schema: schema, after: error)
            }
        }
        return ids
    }

    /// Deletes the rows that earlier requests of a failed split insert inserted; returns the
    /// error to throw.
    private func undoInsert(_ collection: String, ids: [Value], schema: CollectionSchema, after error: QuiverError) async -> QuiverError {
        do {
            for start in stride(from: 0, to: ids.count, by: 10_000) {
                let chunk = Array(ids[start..<min(ids.count, start + 10_000)])
                _ = try await delete(collection, DeleteRequest(ids: chunk))
            }
            return QuiverError(error.code, "\(error.message); the \(ids.count) rows inserted by earlier requests were deleted again", cause: error)
        } catch {
            return QuiverError(
                error is QuiverError ? (error as! QuiverError).code : .serverError,
                "an insert split into several requests failed after \(ids.count) rows, and deleting them again failed too (\(error)); their keys start at \(ids.first.map(\.jsonString) ?? "")",
                cause: error)
        }
    }

    /// Row ranges whose requests each stay well under `limit` bytes (half of it, by an estimate
    /// of each row's encoded size, so the protobuf framing and estimate's slack always fit).
    ///
    /// - Throws: `.resourceExhausted` for a row that alone exceeds the limit.
    static func batches(_ rows: [Row], limit: Int) throws -> [Range<Int>] {
        let budget = max(1, limit / 2)
        var ranges = [Range<Int>]()
        var start = 0
        var bytes = 0
        for (i, row) in rows.enumerated() {
            var size = 16
            for (key, value) in row { size += key.utf8.count + estimatedBytes(value) }
            guard size < limit else {
                throw QuiverError(.resourceExhausted, "row \(i) is about \(size) bytes, over the message limit of \(limit) bytes (ConnectOptions.maxMessageBytes)")
            }
            if bytes + size > budget && i > start {
                ranges.append(start..<i)
                start = i
                bytes = 0
            }
            bytes += size
        }
        ranges.append(start..<rows.count)
        return ranges
    }

    /// An upper estimate of a value's bytes on the wire.
    static func estimatedBytes(_ value: Value) -> Int {
        switch value {
        case .null, .bool: 2
        case .int, .double: 11
        case .string(let s): s.utf8.count * 6 + 8  // JSON escapes at most 6 bytes per byte
        case .vector(let v): v.count * 4 + 8
        case .bytes(let b): b.count + 8
        case .array(let a): a.reduce(8) { $0 + estimatedBytes($1) + 1 }
        case .object(let o): o.reduce(8) { $0 + $1.key.utf8.count * 6 + 4 + estimatedBytes($1.value) }
        case .sparse(let v): v.count * 8 + 8  // (u32, f32) pairs; as JSON (a dynamic field) within the same bound
        }
    }

    /// Deletes rows by keys and/or filter (`Delete` with the expression pymilvus builds, `pk in
    /// [..]`, and the filter's template values). Not retried (see ``RetryPolicy``).
    ///
    /// The count is the server's: `quiver serve` counts live rows deleted, as the embedded engine
    /// does; Milvus counts the keys named in the expression.
    ///
    /// - Throws: `.invalidArgument` with neither ids nor a filter; `.filterSyntax`.
    public func delete(_ collection: String, _ request: DeleteRequest) async throws -> DeleteResult {
        let schema = try await schema(of: collection)
        guard request.ids != nil || !request.filter.allSatisfy(\.isWhitespace) else {
            throw QuiverError(.invalidArgument, "delete needs ids or a filter; an empty filter would delete every row")
        }
        if request.ids?.isEmpty == true { return DeleteResult(deleteCount: 0) }
        var message = Milvus_Proto_Milvus_DeleteRequest()
        message.dbName = databaseName
        message.collectionName = collection
        message.expr = try Self.expression(ids: request.ids, filter: request.filter, schema: schema)
        message.exprTemplateValues = try FieldConversion.templateValues(request.filterParams)
        message.consistencyLevel = .strong
        // Milvus's `Delete` names one partition (none: all): one request per partition, whose
        // rows are disjoint, so the counts add up.
        var count = 0
        for partition in request.partitions.isEmpty ? [""] : Array(Set(request.partitions)).sorted() {
            message.partitionName = partition
            let response = try await call("Delete", idempotent: false) { [message] service, metadata, options in
                try await service.delete(message, metadata: metadata, options: options)
            }
            count += Int(response.deleteCnt)
        }
        return DeleteResult(deleteCount: count)
    }

    /// Reads rows (`Query` with `Strong` consistency, `limit` and `offset` in `query_params` as
    /// pymilvus sends them). By keys, the rows come back in the order of the keys (missing ones
    /// skipped) and paging applies to that order, as on the embedded engine.
    ///
    /// - Throws: `.invalidArgument` for no filter, ids or limit, bad paging, an unknown field;
    ///   `.filterSyntax`; `.notFound` for a missing collection.
    public func query(_ collection: String, _ request: QueryRequest) async throws -> [Row] {
        try await query(collection, request, iterator: false)
    }

    /// `query(_:_:)`, or with `iterator` a page of a query iterator: `iterator` and
    /// `reduce_stop_for_best` in `query_params`, as pymilvus's `query_iterator` sends them, so that
    /// the server answers the `limit` smallest matching keys in key order.
    func query(_ collection: String, _ request: QueryRequest, iterator: Bool) async throws -> [Row] {
        let schema = try await schema(of: collection)
        let outputs = request.outputFields ?? []
        let isCount = outputs.contains { $0.lowercased() == "count(*)" }
        if isCount && outputs.count > 1 {
            throw QuiverError(.invalidArgument, "count(*) cannot be combined with other output fields")
        }
        guard request.offset >= 0 else { throw QuiverError(.invalidArgument, "offset must not be negative, got \(request.offset)") }
        if let limit = request.limit {
            guard limit >= 1 else { throw QuiverError(.invalidArgument, "limit must be at least 1, got \(limit)") }
            guard limit <= maxTopK, request.offset <= maxTopK - limit else {
                throw QuiverError(.invalidArgument, "limit + offset must be at most \(maxTopK), got limit \(limit) and offset \(request.offset)")
            }
        }
        if request.ids?.isEmpty == true { return isCount ? [["count(*)": 0]] : [] }
        if !isCount && request.ids == nil && request.limit == nil && request.filter.allSatisfy(\.isWhitespace) {
            throw QuiverError(.invalidArgument, "query needs a filter, ids or a limit; an empty filter with no limit would return the whole collection")
        }
        var message = Milvus_Proto_Milvus_QueryRequest()
        message.dbName = databaseName
        message.collectionName = collection
        message.expr = try Self.expression(ids: request.ids, filter: request.filter, schema: schema)
        message.exprTemplateValues = try FieldConversion.templateValues(request.filterParams)
        message.outputFields = outputs
        message.partitionNames = request.partitions
        message.consistencyLevel = .strong
        message.useDefaultConsistency = false
        if request.ids == nil && !isCount {
            if let limit = request.limit { message.queryParams.append(Self.pair("limit", String(limit))) }
            if request.offset > 0 { message.queryParams.append(Self.pair("offset", String(request.offset))) }
            if iterator {
                message.queryParams.append(Self.pair("iterator", "True"))
                message.queryParams.append(Self.pair("reduce_stop_for_best", "True"))
            }
        }
        let response = try await call("Query", idempotent: true) { [message] service, metadata, options in
            try await service.query(message, metadata: metadata, options: options)
        }
        if isCount {
            let column = response.fieldsData.first { $0.fieldName.lowercased() == "count(*)" }
            return [["count(*)": .int(column?.scalars.longData.data.first ?? 0)]]
        }
        let projected = try Self.resultRows(
            "Query", response.fieldsData, count: nil, outputFields: outputs, returned: response.outputFields, schema: schema,
            includePrimaryKey: true)
        guard let ids = request.ids else { return projected }
        let pk = schema.primaryField.name
        var byKey = [Value: Row](minimumCapacity: projected.count)
        for row in projected { if let key = row[pk] { byKey[key] = row } }
        let ordered = ids.compactMap { byKey[$0] }
        return Array(ordered.dropFirst(request.offset).prefix(request.limit ?? Int.max))
    }

    // MARK: Shared

    /// The expression of keys and a filter: `pk in [..]` (keys as literals, as pymilvus writes
    /// them: Milvus Lite has no template values), `and`-ed with the filter.
    static func expression(ids: [Value]?, filter: String, schema: CollectionSchema) throws -> String {
        let trimmed = filter.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let ids else { return trimmed }
        let pk = schema.primaryField
        let literals = try ids.map { try keyLiteral($0, of: pk) }
        let keys = "\(pk.name) in [\(literals.joined(separator: ","))]"
        return trimmed.isEmpty ? keys : "(\(keys)) and (\(trimmed))"
    }

    /// A primary key written as a filter literal (a string quoted and escaped).
    ///
    /// - Throws: `.invalidArgument` when the key is not of the key field's type.
    static func keyLiteral(_ id: Value, of pk: FieldSchema) throws -> String {
        switch (pk.dataType, id) {
        case (.int64, .int(let i)): return String(i)
        case (.varchar, .string(let s)):
            return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        default:
            throw QuiverError(.invalidArgument, "primary key \(id.jsonString) is not of the key field's type (\(pk.dataType.name))")
        }
    }

    /// The rows of a result's columns, limited to what `outputFields` asks for.
    ///
    /// - Parameter returned: the response's `output_fields` (which dynamic keys to keep).
    /// - Throws: `.serverError` when the columns do not decode.
    static func resultRows(
        _ call: String, _ columns: [Milvus_Proto_Schema_FieldData], count: Int?, outputFields: [String], returned: [String],
        schema: CollectionSchema, includePrimaryKey: Bool
    ) throws -> [Row] {
        let rows: [Row]
        do {
            rows = try FieldConversion.resultRows(
                from: columns, count: count, outputFields: returned.isEmpty ? outputFields : returned, schema: schema)
        } catch let error as MilvusError {
            throw QuiverError(.serverError, "\(call): the server's result does not decode: \(error.reason)", cause: error)
        }
        return project(rows, outputFields: outputFields, schema: schema, includePrimaryKey: includePrimaryKey)
    }

    /// Rows limited to what the output fields ask for (the primary key, when asked for), so a
    /// server that returns more (Milvus Lite returns every field of a hit when none is asked
    /// for) gives the embedded engine's rows.
    static func project(_ rows: [Row], outputFields: [String], schema: CollectionSchema, includePrimaryKey: Bool) -> [Row] {
        if outputFields.contains("*") { return rows }
        var wanted = Set(outputFields.filter { $0 != dynamicFieldName })
        if includePrimaryKey { wanted.insert(schema.primaryField.name) }
        let allDynamic = outputFields.contains(dynamicFieldName) && schema.enableDynamicField
        return rows.map { row in
            row.filter { wanted.contains($0.key) || (allDynamic && schema.field(named: $0.key) == nil) }
        }
    }

    static func pair(_ key: String, _ value: String) -> Milvus_Proto_Common_KeyValuePair {
        SchemaConversion.keyValue(key, value)
    }
}
