// bm25-bench: Quiver's BM25 full-text search on given documents and queries, for
// Benchmarks/bm25_compare.py (which runs it beside tantivy, bm25s and an exact numpy BM25).
//
//     swift build -c release --package-path Benchmarks --product bm25-bench
//     Benchmarks/.build/release/bm25-bench --docs DOCS.txt --queries QUERIES.txt --out OUT.json [--passes 3]
//         [--db DIR] [--hybrid DIM [--rounds 7]]
//
// DOCS.txt: one document per line, its tokens joined by single spaces (document i is line i and
// gets primary key i); QUERIES.txt: one query per line, the same way. The collection is what an
// app makes for full-text search: `id` (INT64 primary key), `text` (VARCHAR, analyzer
// `{"tokenizer": "whitespace"}`, so Quiver indexes exactly the given tokens) and `sparse`, the
// output of a BM25 function of `text`; default `DatabaseOptions`; rows inserted in batches of
// 10,000 columns, then `flush`, then `SPARSE_INVERTED_INDEX` with `bm25_k1` 1.2 and `bm25_b`
// 0.75 (what Milvus's full-text search guide creates) and `waitForIndexBuilds`.
//
// Without --hybrid, prints and writes one JSON object: build seconds (insert, flush, index, the
// first search, which inverts each segment's column once, and their sum), the database's size
// on disk, queries per second with one query per call on 1 thread and on 2 threads (two
// threads each calling `search` for the next query of a shared counter), best of --passes, and
// each query's top 10 primary keys.
//
// With --hybrid DIM the collection also has a DIM-dimensional `dense` FLOAT_VECTOR of seeded
// random unit vectors (COSINE, no index: exact search, the default) and each query gets a random
// unit vector; per query, one thread, one query per call: the dense search alone (limit 10), the
// BM25 search alone (limit 10), both of them one after the other ("both"), and `hybridSearch`
// of the two fused by RRF (k 60, limit 10). The four are timed over all queries in each of --rounds rounds, the order rotating each round;
// reported: mean milliseconds per query for each in every round, wall clock and process CPU time
// (user + system: on a shared machine, time the process was not running is left out), their
// medians, the ratio hybrid / (dense + BM25) of the medians, and hybrid / both.
import BenchSupport
import Dispatch
import Foundation
import Quiver
import Synchronization

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

var arguments: [String: String] = [:]
var argv = CommandLine.arguments.dropFirst()
while let key = argv.popFirst() {
    guard key.hasPrefix("--"), let value = argv.popFirst() else { fail("usage: bm25-bench --docs F --queries F --out F [--passes N] [--db DIR] [--hybrid DIM] [--rounds N]") }
    arguments[String(key.dropFirst(2))] = value
}
guard let docsPath = arguments["docs"], let queriesPath = arguments["queries"], let outPath = arguments["out"] else {
    fail("--docs, --queries and --out are required")
}
let passes = Int(arguments["passes"] ?? "3") ?? 3
let hybridDimension = arguments["hybrid"].flatMap { Int($0) }
let rounds = Int(arguments["rounds"] ?? "7") ?? 7

func lines(_ path: String) throws -> [String] {
    var out = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
    if out.last == "" { out.removeLast() }
    return out
}

func directorySize(_ path: String) -> Int {
    guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total = 0
    for case let name as String in walker {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)
        if attributes?[.type] as? FileAttributeType == .typeRegular { total += (attributes?[.size] as? Int) ?? 0 }
    }
    return total
}

/// Seeded random unit vectors.
func unitVectors(_ count: Int, _ d: Int, seed: UInt64) -> [Float] {
    var g = SplitMix64(seed: seed)
    var out = [Float](repeating: 0, count: count * d)
    for i in 0..<count {
        var norm: Float = 0
        for j in 0..<d {
            let x = Float(g.next() >> 40) / Float(1 << 24) - 0.5
            out[i * d + j] = x
            norm += x * x
        }
        let scale = 1 / norm.squareRoot()
        for j in 0..<d { out[i * d + j] *= scale }
    }
    return out
}

let docs = try lines(docsPath)
let queries = try lines(queriesPath)
let directory = arguments["db"] ?? NSTemporaryDirectory() + "bm25-bench-\(ProcessInfo.processInfo.processIdentifier)"
try? FileManager.default.removeItem(atPath: directory)
defer { if arguments["db"] == nil { try? FileManager.default.removeItem(atPath: directory) } }

