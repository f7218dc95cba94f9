// quiver-bench: end-to-end benchmark through Quiver's public API.
//
//     swift run -c release --package-path Benchmarks quiver-bench search \
//         --base BASE.npy --queries Q.npy --metric ip --k 10 --threads 2 --batch 1000 --result-ids OUT.npy
//     quiver-bench insert --base B.npy [--columnar] [--durability batched]   (bulk insert rows/s, InsertBench.swift)
//     quiver-bench search --base B.npy --queries Q.npy --metric l2 --index hnsw \
//         --index-params '{"M":16,"efConstruction":200}' --search-params '{"ef":64}' \
//         --segment-rows 0 --db /tmp/b-hnsw --batch 0 --result-ids OUT.npy
//
// Inserts BASE into a database (batches of 10 000 rows, then flush), creates the index and waits
// for its build, runs every query alone (latency p50/p99; after --warmup untimed ones; the
// fastest of --passes passes), then in
// batches of --batch (0: no batch pass; the fastest of --passes passes), and prints one JSON object. The ids of the single-query
// pass go to --result-ids (int64, nq × k, -1 where fewer than k hits). With --db, a later run
// with the same inputs searches the same database again (see RunMarker.swift).
// Benchmarks/compare_ann.py runs it next to hnswlib, FAISS and usearch.
//
// With --uri http://HOST:PORT the same insert and search phases run against a Milvus server
// (`quiver serve`, `milvus-lite server`, Milvus) through QuiverRemote's client:
//
//     quiver-bench search --uri http://127.0.0.1:19530 --base B.npy --queries Q.npy --metric l2
import ArgumentParser
import BenchSupport
import Foundation
import Quiver
import QuiverRemote

