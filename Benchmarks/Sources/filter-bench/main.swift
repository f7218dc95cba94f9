// Filter evaluation throughput through the public API, on a growing and on a sealed segment.
//
//     swift run -c release --package-path Benchmarks filter-bench [rows]
//
// Each filter is run as `query(outputFields: ["count(*)"])`, so the time is compiling (a cache
// hit after the first run) plus evaluating over every row plus counting. Reports the median
// of 7 runs and nanoseconds per row. On the sealed segment it also times filtered top-10
// searches (64-dimensional vectors, one query at a time, median of 21).
import Foundation
import Quiver

let rows = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 200_000
let dir = FileManager.default.temporaryDirectory.path + "/quiver-filter-bench-" + UUID().uuidString
defer { try? FileManager.default.removeItem(atPath: dir) }

var options = DatabaseOptions()
options.durability = .none
options.flushRowThreshold = rows + 1
options.logHandler = { _, _ in }
let db = try Database.open(at: dir, options: options)
let schema = try CollectionSchema(
    fields: [
        FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
        FieldSchema(name: "vector", dataType: .floatVector(dimension: 64)),
        FieldSchema(name: "age", dataType: .int32, nullable: true),
        FieldSchema(name: "price", dataType: .float),
        FieldSchema(name: "color", dataType: .varchar(maxLength: 16)),
        FieldSchema(name: "meta", dataType: .json),
        FieldSchema(name: "tags", dataType: .array(elementType: .varchar(maxLength: 8), maxCapacity: 4)),
    ],
    enableDynamicField: true)
try db.createCollection("bench", schema: schema, metric: .l2)

// Deterministic data: `age` grows with the row number (so block statistics can prune),
// `price` is pseudo-random.
let colors = ["red", "blue", "green", "yellow", "purple"]
struct LCG {
    var state: UInt64 = 42
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
}
var lcg = LCG()
func randomVector(_ g: inout LCG) -> [Float] { (0..<64).map { _ in Float(g.next() % 2001) / 1000 - 1 } }
var batch = [Row]()
for i in 0..<rows {
    batch.append([
        "id": .int(Int64(i)), "vector": .vector(randomVector(&lcg)),
        "age": i % 17 == 0 ? .null : .int(Int64(i * 100 / rows)),
        "price": .double(Double(lcg.next() % 100_000) / 100),
        "color": .string(colors[i % 5] + String(i % 100)),
        "meta": ["lang": i % 3 == 0 ? "en" : "fr", "n": .int(Int64(i % 100))],
        "tags": [.string(colors[i % 5]), .string(colors[(i / 5) % 5])],
        "city": .string(i % 2 == 0 ? "paris" : "rome"),
    ])
    if batch.count == 10_000 {
        _ = try db.insert("bench", rows: batch)
        batch.removeAll(keepingCapacity: true)
    }
}
if !batch.isEmpty { _ = try db.insert("bench", rows: batch) }

let filters: [(String, [String: Value])] = [
    ("age > 50", [:]),
    ("age == 7", [:]),
    ("10 <= age < 20", [:]),
    ("price < 10.5", [:]),
    ("age > 10 and price < 500", [:]),
    ("age in [1, 5, 90]", [:]),
    ("age % 7 == 0", [:]),
    ("not (age > 50) or price > 900", [:]),
    ("age is null", [:]),
    (#"color == "blue1""#, [:]),
    (#"color like "red1%""#, [:]),
    (#"color like "%9""#, [:]),
    (#"color in ["red1", "blue2", "green3"]"#, [:]),
    (#"meta["lang"] == "en""#, [:]),
    (#"meta["n"] > 50"#, [:]),
    (#"city == "paris""#, [:]),
    (#"array_contains(tags, "red")"#, [:]),
    ("age > {a} and color in {c}", ["a": 40, "c": ["red1", "blue1"]]),
    (#"color in ["red0", "blue1", "green2", "red5"] and price > 100 and meta["lang"] == "en""#, [:]),
]

func searchTimes() throws {
    var g = LCG(state: 7)
    print("\nfiltered top-10 search, sealed segment, one 64-d query at a time (median of 21)")
    let cases: [(String, [String: Value])] = [
        ("", [:]),
        ("age > 50", [:]),
        (#"color in ["red0", "blue1", "green2", "red5"] and price > 100 and meta["lang"] == "en""#, [:]),
        ("age == 7", [:]),
    ]
    for (text, params) in cases {
        var times = [Double]()
        var hits = 0
        for _ in 0..<21 {
            let q = randomVector(&g)
            let start = ContinuousClock.now
            let r = try db.search("bench", vectors: [q], limit: 10, filter: text, filterParams: params)
            let d = ContinuousClock.now - start
            times.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15)
            hits = r[0].count
        }
        times.sort()
        print((text.isEmpty ? "(no filter)" : text).padding(toLength: 90, withPad: " ", startingAt: 0),
              "hits \(hits)", String(format: "median %8.3f ms", times[10]))
    }
}

func measure(_ label: String) throws {
    print("\n\(label): \(rows) rows")
    print("filter".padding(toLength: 44, withPad: " ", startingAt: 0), "matches".padding(toLength: 9, withPad: " ", startingAt: 0), "median ms", "ns/row")
    for (text, params) in filters {
        var times = [Double]()
        var count: Int64 = 0
        for _ in 0..<7 {
            let start = ContinuousClock.now
            let r = try db.query("bench", filter: text, filterParams: params, outputFields: ["count(*)"])
            let d = ContinuousClock.now - start
            times.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15)
            count = r[0]["count(*)"]?.intValue ?? -1
        }
        times.sort()
        let ms = times[3]
        print(text.padding(toLength: 44, withPad: " ", startingAt: 0),
              String(count).padding(toLength: 9, withPad: " ", startingAt: 0),
              String(format: "%9.3f", ms), String(format: "%6.1f", ms * 1e6 / Double(rows)))
    }
}

try measure("growing segment")
try db.flush("bench")
try measure("sealed segment (block statistics)")
try searchTimes()
try db.close()