var fields = [
    FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
    FieldSchema(name: "text", dataType: .varchar(maxLength: 65_535), enableAnalyzer: true, analyzerParams: ["tokenizer": "whitespace"]),
    FieldSchema(name: "sparse", dataType: .sparseFloatVector),
]
if let d = hybridDimension { fields.append(FieldSchema(name: "dense", dataType: .floatVector(dimension: d))) }
let schema = try CollectionSchema(
    fields: fields, functions: [FunctionSchema(name: "bm25", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"])])

let db = try Database.open(at: directory, options: DatabaseOptions())
try db.createCollection("docs", schema: schema, metric: .cosine)
// Quiver must see exactly the tokens it was given.
let sample = Array(docs.prefix(200))
if try db.analyze("docs", field: "text", texts: sample).map({ $0.map(\.text) }) != sample.map({ $0.split(separator: " ").map(String.init) }) {
    fail("the whitespace analyzer does not return the given tokens")
}
let vectors = hybridDimension.map { unitVectors(docs.count, $0, seed: 18) }

var start = now()
var next = 0
while next < docs.count {
    let end = min(docs.count, next + 10_000)
    var columns: [String: FieldColumn] = [
        "id": FieldColumn(.int64((next..<end).map(Int64.init))),
        "text": FieldColumn(.string(Array(docs[next..<end]))),
    ]
    if let d = hybridDimension, let vectors {
        columns["dense"] = FieldColumn(.floatVectors(Array(vectors[(next * d)..<(end * d)]), dimension: d))
    }
    _ = try db.insert("docs", columns: ColumnBatch(columns))
    next = end
}
let insertSeconds = now() - start
start = now()
try db.flush("docs")
let flushSeconds = now() - start
start = now()
try db.createIndex("docs", field: "sparse", type: .sparseInvertedIndex, params: ["bm25_k1": 1.2, "bm25_b": 0.75])
try db.waitForIndexBuilds("docs")
let indexSeconds = now() - start
start = now()
_ = try db.search("docs", texts: [queries.first ?? "x"], limit: 10, annsField: "sparse")
let firstSearchSeconds = now() - start
let stats = try db.collectionStats("docs")

let bm25: @Sendable (String) throws -> [Hit] = { q in try db.search("docs", texts: [q], limit: 10, annsField: "sparse")[0] }

var result: [String: Any] = [
    "documents": docs.count, "queries": queries.count, "segments": stats.segmentCount,
    "insert_s": insertSeconds, "flush_s": flushSeconds, "index_s": indexSeconds, "first_search_s": firstSearchSeconds,
    "build_s": insertSeconds + flushSeconds + indexSeconds + firstSearchSeconds, "size_bytes": directorySize(directory),
]

if let d = hybridDimension {
    let queryVectors = unitVectors(queries.count, d, seed: 1818)
    func dense(_ i: Int) -> SearchRequest {
        SearchRequest(queries: .vectors([Array(queryVectors[(i * d)..<((i + 1) * d)])]), limit: 10, annsField: "dense")
    }
    func text(_ i: Int) -> SearchRequest { SearchRequest(queries: .texts([queries[i]]), limit: 10, annsField: "sparse") }
    var one = SearchOptions()
    one.threads = 1
    let phases: [(String, (Int) throws -> Int)] = [
        ("dense", { i in var r = dense(i); r.options = one; return try db.search("docs", r)[0].count }),
        ("bm25", { i in try db.search("docs", text(i))[0].count }),
        // The two searches one after the other per query, as separate calls: what the hybrid
        // does before fusing, with each search's caches cooled by the other's.
        ("both", { i in
            var r = dense(i)
            r.options = one
            return try db.search("docs", r)[0].count + db.search("docs", text(i))[0].count
        }),
        ("hybrid", { i in
            var r = dense(i)
            r.options = one
            return try db.hybridSearch("docs", requests: [r, text(i)], ranker: .rrf(), limit: 10)[0].count
        }),
    ]
    var perRound: [String: [Double]] = [:]
    var cpuPerRound: [String: [Double]] = [:]
    var sink = 0
    for round in 0..<rounds {
        for p in 0..<phases.count {
            let (name, run) = phases[(p + round) % phases.count]
            let t = now(), cpu = cpuSeconds()
            for i in queries.indices { sink &+= try run(i) }
            perRound[name, default: []].append((now() - t) * 1000 / Double(queries.count))
            cpuPerRound[name, default: []].append((cpuSeconds() - cpu) * 1000 / Double(queries.count))
        }
    }
    func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
    let medians = perRound.mapValues(median), cpuMedians = cpuPerRound.mapValues(median)
    result["hybrid"] = [
        "dimension": d, "rounds": rounds, "ms_per_query": perRound, "median_ms": medians,
        "ratio": medians["hybrid"]! / (medians["dense"]! + medians["bm25"]!),
        "cpu_ms_per_query": cpuPerRound, "median_cpu_ms": cpuMedians,
        "cpu_ratio": cpuMedians["hybrid"]! / (cpuMedians["dense"]! + cpuMedians["bm25"]!),
        "ratio_to_both": medians["hybrid"]! / medians["both"]!, "hits": sink,
    ] as [String: Any]
} else {
    result["tops"] = try queries.map { q in try bm25(q).map { $0.id.intValue! } }
    var qps: [String: Double] = [:]
    for threads in [1, 2] {
        var best = Double.infinity
        for _ in 0..<passes {
            let counter = Atomic<Int>(0)
            let failures = Atomic<Int>(0)
            let t = now()
            if threads == 1 {
                for q in queries { _ = try bm25(q) }
            } else {
                DispatchQueue.concurrentPerform(iterations: threads) { _ in
                    while true {
                        let i = counter.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard i < queries.count else { return }
                        do { _ = try bm25(queries[i]) } catch { failures.wrappingAdd(1, ordering: .relaxed) }
                    }
                }
            }
            best = min(best, now() - t)
            if failures.load(ordering: .relaxed) > 0 { fail("a search failed") }
        }
        qps[String(threads)] = Double(queries.count) / best
    }
    result["qps"] = qps
}
try db.close()
let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
try json.write(to: URL(fileURLWithPath: outPath))
var summary = result
summary["tops"] = nil
print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
