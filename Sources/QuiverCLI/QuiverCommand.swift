import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Quiver
import QuiverRemote

@main
struct QuiverCommand: AsyncParsableCommand {
    /// Runs the command. For `quiver serve`, first makes NIO's event loops Swift concurrency's
    /// global executor, so that a gRPC call's handler runs on the event loop that read the call
    /// instead of waking a thread of Swift's own pool and back: `quiver serve` answering pymilvus in
    /// a loop made 15 context switches per empty RPC (GetVersion) with the pool and 2 with the event
    /// loops, and 18 against 6–7 per search (Documentation/Benchmarks.md). Database calls still run
    /// on the server's own queue, so they never block an event loop. NIO asks for this to be done on
    /// the main thread before any task runs, which is here, before the first suspension.
    static func main() async {
        if CommandLine.arguments.dropFirst().first == "serve" {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "quiver",
        abstract: "Quiver: an embeddable vector database.",
        discussion: "JSON results go to standard output; errors go to standard error with a non-zero exit status.",
        subcommands: [
            Create.self, Insert.self, Upsert.self, Delete.self, Get.self, Query.self, Search.self, Hybrid.self,
            Flush.self, Compact.self, List.self, Describe.self, Stats.self, Rename.self, Drop.self, Load.self, Release.self,
            Index.self, Alias.self, Partition.self, Demo.self,
            EmbedCommand.self, Analyze.self, ModelCommand.self, Ingest.self, Retrieve.self, Ask.self, Serve.self, Export.self, Import.self,
        ]
    )
}

/// What a verb's `DB` argument is, in its help.
let databaseArgumentHelp = ArgumentHelp("The database directory, or a Milvus server's http(s):// URL (e.g. http://127.0.0.1:19530).")

/// A verb's database.
struct DatabaseArguments: ParsableArguments {
    @Argument(help: databaseArgumentHelp) var db: String
    @OptionGroup var connection: ConnectionArguments

    /// Opens the database; see ``ConnectionArguments/open(_:)``.
    func open() async throws -> any VectorDatabase {
        try await connection.open(db)
    }
}

/// How every verb that takes a database argument reaches a Milvus server when that argument
/// is a URL: credentials, database name and deadline, passed to `connect(_:options:)` as its
/// `ConnectOptions`. Given with a path they are refused (`connect` throws `.invalidArgument`),
/// not ignored.
struct ConnectionArguments: ParsableArguments {
    @Option(help: ArgumentHelp("The server's token: USER:PASSWORD for Milvus's users, an API key for Zilliz Cloud (URLs only).", valueName: "token"))
    var token: String?
    @Option(help: "A user of the server, with --password (URLs only).") var user: String?
    @Option(help: "The password of --user (URLs only).") var password: String?
    @Option(help: "The Milvus database (default: the URL's path, else the server's 'default'; URLs only).") var dbName: String?
    @Option(help: ArgumentHelp("Seconds each server call may take, retries included (default: ConnectOptions's, 600; URLs only).", valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout must be a positive number of seconds") }
        guard (user == nil) == (password == nil) else { throw ValidationError("--user and --password go together") }
        guard token == nil || user == nil else { throw ValidationError("give --token or --user/--password, not both") }
        if token?.isEmpty == true { throw ValidationError("--token must not be empty") }
    }

    /// The options `connect` gets: these arguments over the defaults.
    var options: ConnectOptions {
        var options = ConnectOptions()
        options.token = token
        options.user = user
        options.password = password
        options.databaseName = dbName
        if let timeout { options.timeout = .milliseconds((timeout * 1000).rounded()) }
        return options
    }

    /// Opens the database a verb names, as an `any VectorDatabase`: the one opener of every verb.
    /// Through `connect(_:options:)`: a path opens (or creates) the embedded engine, an `http://`
    /// or `https://` URL connects to a Milvus server (`quiver serve`, Milvus Lite's server, a
    /// cluster) with these options, and any other scheme is refused.
    ///
    /// - Throws: `.invalidArgument` for another scheme, or for a path given with a server
    ///   option; `.unavailable`, `.permissionDenied` (missing or wrong credentials) or `.timeout`
    ///   from a server; the engine's errors for a path (`.locked`, `.corruption`, `.io`).
    func open(_ uri: String) async throws -> any VectorDatabase {
        try await connect(uri, options: options)
    }
}

/// The database and collection arguments most verbs share.
struct CollectionArguments: ParsableArguments {
    @OptionGroup var database: DatabaseArguments
    @Argument(help: "The collection name (or an alias of it).") var collection: String
}

struct FilterOptions: ParsableArguments {
    @Option(help: "A filter expression, e.g. 'price > 10 and color in [\"red\"]'.") var filter: String?
    @Option(help: "Template values for the filter as a JSON object, e.g. '{\"age\": 30}'.") var filterParams: String?

