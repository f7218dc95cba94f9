// open-bench: the cost of opening a database of many collections, and of the first query of one.
//
//     swift run -c release --package-path Benchmarks open-bench create DIR [collections] [rows] [dim] [hnsw]
//         writes DIR: `collections` collections c0, c1, … of `rows` rows each (id, a `dim`-d vector
//         of seeded random floats, L2), flushed and compacted; defaults 100 × 100,000 × 128; with
//         `hnsw`, an HNSW index (M 16, efConstruction 200) built on each.
//     swift run -c release --package-path Benchmarks open-bench measure DIR [collection] [mmap]
//         in this fresh process: Database.open (with `mmap`: `memoryMapSegments`), then one search
//         of `collection` (default c42),
//         then a second search, then 2,000 single queries; prints one JSON line with the seconds of
//         each step, the queries per second of the 2,000, the CPU seconds and the peak RSS. Drop the page cache first for a cold run
//         (`sync; echo 3 > /proc/sys/vm/drop_caches`).
//
// The first search includes loading the collection when the engine loads collections on demand,
// and only the search when `Database.open` loads every collection.
import BenchSupport
import Foundation
import Quiver

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

func create(_ path: String, collections: Int, rows: Int, dim: Int, hnsw: Bool = false) throws {
    var options = DatabaseOptions()
    options.durability = .none
    let db = try Database.open(at: path, options: options)
    var g = SplitMix64(seed: 42)
    let start = now()
    for c in 0..<collections {
        let name = "c\(c)"
        try db.createCollection(name, dimension: dim, metric: .l2)
        var next = 0
        while next < rows {
            let n = min(10_000, rows - next)
            let batch: [Row] = (next..<(next + n)).map { i in
                ["id": .int(Int64(i)), "vector": .vector((0..<dim).map { _ in Float(g.next() >> 40) / Float(1 << 24) })]
            }
            _ = try db.insert(name, rows: batch)
            next += n
        }
        try db.flush(name)
        try db.compact(name)
        if hnsw {
            try db.createIndex(name, field: "vector", type: .hnsw, params: ["M": 16, "efConstruction": 200])
            try db.waitForIndexBuilds(name)
        }
        try db.releaseCollection(name)  // bounds the memory of `create` (engines that have it)
        FileHandle.standardError.write(Data("\(name): \(rows) rows, \(String(format: "%.0f", now() - start)) s\n".utf8))
    }
    try db.close()
}

func measure(_ path: String, collection: String, mapped: Bool) throws {
    var g = SplitMix64(seed: 7)
    let query = [(0..<128).map { _ in Float(g.next() >> 40) / Float(1 << 24) }]
    let t0 = now()
    var options = DatabaseOptions()
    options.memoryMapSegments = mapped
    let db = try Database.open(at: path, options: options)
    let t1 = now()
    let dim = try db.describeCollection(collection).schema.vectorFields[0].dataType.dimension!
    let q = [Array(query[0].prefix(dim)) + [Float](repeating: 0.5, count: max(0, dim - 128))]
    let first = try db.search(collection, vectors: q, limit: 10)
    let t2 = now()
    let second = try db.search(collection, vectors: q, limit: 10)
    let t3 = now()
    precondition(first == second && first[0].count == 10)
    // Then 2,000 more single queries (seeded, one per call), once the collection is warm: the
    // steady-state rate of the layout the open left (mapped or in memory).
    let more = (0..<2000).map { _ in [(0..<dim).map { _ in Float(g.next() >> 40) / Float(1 << 24) }] }
    let t4 = now()
    for v in more { _ = try db.search(collection, vectors: v, limit: 10) }
    let qps = Double(more.count) / (now() - t4)
    let collections = try db.listCollections().count
    try db.close()
    print(String(format: #"{"collections": %d, "mapped": \#(mapped), "open_s": %.4f, "first_query_s": %.4f, "open_to_first_result_s": %.4f, "second_query_s": %.5f, "single_query_qps": %.0f, "cpu_s": %.2f, "peak_rss_mib": %.0f}"#,
                 collections, t1 - t0, t2 - t1, t2 - t0, t3 - t2, qps, cpuSeconds(), peakRSSMiB()))
}

let args = CommandLine.arguments
guard args.count >= 3 else { fail("usage: open-bench create DIR [collections] [rows] [dim] | measure DIR [collection] [mmap]") }
do {
    switch args[1] {
    case "create":
        func int(_ i: Int, _ fallback: Int) -> Int {
            guard args.count > i else { return fallback }
            guard let v = Int(args[i]) else { fail("'\(args[i])' is not a number") }
            return v
        }
        let (n, rows, dim) = (int(3, 100), int(4, 100_000), int(5, 128))
        guard args.count <= 6 || args[6] == "hnsw" else { fail("unknown option '\(args[6])' (hnsw builds an HNSW index, M 16, efConstruction 200)") }
        try create(args[2], collections: n, rows: rows, dim: dim, hnsw: args.count > 6)
    case "measure":
        guard args.count <= 4 || args[4] == "mmap" else { fail("unknown option '\(args[4])' (mmap maps the segments)") }
        try measure(args[2], collection: args.count > 3 ? args[3] : "c42", mapped: args.count > 4)
    default:
        fail("unknown mode '\(args[1])'")
    }
} catch {
    fail("open-bench: \(error)")
}
