// Direct micro-measurement of FlatScan (no storage engine): random N×d float32 rows, k-NN for
// single queries (latency) and for a batch of queries (throughput).
//
//     swift run -c release --package-path Benchmarks flatscan-bench [N] [d] [metric] [threads] [batch] [singles]
//
// Add the AVX2/FMA flags from Benchmarks/Package.swift for the fast x86-64 code path.
import Foundation
@_spi(Benchmarks) import Quiver

let args = CommandLine.arguments
let n = args.count > 1 ? Int(args[1])! : 1_000_000
let d = args.count > 2 ? Int(args[2])! : 128
let metric = args.count > 3 ? MetricType(name: args[3])! : .ip
let threads = args.count > 4 ? Int(args[4])! : FlatScan.defaultThreads
let batch = args.count > 5 ? Int(args[5])! : 1000
let singles = args.count > 6 ? Int(args[6])! : 50
let k = 10

var state: UInt64 = 0x9E37_79B9_7F4A_7C15
@MainActor @inline(__always) func nextFloat() -> Float {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
}
let vectors = UnsafeMutableBufferPointer<Float>.allocate(capacity: n * d)
for i in 0..<(n * d) { vectors[i] = nextFloat() }
var norms = [Float](repeating: 0, count: n)
for r in 0..<n { norms[r] = Kernels.norm(vectors.baseAddress! + r * d, d) }
let queries = (0..<max(batch, singles)).map { _ in (0..<d).map { _ in nextFloat() } }

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
@MainActor func run(_ qs: [[Float]]) -> [[ScoredRow]] {
    norms.withUnsafeBufferPointer { nb in
        FlatScan.topK(queries: qs, vectors: UnsafeBufferPointer(vectors), count: n, dimension: d,
                      norms: nb, metric: metric, k: k, allowed: nil, threads: threads)
    }
}
_ = run([queries[0]])  // warm up (page in)
var lat = [Double]()
var sink = 0
for i in 0..<singles {
    let t0 = now()
    let r = run([queries[i]])
    lat.append((now() - t0) * 1000)
    sink &+= r[0].first?.row ?? 0
}
lat.sort()
let p50 = lat[lat.count / 2], p99 = lat[min(lat.count - 1, Int(Double(lat.count) * 0.99))]
var qps = 0.0
if batch > 0 {
    let t0 = now()
    let r = run(Array(queries[0..<batch]))
    qps = Double(batch) / (now() - t0)
    sink &+= r[0].first?.row ?? 0
}
print("""
{"n":\(n),"d":\(d),"metric":"\(metric.rawValue)","threads":\(threads),"k":\(k),"p50_ms":\(String(format: "%.2f", p50)),"p99_ms":\(String(format: "%.2f", p99)),"batch":\(batch),"qps_batch":\(String(format: "%.1f", qps)),"sink":\(sink)}
""")