    func params() throws -> [String: Value] {
        try jsonObject(filterParams, option: "--filter-params")
    }
}

/// Opens the database for one command and closes it afterwards (flushing nothing extra).
func withDatabase<R>(_ arguments: DatabaseArguments, _ body: (any VectorDatabase) async throws -> R) async throws -> R {
    let db = try await arguments.open()
    do {
        let result = try await body(db)
        try await db.close()
        return result
    } catch {
        try? await db.close()
        throw error
    }
}

/// The embedded database of a verb that only the embedded engine can do (`compact`).
///
/// - Throws: `QuiverError` `.unsupported` naming the verb when `db` is a server's.
func embedded(_ db: any VectorDatabase, for verb: String) throws -> Database {
    guard let local = db as? Database else {
        throw QuiverError(.unsupported, "\(verb) needs a database path: a Milvus server does this itself and has no call for it")
    }
    return local
}

func printJSON(_ value: Value) {
    print(value.jsonString)
}

/// Prints `values` as JSON Lines: one value a line.
func printJSONLines(_ values: [Value]) {
    for value in values { print(value.jsonString) }
}

/// One hit as a JSON object: `{"id": …, "distance": …, "entity": {…}}`.
func hitJSON(_ hit: Hit) -> String {
    "{\"id\":" + hit.id.jsonString + ",\"distance\":" + jsonNumber(hit.distance) + ",\"entity\":" + Value.object(hit.entity).jsonString + "}"
}

/// `--iterate` and `--batch-size`: walking every result from a snapshot instead of one page.
struct IterationOptions: ParsableArguments {
    @Flag(help: "Walk every result from a snapshot, as JSON Lines (see the discussion).") var iterate = false
    @Option(help: "Rows read per batch with --iterate (1 to 16384).") var batchSize: Int = 1000
}

func parseList(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// Reads a JSONL file: one JSON value a line, blank lines skipped.
func readJSONLines(_ path: String) throws -> [Value] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read '\(path)'")
    }
    var out = [Value]()
    for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { continue }
        do { out.append(try Value(json: trimmed)) } catch let e as QuiverError {
            throw ValidationError("\(path):\(n + 1): \(e.message)")
        }
    }
    return out
}

/// Reads a JSONL file of rows: one JSON object a line.
func readRows(_ path: String) throws -> [Row] {
    try readJSONLines(path).enumerated().map { i, v -> Row in
        guard case .object(let o) = v else { throw ValidationError("\(path): line \(i + 1) is not a JSON object") }
        return o
    }
}

/// Parses `--ids 1,2,3` (or quoted strings for varchar keys) for the collection's key type.
func parseIDs(_ text: String, db: any VectorDatabase, collection: String) async throws -> [Value] {
    let schema = try await db.describeCollection(collection).schema
    let isInt = schema.primaryField.dataType == .int64
    return try parseList(text).map { item in
        if isInt {
            guard let v = Int64(item) else { throw ValidationError("'\(item)' is not an int64 id") }
            return .int(v)
        }
        if item.hasPrefix("\""), let v = try? Value(json: item), case .string = v { return v }
        return .string(item)
    }
}

func hitsJSON(_ hits: [[Hit]]) -> String {
    var out = "["
    for (q, list) in hits.enumerated() {
        if q > 0 { out += "," }
        out += "["
        for (i, hit) in list.enumerated() {
            if i > 0 { out += "," }
            out += hitJSON(hit)
        }
        out += "]"
    }
    return out + "]"
}

func jsonNumber(_ f: Float) -> String { f.isFinite ? "\(f)" : "null" }

