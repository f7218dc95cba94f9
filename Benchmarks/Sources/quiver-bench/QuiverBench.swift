// quiver-bench: end-to-end benchmark through Quiver's public API.
//
//     swift run -c release --package-path Benchmarks quiver-bench search \
//         --base BASE.npy --queries Q.npy --metric ip --k 10 --threads 2 --batch 1000 --result-ids OUT.npy
//
// Inserts BASE into a fresh database (batches of 10 000 rows, then flush), runs every query
// alone (latency p50/p99), then in batches of --batch, and prints one JSON object. The ids of the
// single-query pass go to --result-ids (int64, nq × k, -1 where fewer than k hits).
import ArgumentParser
import Foundation
import Quiver

@main
struct QuiverBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiver-bench", abstract: "Benchmarks Quiver through its public API.",
        subcommands: [Search.self])
}

struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Insert, flush, and search; print one JSON object.")

    @Option(help: "Base vectors: float32 .npy, N×d, C order.") var base: String
    @Option(help: "Query vectors: float32 .npy, nq×d, C order.") var queries: String
    @Option(help: "ip, l2 or cosine.") var metric: String
    @Option(help: "Results per query.") var k: Int = 10
    @Option(help: "Index type (only flat: exact search).") var index: String = "flat"
    @Option(name: .customLong("index-params"), help: "Index parameters as JSON (unused by flat).") var indexParams: String = "{}"
    @Option(name: .customLong("search-params"), help: "Search parameters as JSON (passed as SearchOptions.params).") var searchParams: String = "{}"
    @Option(help: "Search threads (default: all cores).") var threads: Int?
    @Option(help: "Queries per batch in the batch pass.") var batch: Int = 1000
    @Option(help: "Database directory (default: a fresh temporary directory, removed afterwards).") var db: String?
    @Option(name: .customLong("result-ids"), help: "Where to write the single-query ids (.npy int64 nq×k).") var resultIDs: String

    func validate() throws {
        guard MetricType(name: metric) != nil else { throw ValidationError("--metric must be ip, l2 or cosine") }
        guard index.lowercased() == "flat" else { throw ValidationError("only --index flat is available") }
        guard k >= 1, batch >= 1 else { throw ValidationError("--k and --batch must be at least 1") }
        guard (try? Value(json: indexParams))?.objectValue != nil else { throw ValidationError("--index-params must be a JSON object") }
        guard (try? Value(json: searchParams))?.objectValue != nil else { throw ValidationError("--search-params must be a JSON object") }
    }

    func run() throws {
        let metricType = MetricType(name: metric)!
        let baseMatrix = try NPY.readFloat32(base)
        let queryMatrix = try NPY.readFloat32(queries)
        guard baseMatrix.columns == queryMatrix.columns else {
            throw ValidationError("base has \(baseMatrix.columns) dimensions, queries \(queryMatrix.columns)")
        }
        let d = baseMatrix.columns
        let directory = db ?? NSTemporaryDirectory() + "quiver-bench-\(ProcessInfo.processInfo.processIdentifier)"
        if FileManager.default.fileExists(atPath: directory) {
            throw ValidationError("\(directory) exists; give a fresh --db directory")
        }
        defer { if db == nil { try? FileManager.default.removeItem(atPath: directory) } }

        var options = DatabaseOptions()
        options.durability = .none
        let database = try Database.open(at: directory, options: options)
        try database.createCollection("bench", dimension: d, metric: metricType)

        // Insert in batches of 10 000 rows, then flush.
        let insertStart = now()
        var row = 0
        while row < baseMatrix.rows {
            let end = min(row + 10_000, baseMatrix.rows)
            let rows: [Row] = (row..<end).map { i in
                ["id": .int(Int64(i)), "vector": .vector(Array(baseMatrix.values[i * d..<(i + 1) * d]))]
            }
            _ = try database.insert(into: "bench", rows: rows)
            row = end
        }
        let insertSeconds = now() - insertStart
        let flushStart = now()
        try database.flush("bench")
        let flushSeconds = now() - flushStart

        var searchOptions = SearchOptions()
        searchOptions.threads = threads
        searchOptions.params = (try Value(json: searchParams)).objectValue ?? [:]
        let queryVectors = (0..<queryMatrix.rows).map { Array(queryMatrix.values[$0 * d..<($0 + 1) * d]) }

        // Single queries.
        var latencies = [Double]()
        var ids = [Int64](repeating: -1, count: queryVectors.count * k)
        let singleStart = now()
        for (i, q) in queryVectors.enumerated() {
            let t0 = now()
            let hits = try database.search("bench", vectors: [q], limit: k, outputFields: [], options: searchOptions)[0]
            latencies.append(now() - t0)
            for (j, hit) in hits.enumerated() { ids[i * k + j] = hit.id.intValue ?? -1 }
        }
        let singleSeconds = now() - singleStart
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)] * 1000
        }

        // Batches.
        let batchStart = now()
        var start = 0
        while start < queryVectors.count {
            let end = min(start + batch, queryVectors.count)
            _ = try database.search("bench", vectors: Array(queryVectors[start..<end]), limit: k, outputFields: [], options: searchOptions)
            start = end
        }
        let batchSeconds = now() - batchStart
        try database.close()
        try NPY.writeInt64(resultIDs, rows: queryVectors.count, columns: k, values: ids)

        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        let fields: [(String, String)] = [
            ("rows", "\(baseMatrix.rows)"), ("dimension", "\(d)"), ("queries", "\(queryVectors.count)"),
            ("metric", "\"\(metricType.rawValue)\""), ("k", "\(k)"), ("index", "\"flat\""),
            ("threads", "\(threads ?? ProcessInfo.processInfo.activeProcessorCount)"), ("batch", "\(batch)"),
            ("insert_rows_per_s", fmt(Double(baseMatrix.rows) / insertSeconds)), ("flush_s", fmt(flushSeconds)),
            ("index_build_s", "0"), ("qps_single", fmt(Double(queryVectors.count) / singleSeconds)),
            ("p50_ms", fmt(percentile(0.50))), ("p99_ms", fmt(percentile(0.99))),
            ("qps_batch", fmt(Double(queryVectors.count) / batchSeconds)),
            ("peak_rss_mb", fmt(Double(usage.ru_maxrss) / 1024)),  // ru_maxrss is in KiB on Linux
        ]
        print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func fmt(_ x: Double) -> String { String(format: "%.3f", x) }
