import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol

/// Rows: insert, upsert, delete by expression, query (with `count(*)`), flush.
extension MilvusService {
    /// The most rows one insert, upsert or query may carry or return (bounds what a request
    /// can make the server allocate before the engine sees it).
    static let maxRowsPerRequest = 10_000_000

    func insert(request: Milvus_Proto_Milvus_InsertRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_MutationResult {
        await write(
            request.collectionName, database: request.dbName, partition: request.partitionName, columns: request.fieldsData,
            numRows: request.numRows, upsert: false)
    }

    func upsert(request: Milvus_Proto_Milvus_UpsertRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_MutationResult {
        guard !request.partialUpdate else {
            return .failure(MilvusError.unsupported("partial update: send whole rows"))
        }
        return await write(
            request.collectionName, database: request.dbName, partition: request.partitionName, columns: request.fieldsData,
            numRows: request.numRows, upsert: true)
    }

    /// Insert or upsert in one atomic call into `partition` (empty: `_default`, or the
    /// partitions of the rows' partition key): a column insert (a float vector column passed on
    /// as its one array), or, for requests with dynamic fields or a partition name, the columns'
    /// rows.
    private func write(
        _ name: String, database db: String, partition: String, columns: [FieldConversion.Column], numRows: UInt32, upsert: Bool
    ) async -> Milvus_Proto_Milvus_MutationResult {
        await answer { [database] in
            let schema = try schema(of: name, database: db)
            guard Int(numRows) <= Self.maxRowsPerRequest else {
                throw MilvusError.invalid("a request may carry at most \(Self.maxRowsPerRequest) rows, got \(numRows)")
            }
            var response = Milvus_Proto_Milvus_MutationResult()
            let ids: [Value]
            if partition.isEmpty, let batch = try FieldConversion.batch(from: columns, numRows: Int(numRows), schema: schema) {
                ids = upsert ? try database.upsert(name, columns: batch).ids : try database.insert(name, columns: batch).ids
            } else {
                let rows = try FieldConversion.rows(from: columns, numRows: Int(numRows), schema: schema)
                let into = partition.isEmpty ? nil : partition
                ids = upsert
                    ? try database.upsert(name, rows: rows, partition: into).ids : try database.insert(name, rows: rows, partition: into).ids
            }
            if upsert { response.upsertCnt = Int64(ids.count) } else { response.insertCnt = Int64(ids.count) }
            response.ids = FieldConversion.ids(ids, schema: schema)
            response.succIndex = (0..<UInt32(ids.count)).map { $0 }
            response.timestamp = nextTimestamp()
            return response
        }
    }

    func delete(request: Milvus_Proto_Milvus_DeleteRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_MutationResult {
        await answer { [database] in
            try requireCollection(request.collectionName, database: request.dbName)
            guard !request.expr.allSatisfy(\.isWhitespace) else {
                throw MilvusError.invalid("delete needs a filter expression; an empty one would delete every row")
            }
            let params = try FieldConversion.templateValues(request.exprTemplateValues)
            let partitions = request.partitionName.isEmpty ? [] : [request.partitionName]
            let result = try database.delete(request.collectionName, filter: request.expr, filterParams: params, partitions: partitions)
            var response = Milvus_Proto_Milvus_MutationResult()
            response.deleteCnt = Int64(result.deleteCount)
            response.timestamp = nextTimestamp()
            return response
        }
    }

    func query(request: Milvus_Proto_Milvus_QueryRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_QueryResults {
        await answer { [database] in
            let name = request.collectionName
            let schema = try schema(of: name, database: request.dbName)
            let params = Dictionary(request.queryParams.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            let limit = try params["limit"].map { try Self.integer($0, name: "limit") }
            let offset = try params["offset"].map { try Self.integer($0, name: "offset") } ?? 0
            let filterParams = try FieldConversion.templateValues(request.exprTemplateValues)
            var response = Milvus_Proto_Milvus_QueryResults()
            response.collectionName = name
            response.primaryFieldName = schema.primaryField.name
            let outputNames = try Self.outputNames(request.outputFields, schema: schema)
            if outputNames.contains(where: { $0.lowercased() == "count(*)" }) {
                guard outputNames.count == 1 else { throw MilvusError.invalid("count(*) cannot be combined with other output fields") }
                let rows = try database.query(
                    name, filter: request.expr, filterParams: filterParams, outputFields: ["count(*)"], partitions: request.partitionNames)
                var column = FieldConversion.Column()
                column.type = .int64
                column.fieldName = "count(*)"
                var counts = Milvus_Proto_Schema_LongArray()
                counts.data = [rows.first?["count(*)"]?.intValue ?? 0]
                column.scalars.longData = counts
                response.fieldsData = [column]
                response.outputFields = ["count(*)"]
                return response
            }
            let rows: [Row]
            if params["iterator"]?.lowercased() == "true" {
                // pymilvus's query_iterator pages with `pk > last` filters and expects each page to
                // be the smallest keys that match, in key order: the first batch of a query iterator.
                let wanted = min(maxTopK, (limit ?? maxTopK) + offset)
                let walk = try database.queryIterator(
                    name, batchSize: max(1, wanted), limit: wanted, filter: request.expr, filterParams: filterParams,
                    outputFields: outputNames, partitions: request.partitionNames)
                rows = Array((walk.next() ?? []).dropFirst(offset))
            } else {
                rows = try database.query(
                    name, filter: request.expr, filterParams: filterParams, limit: limit, offset: offset,
                    outputFields: outputNames, partitions: request.partitionNames)
            }
            let projection = FieldConversion.Projection(outputNames, schema: schema, includePrimaryKey: true)
            response.fieldsData = FieldConversion.columns(of: rows, projection: projection, schema: schema)
            response.outputFields = projection.outputNames
            return response
        }
    }

    func flush(request: Milvus_Proto_Milvus_FlushRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_FlushResponse {
        await answer { [database] in
            try Self.checkDatabase(request.dbName)
            for name in request.collectionNames where !database.hasCollection(name) { throw MilvusError.collectionNotFound(name) }
            var response = Milvus_Proto_Milvus_FlushResponse()
            response.dbName = Self.databaseName
            for name in request.collectionNames {
                try database.flush(name)  // synchronous: sealed and durable when it returns
                response.collSegIds[name] = Milvus_Proto_Schema_LongArray()
                response.flushCollSegIds[name] = Milvus_Proto_Schema_LongArray()
                response.collFlushTs[name] = nextTimestamp()
                response.collSealTimes[name] = Int64(nextTimestamp() >> 18) / 1000
            }
            return response
        }
    }

    func getFlushState(request: Milvus_Proto_Milvus_GetFlushStateRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_GetFlushStateResponse {
        await answer {
            try Self.checkDatabase(request.dbName)
            if !request.collectionName.isEmpty { try requireCollection(request.collectionName, database: request.dbName) }
            var response = Milvus_Proto_Milvus_GetFlushStateResponse()
            response.flushed = true  // Flush returns only once the data is sealed
            return response
        }
    }

    // MARK: Shared

    /// The schema of collection `name`, or Milvus's CollectionNotFound.
    func schema(of name: String, database db: String) throws -> CollectionSchema {
        try Self.checkDatabase(db)
        return try database.describeCollection(name).schema
    }

    /// The output field names of a query or search (pymilvus may send several in one
    /// comma-separated string): the one check of output fields for `Query`, `Search` and
    /// `HybridSearch`.
    ///
    /// - Throws: `MilvusError` (invalid parameter) for a BM25 function's output field named
    ///   explicitly, as Milvus refuses it (`*` leaves it out instead; see `FieldConversion.Projection`).
    static func outputNames(_ fields: [String], schema: CollectionSchema) throws -> [String] {
        let names = fields.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        if let name = names.first(where: { SchemaConversion.isBM25Output($0, in: schema) }) {
            throw MilvusError.invalid("not allowed to retrieve raw data of field \(name)")
        }
        return names
    }

    static func integer(_ text: String, name: String) throws -> Int {
        guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw MilvusError.invalid("\(name) must be an integer, got '\(text)'")
        }
        return n
    }
}