extension QuiverCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a collection (quick setup or a schema file).")
        @OptionGroup var target: CollectionArguments
        @Option(help: "Vector dimension (quick setup).") var dimension: Int?
        @Option(help: "JSON schema file (pymilvus field names).") var schema: String?
        @Option(help: "ip, l2 or cosine.") var metric: String = "cosine"
        @Option(help: "int64 or varchar (quick setup).") var idType: String = "int64"
        @Option(help: "Maximum length of varchar ids.") var maxLength: Int = 512
        @Flag(help: "Generate int64 ids.") var autoId = false

        func validate() throws {
            guard (dimension == nil) != (schema == nil) else { throw ValidationError("give exactly one of --dimension and --schema") }
            guard MetricType(name: metric) != nil else { throw ValidationError("--metric must be ip, l2 or cosine") }
            guard ["int64", "varchar"].contains(idType) else { throw ValidationError("--id-type must be int64 or varchar") }
        }

        func run() async throws {
            let metric = MetricType(name: metric)!
            try await withDatabase(target.database) { db in
                if let dimension {
                    try await db.createCollection(
                        target.collection, dimension: dimension, metric: metric,
                        idType: idType == "int64" ? .int64 : .varchar(maxLength: maxLength), autoID: autoId)
                } else {
                    guard let data = FileManager.default.contents(atPath: schema!) else {
                        throw ValidationError("cannot read '\(schema!)'")
                    }
                    try await db.createCollection(target.collection, schema: try CollectionSchema(json: try Value(jsonData: data)), metric: metric)
                }
                let description = try await db.describeCollection(target.collection)
                printJSON(["collection": .string(description.name), "created": true])
            }
        }
    }

    struct Insert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Insert rows from a JSONL file (atomic).")
        @OptionGroup var target: CollectionArguments
        @Option(help: "One JSON object a line.") var file: String
        @Option(help: "The partition the rows go to (default: _default).") var partition: String?

        func run() async throws {
            let rows = try readRows(file)
            try await withDatabase(target.database) { db in
                let r = try await db.insert(target.collection, rows: rows, partition: partition)
                printJSON(["insert_count": .int(Int64(r.insertCount)), "ids": .array(r.ids)])
            }
        }
    }

    struct Upsert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Insert or replace rows from a JSONL file (atomic).")
        @OptionGroup var target: CollectionArguments
        @Option(help: "One JSON object a line.") var file: String
        @Option(help: "The partition the rows go to (default: _default).") var partition: String?

        func run() async throws {
            let rows = try readRows(file)
            try await withDatabase(target.database) { db in
                let r = try await db.upsert(target.collection, rows: rows, partition: partition)
                printJSON(["upsert_count": .int(Int64(r.upsertCount))])
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete rows by id and/or filter.")
        @OptionGroup var target: CollectionArguments
        @Option(help: "Comma-separated primary keys.") var ids: String?
        @OptionGroup var filter: FilterOptions
        @OptionGroup var partition: PartitionOptions

        func validate() throws {
            guard ids != nil || filter.filter != nil else { throw ValidationError("give --ids or --filter") }
        }

        func run() async throws {
            try await withDatabase(target.database) { db in
                let keys = try await ids.asyncMap { try await parseIDs($0, db: db, collection: target.collection) }
                let r = try await db.delete(
                    target.collection, ids: keys, filter: filter.filter ?? "", filterParams: try filter.params(),
                    partitions: partition.partitions)
                printJSON(["delete_count": .int(Int64(r.deleteCount))])
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rows by primary key.")
        @OptionGroup var target: CollectionArguments
        @Option(help: "Comma-separated primary keys.") var ids: String
        @Option(help: "Comma-separated output fields ('*' for all).") var outputFields: String?
        @OptionGroup var partition: PartitionOptions

        func run() async throws {
            try await withDatabase(target.database) { db in
                let keys = try await parseIDs(ids, db: db, collection: target.collection)
                let rows = try await db.get(
                    target.collection, ids: keys, outputFields: outputFields.map(parseList), partitions: partition.partitions)
                printJSON(.array(rows.map { .object($0) }))
            }
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rows by filter and/or ids, with paging; or count(*).",
            discussion: """
                With --iterate: every matching row (no 16,384 limit, at most --limit), in primary-key order, read \
                --batch-size rows at a time and printed as JSON Lines (one row a line) as it goes (queryIterator): \
                from a snapshot taken at the start on a database path, paged by key as pymilvus pages on a server.
                """)
        @OptionGroup var target: CollectionArguments
        @Option(help: "Comma-separated primary keys.") var ids: String?
        @OptionGroup var filter: FilterOptions
        @Option(help: "At most this many rows.") var limit: Int?
        @Option(help: "Skip this many rows first.") var offset: Int = 0
        @Option(help: "Comma-separated output fields, or count(*).") var outputFields: String?
        @OptionGroup var partition: PartitionOptions
        @OptionGroup var iteration: IterationOptions

        func validate() throws {
            if iteration.iterate && (ids != nil || offset != 0) { throw ValidationError("--iterate takes no --ids and no --offset") }
        }

        func run() async throws {
            if iteration.iterate {
                return try await withDatabase(target.database) { db in
                    let walk = try await db.queryIterator(
                        target.collection, batchSize: iteration.batchSize, limit: limit, filter: filter.filter ?? "",
                        filterParams: try filter.params(), outputFields: outputFields.map(parseList), partitions: partition.partitions)
                    for try await batch in walk { printJSONLines(batch.map { .object($0) }) }
                }
            }
            try await withDatabase(target.database) { db in
                let keys = try await ids.asyncMap { try await parseIDs($0, db: db, collection: target.collection) }
                let rows = try await db.query(
                    target.collection, filter: filter.filter ?? "", filterParams: try filter.params(), ids: keys,
                    limit: limit, offset: offset, outputFields: outputFields.map(parseList), partitions: partition.partitions)
                printJSON(.array(rows.map { .object($0) }))
            }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Nearest neighbours of one or more query vectors, or full-text (BM25) search with --text.",
            discussion: """
                With --text: rows ranked by BM25 against each query text, searching the output field of a BM25 \
                function (the schema's first, or --field). With --iterate: the hits of one --vector, best first, every matching row (no 16,384 limit, at most \
                --limit when given), from a snapshot taken at the start, --batch-size at a time, printed as JSON \
                Lines (one hit a line) as it goes (searchIterator): exact range scans of a snapshot on a database \
                path; on a server, range searches as pymilvus pages them (as exact as the server's range search).
                """)
        @OptionGroup var target: CollectionArguments
        @Option(help: "One query vector as a JSON array (a sparse field: a JSON object of index → weight, {\"3\": 0.5}).") var vector: String?
        @Option(help: "A JSONL file of query vectors.") var vectorsFile: String?
        @Option(help: "A query text for full-text (BM25) search; repeat for several queries.") var text: [String] = []
        @Option(help: "Results per query (default 10; with --iterate, all when not given).") var limit: Int?
        @Option(help: "Skip this many results first.") var offset: Int = 0
        @OptionGroup var filter: FilterOptions
        @Option(help: "Comma-separated output fields.") var outputFields: String?
        @Option(name: [.customLong("anns-field"), .customLong("field")], help: "The vector field to search (with --text: a BM25 function's output field).")
        var annsField: String?
        @Option(help: ArgumentHelp(
            "Range search: RADIUS, or RADIUS,RANGE_FILTER (Milvus's radius and range_filter): only hits whose distance is within them.",
            valueName: "radius[,range-filter]"))
        var range: String?
        @Option(help: "Group the hits by this scalar field: the best hit of each of `limit` groups.") var groupBy: String?
        @Option(help: "Hits per group with --group-by.") var groupSize: Int?
        @Option(help: "Search parameters as a JSON object, e.g. '{\"ef\": 64}' (HNSW) or '{\"nprobe\": 16}' (IVF).") var params: String?
        @OptionGroup var partition: PartitionOptions
        @OptionGroup var iteration: IterationOptions

        func validate() throws {
            guard [vector != nil, vectorsFile != nil, !text.isEmpty].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --vector, --vectors-file and --text")
            }
            _ = try options()
            if groupSize != nil && groupBy == nil { throw ValidationError("--group-size needs --group-by") }
            if iteration.iterate && (vector == nil || offset != 0 || range != nil || groupBy != nil || params != nil) {
                throw ValidationError("--iterate takes one --vector and no --offset, --range, --group-by or --params")
            }
        }

        /// The search options the flags give.
        func options() throws -> SearchOptions {
            var options = SearchOptions()
            if let range {
                let parts = range.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard (1...2).contains(parts.count), let radius = Float(parts[0]) else {
                    throw ValidationError("--range must be RADIUS or RADIUS,RANGE_FILTER (numbers), got '\(range)'")
                }
                options.radius = radius
                if parts.count == 2 {
                    guard let filter = Float(parts[1]) else { throw ValidationError("--range: '\(parts[1])' is not a number") }
                    options.rangeFilter = filter
                }
            }
            options.groupBy = groupBy
            if let groupSize { options.groupSize = groupSize }
            options.params = try jsonObject(params, option: "--params")
            return options
        }

        func run() async throws {
            if iteration.iterate {
                guard let query = try Value(json: vector!).floatVector else { throw ValidationError("--vector is not an array of numbers") }
                return try await withDatabase(target.database) { db in
                    let walk = try await db.searchIterator(
                        target.collection, vector: query, batchSize: iteration.batchSize, limit: self.limit, filter: filter.filter ?? "",
                        filterParams: try filter.params(), outputFields: outputFields.map(parseList), annsField: annsField,
                        partitions: partition.partitions)
                    for try await batch in walk {
                        for hit in batch { print(hitJSON(hit)) }
                    }
                }
            }
            let options = try options()
            let limit = self.limit ?? 10
            if !text.isEmpty {
                return try await withDatabase(target.database) { db in
                    let hits = try await db.search(
                        target.collection, texts: text, limit: limit, offset: offset, filter: filter.filter ?? "",
                        filterParams: try filter.params(), outputFields: outputFields.map(parseList), annsField: annsField,
                        options: options, partitions: partition.partitions)
                    print(hitsJSON(hits))
                }
            }
            let values = try vector.map { [try Value(json: $0)] } ?? readJSONLines(vectorsFile!)
            try await withDatabase(target.database) { db in
                let schema = try await db.describeCollection(target.collection).schema
                let field = annsField.flatMap { schema.field(named: $0) } ?? schema.searchableFields.first
                let hits: [[Hit]]
                if field?.dataType.isSparseVector == true {
                    // A sparse query: an object of index → weight, or [index, weight] pairs.
                    let queries = try values.enumerated().map { i, v -> SparseVector in
                        guard let q = try SparseVector(value: v) else { throw ValidationError("query \(i) is not a sparse vector ({\"index\": weight})") }
                        return q
                    }
                    hits = try await db.search(
                        target.collection, sparseVectors: queries, limit: limit, offset: offset, filter: filter.filter ?? "",
                        filterParams: try filter.params(), outputFields: outputFields.map(parseList), annsField: field?.name,
                        options: options, partitions: partition.partitions)
                } else if field?.dataType.isBinaryVector == true {
                    let queries = try values.enumerated().map { i, v -> [UInt8] in
                        guard let items = v.arrayValue, let bytes = Optional(items.compactMap { $0.intValue.flatMap { UInt8(exactly: $0) } }),
                            bytes.count == items.count
                        else { throw ValidationError("query \(i) is not an array of bytes (0…255)") }
                        return bytes
                    }
                    hits = try await db.search(
                        target.collection, binaryVectors: queries, limit: limit, offset: offset, filter: filter.filter ?? "",
                        filterParams: try filter.params(), outputFields: outputFields.map(parseList), annsField: annsField,
                        options: options, partitions: partition.partitions)
                } else {
                    let queries = try values.enumerated().map { i, v -> [Float] in
                        guard let f = v.floatVector else { throw ValidationError("query \(i) is not an array of numbers") }
                        return f
                    }
                    hits = try await db.search(
                        target.collection, vectors: queries, limit: limit, offset: offset, filter: filter.filter ?? "",
                        filterParams: try filter.params(), outputFields: outputFields.map(parseList), annsField: annsField,
                        options: options, partitions: partition.partitions)
                }
                print(hitsJSON(hits))
            }
        }
    }

    struct Flush: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Seal the growing segment to disk.")
        @OptionGroup var target: CollectionArguments
        func run() async throws {
            try await withDatabase(target.database) { db in
                try await db.flush(target.collection)
                printJSON(["flushed": true])
            }
        }
    }

    struct Compact: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Merge sealed segments, dropping deleted rows.")
        @OptionGroup var target: CollectionArguments
        func run() async throws {
            try await withDatabase(target.database) { db in
                printJSON(["compacted": .bool(try await embedded(db, for: "compact").compact(target.collection))])
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The collections of a database.")
        @OptionGroup var database: DatabaseArguments
        func run() async throws {
            try await withDatabase(database) { db in printJSON(.array(try await db.listCollections().map { .string($0) })) }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A collection's schema, metric and aliases.")
        @OptionGroup var target: CollectionArguments
        func run() async throws {
            try await withDatabase(target.database) { db in
                let d = try await db.describeCollection(target.collection)
                printJSON(["collection": .string(d.name), "metric": .string(d.metric.rawValue), "schema": d.schema.jsonValue,
                           "row_count": .int(Int64(d.rowCount)), "aliases": .array(d.aliases.map { .string($0) })])
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Row and segment counts.")
        @OptionGroup var target: CollectionArguments
        func run() async throws {
            try await withDatabase(target.database) { db in
                let s = try await db.collectionStats(target.collection)
                printJSON(["row_count": .int(Int64(s.rowCount)), "segment_count": .int(Int64(s.segmentCount)),
                           "growing_row_count": .int(Int64(s.growingRowCount))])
            }
        }
    }
}

extension Optional {
    /// `map` with an `async` transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