@main
struct QuiverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiver-bench", abstract: "Benchmarks Quiver through its public API.",
        subcommands: [Search.self, Insert.self])
}

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Insert, flush, build an index, and search; print one JSON object.",
        discussion: """
            JSON fields: rows, dimension, queries, metric, k, index, index_params, search_params, \
            vector_type, threads, batch, passes, segments, insert_rows_per_s, flush_s, index_build_s (from \
            createIndex to waitForIndexBuilds returning; 0 for flat), qps_single, p50_ms, p99_ms \
            (the fastest of --passes single-query passes), qps_batch (the fastest of --passes batch passes; null with --batch 0), index_size_mb (the *.qidx files), db_size_mb (the whole \
            directory), reused, peak_rss_mb (VmHWM).

            With --db DIR: an empty or absent DIR is filled and left with a marker file \
            (\(RunMarker.fileName)); a DIR whose marker names the same base file (path, size and a \
            hash of its first and last MiB), metric, vector type, index, index parameters and \
            segment rows is searched as it is, with no insert and no build: "reused": true, and \
            insert_rows_per_s, flush_s and index_build_s are null (the building run's values are \
            in the marker). Any other DIR is an error; it is never deleted.

            With --uri URL: the database is a Milvus server's (quiver serve, milvus-lite server, \
            Milvus), reached through QuiverRemote's client. The collection --collection (which must \
            not exist) is created, filled, searched and dropped; --db, --segment-rows, --mmap, \
            --build-threads and --threads are the embedded engine's and are refused; segments is 0 (a \
            server reports no segment count); index_size_mb and db_size_mb are null; peak_rss_mb is \
            this client's.
            """)

    @Option(help: "Base vectors: float32 .npy, N×d, C order.") var base: String
    @Option(help: "Query vectors: float32 .npy, nq×d, C order.") var queries: String
    @Option(help: "ip, l2 or cosine.") var metric: String
    @Option(help: "Results per query.") var k: Int = 10
    @Option(help: "flat (exact, no index), hnsw, ivf_flat, ivf_sq8, hnsw_sq or autoindex.") var index: String = "flat"
    @Option(name: .customLong("index-params"), help: #"Build parameters as JSON, e.g. {"M":16,"efConstruction":200} or {"nlist":1024}."#)
    var indexParams: String = "{}"
    @Option(name: .customLong("search-params"), help: #"Search parameters as JSON (SearchOptions.params), e.g. {"ef":64} or {"nprobe":16}."#)
    var searchParams: String = "{}"
    @Option(name: .customLong("vector-type"), help: "float32, float16 or bfloat16: the collection's vector field type.")
    var vectorType: String = "float32"
    @Option(help: "Search threads (default: all cores).") var threads: Int?
    @Option(name: .customLong("build-threads"), help: "Index build threads (DatabaseOptions.indexBuildThreads; default: all cores).")
    var buildThreads: Int?
    @Option(help: "Queries per batch in the batch pass; 0 skips the batch pass.") var batch: Int = 1000
    @Option(help: "Queries searched one at a time, untimed, before the single-query pass.") var warmup: Int = 0
    @Option(help: "Single-query passes and batch passes over all queries; the fastest of each is reported (qps_single, p50_ms, p99_ms; qps_batch).")
    var passes: Int = 1
    @Option(name: .customLong("segment-rows"), help: """
        Rows per sealed segment: 0 puts all rows in one segment; N flushes every N rows. Either \
        turns background compaction off so the layout stays as asked. Default: Quiver's \
        DatabaseOptions (flush at 200 000 rows or 128 MiB, compaction on).
        """)
    var segmentRows: Int?
    @Flag(help: "Memory-map sealed segments (DatabaseOptions.memoryMapSegments) instead of reading them into memory.")
    var mmap = false
    @Option(help: "Database directory, reused by later runs with the same inputs (default: a fresh temporary directory, removed afterwards).")
    var db: String?
    @Flag(help: """
        With a reused --db: verify the whole collection (Database.verify) after opening it, so         that searches run with nothing left to verify on first read (default: vectors and links         are verified as searches first read them).
        """)
    var verify = false
    @Option(name: .customLong("result-ids"), help: "Where to write the single-query ids (.npy int64 nq×k).") var resultIDs: String?
    @Option(name: .customLong("result-distances"), help: "Where to write the single-query scores (.npy float32 nq×k, NaN where fewer than k hits).")
    var resultDistances: String?
    @Option(help: "A Milvus server's http:// or https:// URL: insert and search there instead of in an embedded database.")
    var uri: String?
    @Option(help: "The server's token (with --uri; USER:PASSWORD for Milvus's users).") var token: String?
    @Option(help: "The collection created, searched and dropped on the server (with --uri); it must not exist.")
    var collection: String = "quiver_bench"

    func validate() throws {
        guard MetricType(name: metric) != nil else { throw ValidationError("--metric must be ip, l2 or cosine") }
        guard Self.indexType(index) != nil else {
            throw ValidationError("--index must be flat, hnsw, ivf_flat, ivf_sq8, hnsw_sq or autoindex")
        }
        guard Self.fieldType(vectorType, dimension: 1) != nil else { throw ValidationError("--vector-type must be float32, float16 or bfloat16") }
        guard k >= 1, batch >= 0, warmup >= 0 else { throw ValidationError("--k must be at least 1, --batch and --warmup at least 0") }
        if let segmentRows, segmentRows < 0 { throw ValidationError("--segment-rows must be at least 0") }
        guard let params = (try? Value(json: indexParams))?.objectValue else { throw ValidationError("--index-params must be a JSON object") }
        if Self.indexType(index) == .flat && !params.isEmpty { throw ValidationError("--index flat takes no --index-params") }
        guard (try? Value(json: searchParams))?.objectValue != nil else { throw ValidationError("--search-params must be a JSON object") }
        if uri == nil {
            guard token == nil else { throw ValidationError("--token goes with --uri") }
        } else {
            let embeddedOnly = [("--db", db != nil), ("--segment-rows", segmentRows != nil), ("--mmap", mmap), ("--verify", verify),
                                ("--build-threads", buildThreads != nil), ("--threads", threads != nil)]
            let given = embeddedOnly.filter(\.1).map(\.0)
            guard given.isEmpty else { throw ValidationError("\(given.joined(separator: ", ")) set the embedded engine, not a server: leave them out with --uri") }
            guard vectorType.lowercased() == "float32" else { throw ValidationError("--uri takes --vector-type float32 only") }
        }
    }

    static func indexType(_ name: String) -> IndexType? { try? IndexType(validating: name) }

    /// --metric, --index and --index-params, parsed (``validate()`` checked them).
    func parsedIndex() throws -> (MetricType, IndexType, [String: Value]) {
        (MetricType(name: metric)!, Self.indexType(index)!, try Value(json: indexParams).objectValue ?? [:])
    }

    static func fieldType(_ name: String, dimension d: Int) -> DataType? {
        switch name.lowercased() {
        case "float32": .floatVector(dimension: d)
        case "float16": .float16Vector(dimension: d)
        case "bfloat16": .bfloat16Vector(dimension: d)
        default: nil
        }
    }

    func run() async throws {
        if let uri {
            try await runRemote(uri)
            return
        }
        // The embedded engine through its synchronous API, called from synchronous functions
        // (in an async context Swift would pick the async overloads, which hop to a work queue).
        let prepared = try prepareEmbedded()
        defer { if db == nil { try? FileManager.default.removeItem(atPath: prepared.directory) } }
        let (k, searchOptions) = (self.k, prepared.searchOptions)
        let measured: Measured
        do {
            measured = try await measure(prepared.queryMatrix) { try Self.search(prepared.database, $0, limit: k, options: searchOptions) }
        } catch {
            try? Self.close(prepared.database)
            throw error
        }
        try Self.close(prepared.database)
        let mib = 1024.0 * 1024.0
        try report(
            measured, rows: prepared.rows, dimension: prepared.queryMatrix.columns, metric: prepared.metric, index: prepared.index,
            indexParams: prepared.indexParams, searchParams: searchOptions.params, segments: prepared.segments, build: prepared.build,
            indexSizeMB: Double(Self.bytes(under: prepared.directory) { $0.hasSuffix(".qidx") }) / mib,
            dbSizeMB: Double(Self.bytes(under: prepared.directory) { $0 != RunMarker.fileName }) / mib,
            reused: prepared.reused)
    }

    /// An embedded database filled (or reused) and ready to search.
    struct EmbeddedRun {
        var database: Database
        var directory: String
        var queryMatrix: NPY.Matrix<Float>
        var rows: Int
        var metric: MetricType
        var index: IndexType
        var indexParams: String
        var searchOptions: SearchOptions
        var segments: Int
        var build: (insert: Double, flush: Double, index: Double)?
        var reused: Bool
    }

    static func search(_ database: Database, _ vectors: [[Float]], limit: Int, options: SearchOptions) throws -> [[Hit]] {
        try database.search("bench", vectors: vectors, limit: limit, outputFields: [], options: options)
    }

    static func close(_ database: Database) throws { try database.close() }

    /// Opens the database (a fresh temporary one, or --db), fills it or checks that it may be
    /// reused, and waits for its index. On an error, a temporary directory is removed.
    func prepareEmbedded() throws -> EmbeddedRun {
        let (metricType, type, buildParams) = try parsedIndex()
        let header = try NPY.readFloat32Header(base)
        let queryMatrix = try NPY.readFloat32(queries)
        let d = header.columns
        guard d == queryMatrix.columns else {
            throw ValidationError("base has \(d) dimensions, queries \(queryMatrix.columns)")
        }
        let inputs = RunMarker.Inputs(
            base: try BaseFileIdentity(path: base), metric: metricType.rawValue, vectorType: vectorType.lowercased(),
            index: type.rawValue, indexParams: Value.object(buildParams).jsonString, segmentRows: segmentRows)

        let directory = db ?? NSTemporaryDirectory() + "quiver-bench-\(ProcessInfo.processInfo.processIdentifier)"
        let reused: RunMarker?
        if db != nil {
            reused = try Self.reusable(directory, for: inputs)
        } else if FileManager.default.fileExists(atPath: directory) {
            throw ValidationError("\(directory) exists; give a fresh --db directory")
        } else {
            reused = nil
        }
        do {
            return try prepareEmbedded(in: directory, reused: reused, header: header, queryMatrix: queryMatrix, inputs: inputs)
        } catch {
            if db == nil { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
    }

    /// ``prepareEmbedded()`` once the directory is chosen: opens it, then fills it or checks its rows.
    func prepareEmbedded(
        in directory: String, reused: RunMarker?, header: NPY.Header, queryMatrix: NPY.Matrix<Float>, inputs: RunMarker.Inputs
    ) throws -> EmbeddedRun {
        let (metricType, type, buildParams) = try parsedIndex()
        let d = header.columns
        var options = DatabaseOptions()
        options.durability = .none
        options.memoryMapSegments = mmap
        if let buildThreads { options.indexBuildThreads = buildThreads }
        if let segmentRows {
            options.flushRowThreshold = segmentRows == 0 ? Int.max : segmentRows
            options.flushByteThreshold = segmentRows == 0 ? Int.max : options.flushByteThreshold
            options.autoCompaction = false
        }
        if reused != nil { options.autoCompaction = false }  // search the database as it was left

        var build: (insert: Double, flush: Double, index: Double)?
        let database: Database
        if reused != nil {
            database = try Database.open(at: directory, options: options)
            let rows = try database.collectionStats("bench").rowCount
            guard rows == header.rows else {
                throw RunMarkerMismatch("\(directory) holds \(rows) rows, \(base) has \(header.rows); give another --db directory")
            }
            if verify { try database.verify("bench") }
        } else {
            let fieldType = Self.fieldType(vectorType, dimension: d)!
            if type != .flat { try Self.checkIndexSupported(type, params: buildParams, field: fieldType, metric: metricType) }
            database = try Database.open(at: directory, options: options)
            let schema = try CollectionSchema(fields: [
                FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
                FieldSchema(name: "vector", dataType: fieldType),
            ])
            try database.createCollection("bench", schema: schema, metric: metricType)
            build = try Self.fill(database, from: base, index: type, params: buildParams)
            if db != nil {
                try RunMarker(
                    inputs: inputs, rows: header.rows, dimension: d, insertRowsPerSecond: Double(header.rows) / build!.insert,
                    flushSeconds: build!.flush, indexBuildSeconds: build!.index,
                    builtAt: ISO8601DateFormatter().string(from: Date())
                ).write(in: directory)
            }
        }
        if type != .flat {
            let described = try database.describeIndex("bench", field: "vector")
            guard described.state == .finished, described.pendingRows == 0 else {
                throw RunMarkerMismatch("the index is not finished (\(described.indexedRows) rows indexed, \(described.pendingRows) pending)")
            }
        }
        let segments = try database.collectionStats("bench").segmentCount

        var searchOptions = SearchOptions()
        searchOptions.threads = threads
        searchOptions.params = (try Value(json: searchParams)).objectValue ?? [:]
        return EmbeddedRun(
            database: database, directory: directory, queryMatrix: queryMatrix, rows: header.rows, metric: metricType,
            index: type, indexParams: inputs.indexParams, searchOptions: searchOptions, segments: segments, build: build,
            reused: reused != nil)
    }

    /// The same phases on a Milvus server: create `collection` (refused when it exists), insert
    /// in batches of 10 000, flush, create the index and wait until the server reports it built,
    /// search, drop the collection.
    func runRemote(_ uri: String) async throws {
        let (metricType, type, buildParams) = try parsedIndex()
        let baseMatrix = try NPY.readFloat32(base)
        let queryMatrix = try NPY.readFloat32(queries)
        let d = baseMatrix.columns
        guard d == queryMatrix.columns else { throw ValidationError("base has \(d) dimensions, queries \(queryMatrix.columns)") }
        var options = ConnectOptions()
        options.token = token
        let database = try await connect(uri, options: options)
        let name = collection
        do {
            guard try await !database.hasCollection(name) else {
                throw ValidationError("\(uri) already has a collection '\(name)': give another --collection (quiver-bench never drops what it did not create)")
            }
            try await database.createCollection(name, schema: try CollectionSchema(fields: [
                FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
                FieldSchema(name: "vector", dataType: .floatVector(dimension: d)),
            ]), metric: metricType)
            let build = try await Self.fill(database, name, from: baseMatrix, index: type, params: buildParams)
            let segments = try await database.collectionStats(name).segmentCount
            var searchOptions = SearchOptions()
            searchOptions.params = (try Value(json: searchParams)).objectValue ?? [:]
            let k = self.k
            let measured = try await measure(queryMatrix) { vectors in
                try await database.search(name, vectors: vectors, limit: k, outputFields: [], options: searchOptions)
            }
            try await database.dropCollection(name)
            try await database.close()
            try report(
                measured, rows: baseMatrix.rows, dimension: d, metric: metricType, index: type,
                indexParams: Value.object(buildParams).jsonString, searchParams: searchOptions.params, segments: segments,
                build: build, indexSizeMB: nil, dbSizeMB: nil, reused: false)
        } catch {
            if (try? await database.hasCollection(name)) == true, !(error is ValidationError) {
                try? await database.dropCollection(name)
            }
            try? await database.close()
            throw error
        }
    }

    /// What the search passes measured.
    struct Measured {
        /// The single-query latencies of the fastest pass, in seconds, sorted.
        var latencies: [Double]
        /// The fastest single-query pass, in seconds.
        var singleSeconds: Double
        /// The batch pass, in seconds (nil with --batch 0).
        var batchSeconds: Double?
        var queries: Int
        /// The ids and scores of the single-query pass, nq × k (-1 and NaN where fewer than k hits).
        var ids: [Int64]
        var distances: [Float]
    }

    /// The warm-up, the --passes single-query passes and the --passes batch passes, over `search` (one call
    /// with the given query vectors). Writes --result-ids and --result-distances.
    func measure(_ queryMatrix: NPY.Matrix<Float>, search: ([[Float]]) async throws -> [[Hit]]) async throws -> Measured {
        let d = queryMatrix.columns
        let queryVectors = (0..<queryMatrix.rows).map { Array(queryMatrix.values[$0 * d..<($0 + 1) * d]) }
        // ArgumentParser's property wrappers are slow to read (microseconds): read them once,
        // outside the timed loops.
        let k = self.k, batch = self.batch

        for q in queryVectors.prefix(warmup) {
            _ = try await search([q])
        }

        // Single queries: `passes` passes, the fastest reported (its latencies too), which damps
        // the noise of a shared machine the same way for every run.
        var latencies = [Double]()
        var singleSeconds = Double.infinity
        var ids = [Int64](repeating: -1, count: queryVectors.count * k)
        var distances = [Float](repeating: .nan, count: queryVectors.count * k)
        for _ in 0..<max(1, passes) {
            var passLatencies = [Double]()
            passLatencies.reserveCapacity(queryVectors.count)
            let passStart = now()
            for (i, q) in queryVectors.enumerated() {
                let t0 = now()
                let hits = try await search([q])[0]
                passLatencies.append(now() - t0)
                for (j, hit) in hits.enumerated() {
                    ids[i * k + j] = hit.id.intValue ?? -1
                    distances[i * k + j] = hit.distance
                }
            }
            let seconds = now() - passStart
            if seconds < singleSeconds {
                singleSeconds = seconds
                latencies = passLatencies
            }
        }
        latencies.sort()

        // Batches: `passes` passes too, the fastest reported.
        var batchSeconds: Double?
        if batch > 0 {
            for _ in 0..<max(1, passes) {
                let batchStart = now()
                var start = 0
                while start < queryVectors.count {
                    let end = min(start + batch, queryVectors.count)
                    _ = try await search(Array(queryVectors[start..<end]))
                    start = end
                }
                batchSeconds = min(batchSeconds ?? .infinity, now() - batchStart)
            }
        }
        if let resultIDs { try NPY.writeInt64(resultIDs, rows: queryVectors.count, columns: k, values: ids) }
        if let resultDistances { try NPY.writeFloat32(resultDistances, rows: queryVectors.count, columns: k, values: distances) }
        return Measured(
            latencies: latencies, singleSeconds: singleSeconds, batchSeconds: batchSeconds, queries: queryVectors.count,
            ids: ids, distances: distances)
    }

    /// Prints the run's one JSON object (the fields of this command's discussion).
    func report(
        _ m: Measured, rows: Int, dimension d: Int, metric metricType: MetricType, index type: IndexType, indexParams: String,
        searchParams: [String: Value], segments: Int, build: (insert: Double, flush: Double, index: Double)?,
        indexSizeMB: Double?, dbSizeMB: Double?, reused: Bool
    ) throws {
        func percentile(_ p: Double) -> Double {
            m.latencies.isEmpty ? 0 : m.latencies[min(m.latencies.count - 1, Int((Double(m.latencies.count) * p).rounded(.up)) - 1)] * 1000
        }
        func number(_ x: Double?) -> String { x.map(fmt) ?? "null" }
        let fields: [(String, String)] = [
            ("rows", "\(rows)"), ("dimension", "\(d)"), ("queries", "\(m.queries)"),
            ("metric", "\"\(metricType.rawValue)\""), ("k", "\(k)"), ("index", "\"\(type.rawValue)\""),
            ("index_params", indexParams), ("search_params", Value.object(searchParams).jsonString),
            ("vector_type", "\"\(vectorType.lowercased())\""),
            ("threads", uri == nil ? "\(threads ?? ProcessInfo.processInfo.activeProcessorCount)" : "null"), ("batch", "\(batch)"),
            ("passes", "\(max(1, passes))"), ("mmap", mmap ? "true" : "false"),
            ("segments", "\(segments)"),
            ("insert_rows_per_s", number(build.map { Double(rows) / $0.insert })), ("flush_s", number(build?.flush)),
            ("index_build_s", number(build?.index)), ("qps_single", fmt(Double(m.queries) / m.singleSeconds)),
            ("p50_ms", fmt(percentile(0.50))), ("p99_ms", fmt(percentile(0.99))),
            ("qps_batch", number(m.batchSeconds.map { Double(m.queries) / $0 })),
            ("index_size_mb", number(indexSizeMB)), ("db_size_mb", number(dbSizeMB)),
            ("reused", reused ? "true" : "false"),
            ("peak_rss_mb", fmt(peakRSSMiB())),
            ("uri", uri.map { Value.string($0).jsonString } ?? "null"),
        ]
        print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }

    /// The marker of `directory` when it may be searched as it is; nil when it is absent or empty
    /// (to be filled). Throws, naming every difference, for a directory that holds anything else.
    static func reusable(_ directory: String, for inputs: RunMarker.Inputs) throws -> RunMarker? {
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        guard !contents.isEmpty else { return nil }
        guard let marker = try RunMarker.read(in: directory) else {
            throw RunMarkerMismatch("""
                --db \(directory) is not empty and has no \(RunMarker.fileName) (not a database that quiver-bench \
                finished filling: another program's directory, or an interrupted run). quiver-bench never deletes \
                it; remove it yourself or give another --db directory.
                """)
        }
        let differences = RunMarker.differences(marker.inputs, inputs)
        guard differences.isEmpty, marker.format == RunMarker.currentFormat else {
            throw RunMarkerMismatch("""
                --db \(directory) was built from other inputs, so it cannot be reused:
                  \((differences.isEmpty ? ["marker format \(marker.format), this quiver-bench writes \(RunMarker.currentFormat)"] : differences).joined(separator: "\n  "))
                Give another --db directory, or remove this one yourself to rebuild it.
                """)
        }
        return marker
    }

    /// Fails early (before a long insert) when Quiver cannot build `type` on a field of `field`'s
    /// type, such as an approximate index on float16 vectors: tries it on an empty scratch database.
    static func checkIndexSupported(_ type: IndexType, params: [String: Value], field: DataType, metric: MetricType) throws {
        let scratch = NSTemporaryDirectory() + "quiver-bench-probe-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let probe = try Database.open(at: scratch)
        defer { try? probe.close() }
        try probe.createCollection("probe", schema: try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true), FieldSchema(name: "vector", dataType: field),
        ]), metric: metric)
        try probe.createIndex("probe", field: "vector", type: type, params: params)
    }

    /// The rows of a block of the base: ids from `first` on, one vector of `d` values each.
    static func rows(first: Int, _ values: ArraySlice<Float>, dimension d: Int) -> [Row] {
        (0..<values.count / d).map { i in
            let start = values.startIndex + i * d
            return ["id": .int(Int64(first + i)), "vector": .vector(Array(values[start..<start + d]))]
        }
    }

    /// Inserts the base in batches of 10 000 rows, flushes, then creates the index and waits for
    /// its build; returns the seconds of each step.
    static func fill(_ database: Database, from base: String, index type: IndexType, params: [String: Value])
        throws -> (insert: Double, flush: Double, index: Double)
    {
        let d = try NPY.readFloat32Header(base).columns
        let insertStart = now()
        // Streamed a block at a time, so the input file is never in memory whole.
        try NPY.forEachFloat32Block(base, batch: 10_000) { first, values in
            _ = try database.insert("bench", rows: rows(first: first, values[...], dimension: d))
        }
        let insertSeconds = now() - insertStart
        let flushStart = now()
        try database.flush("bench")
        let flushSeconds = now() - flushStart
        guard type != .flat else { return (insertSeconds, flushSeconds, 0) }
        let buildStart = now()
        try database.createIndex("bench", field: "vector", type: type, params: params)
        try database.waitForIndexBuilds("bench")
        return (insertSeconds, flushSeconds, now() - buildStart)
    }

    /// ``fill(_:from:index:params:)`` on a server: the same batches, flush, and index (waited for
    /// by polling `describeIndex` until the server reports it finished with no pending rows).
    static func fill(_ database: any VectorDatabase, _ name: String, from base: NPY.Matrix<Float>, index type: IndexType, params: [String: Value])
        async throws -> (insert: Double, flush: Double, index: Double)
    {
        let d = base.columns
        let insertStart = now()
        for first in stride(from: 0, to: base.rows, by: 10_000) {
            let end = min(first + 10_000, base.rows)
            _ = try await database.insert(name, rows: rows(first: first, base.values[first * d..<end * d], dimension: d))
        }
        let insertSeconds = now() - insertStart
        let flushStart = now()
        try await database.flush(name)
        let flushSeconds = now() - flushStart
        guard type != .flat else { return (insertSeconds, flushSeconds, 0) }
        let buildStart = now()
        try await database.createIndex(name, field: "vector", type: type, params: params)
        while true {
            let described = try await database.describeIndex(name, field: "vector")
            if described.state == .finished && described.pendingRows == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return (insertSeconds, flushSeconds, now() - buildStart)
    }

    /// Total size of the regular files below `directory` whose name passes `include`.
    static func bytes(under directory: String, where include: (String) -> Bool) -> Int {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return 0 }
        var total = 0
        while let relative = walker.nextObject() as? String {
            guard include((relative as NSString).lastPathComponent),
                  let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + relative),
                  attributes[.type] as? FileAttributeType == .typeRegular
            else { continue }
            total += (attributes[.size] as? NSNumber)?.intValue ?? 0
        }
        return total
    }
}

func fmt(_ x: Double) -> String { String(format: "%.3f", x) }

