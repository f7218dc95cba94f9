// remote-bench: Quiver's Swift remote client (`RemoteDatabase`) on a Milvus-protocol server, the
// half of Benchmarks/remote_client_bench.py that is not pymilvus (that script starts the server,
// writes the vectors, runs this and pymilvus on the same data, interleaved, and prints the table).
//
//     remote-bench URI BASE.f32 QUERIES.f32 DIMENSION [BATCH] [WARMUP] [SERVER_PID]
//
// BASE and QUERIES are raw little-endian float32 row-major matrices of DIMENSION columns. In a
// fresh collection `swift_bench` (id INT64 primary, vector FLOAT_VECTOR, L2, the exact FLAT index
// RemoteDatabase makes at creation, Strong consistency) it inserts BASE in batches of BATCH rows
// (ids 0..<N), flushes, runs WARMUP searches, then each query alone (top 10, no output fields),
// and prints one JSON line: insert rows/s, search p50/p99, the client's CPU seconds per phase and,
// with SERVER_PID, the server's (from /proc/PID/stat; Linux only, else 0), and the top-1 ids.
import BenchSupport
import Foundation
import Quiver
import QuiverRemote

/// A raw float32 file as rows of `dimension`.
func readMatrix(_ path: String, dimension: Int) throws -> [[Float]] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    guard data.count % (4 * dimension) == 0 else {
        throw QuiverError(.invalidArgument, "\(path): \(data.count) bytes is not a whole number of \(dimension)-float rows")
    }
    var values = [Float](repeating: 0, count: data.count / 4)
    values.withUnsafeMutableBytes { data.copyBytes(to: $0) }
    return stride(from: 0, to: values.count, by: dimension).map { Array(values[$0..<$0 + dimension]) }
}

/// CPU seconds (user + system) of process `pid` so far, from /proc; 0 where there is no /proc.
func processCPU(_ pid: Int32?) -> Double {
    guard let pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command: state is field 3, utime and stime are fields 14 and 15 (1-based).
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

func percentile(_ samples: [Double], _ p: Double) -> Double {
    let sorted = samples.sorted()
    let rank = Int((Double(sorted.count) * p).rounded(.up)) - 1
    return sorted[min(sorted.count - 1, max(0, rank))]
}

let arguments = CommandLine.arguments
guard arguments.count >= 5, let dimension = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: remote-bench URI BASE.f32 QUERIES.f32 DIMENSION [BATCH] [WARMUP] [SERVER_PID]\n".utf8))
    exit(2)
}
let uri = arguments[1]
let batch = arguments.count > 5 ? Int(arguments[5]) ?? 1000 : 1000
let warmup = arguments.count > 6 ? Int(arguments[6]) ?? 50 : 50
let serverPID = arguments.count > 7 ? Int32(arguments[7]) : nil
let base = try readMatrix(arguments[2], dimension: dimension)
let queries = try readMatrix(arguments[3], dimension: dimension)

var options = ConnectOptions()
options.timeout = .seconds(600)
let db = try await RemoteDatabase(uri: uri, options: options)
let collection = "swift_bench"
try await db.createCollection(collection, dimension: dimension, metric: .l2)

// The rows are built before the clock starts, as the pymilvus side builds its dicts first.
let batches: [[Row]] = stride(from: 0, to: base.count, by: batch).map { start in
    (start..<min(start + batch, base.count)).map { ["id": .int(Int64($0)), "vector": .vector(base[$0])] }
}
var (cpu0, server0, wall0) = (cpuSeconds(), processCPU(serverPID), now())
for rows in batches { _ = try await db.insert(collection, rows: rows) }
let insert = (wall: now() - wall0, client: cpuSeconds() - cpu0, server: processCPU(serverPID) - server0)

try await db.flush(collection)
for query in queries.prefix(warmup) { _ = try await db.search(collection, vectors: [query], limit: 10) }
var latencies = [Double]()
var top1 = [Int64]()
(cpu0, server0, wall0) = (cpuSeconds(), processCPU(serverPID), now())
for query in queries {
    let start = now()
    let hits = try await db.search(collection, vectors: [query], limit: 10)
    latencies.append(now() - start)
    top1.append(hits[0].first?.id.intValue ?? -1)
}
let search = (wall: now() - wall0, client: cpuSeconds() - cpu0, server: processCPU(serverPID) - server0)
let count = try await db.query(collection, outputFields: ["count(*)"]).first?["count(*)"]?.intValue ?? -1
try await db.dropCollection(collection)
try await db.close()

let result: [String: Any] = [
    "client": "swift", "rows": base.count, "count": count, "batch": batch, "queries": queries.count,
    "insert_rows_per_s": Double(base.count) / insert.wall, "insert_s": insert.wall,
    "insert_client_cpu_s": insert.client, "insert_server_cpu_s": insert.server,
    "search_p50_ms": percentile(latencies, 0.5) * 1e3, "search_p99_ms": percentile(latencies, 0.99) * 1e3,
    "search_qps": Double(queries.count) / search.wall,
    "search_client_cpu_ms": search.client / Double(queries.count) * 1e3,
    "search_server_cpu_ms": search.server / Double(queries.count) * 1e3,
    "top1": top1,
]
print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
