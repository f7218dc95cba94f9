// Direct micro-measurement of FlatScan (no storage engine): random N×d float32 rows, k-NN for
// single queries (latency) and for a batch of queries (throughput).
//
//     swift run -c release --package-path Benchmarks flatscan-bench [N] [d] [metric] [threads] [batch] [singles] [type]
//
// `type` is float32 (default), float16 or bfloat16: the rows are stored as that type and the
// queries stay float32, as in a collection with a half-precision vector field.
import BenchSupport
import Foundation
@_spi(Benchmarks) import Quiver

let args = CommandLine.arguments
let n = args.count > 1 ? Int(args[1])! : 1_000_000
let d = args.count > 2 ? Int(args[2])! : 128
let metric = args.count > 3 ? MetricType(name: args[3])! : .ip
let threads = args.count > 4 ? Int(args[4])! : FlatScan.defaultThreads
let batch = args.count > 5 ? Int(args[5])! : 1000
let singles = args.count > 6 ? Int(args[6])! : 50
let type = args.count > 7 ? args[7] : "float32"
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
let format: Kernels.HalfFormat? = type == "float16" ? .float16 : type == "bfloat16" ? .bfloat16 : nil
if format == nil && type != "float32" { fatalError("type must be float32, float16 or bfloat16") }
let halves = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: format == nil ? 0 : n * d)
if let format {
    for i in 0..<(n * d) {
        halves[i] = format == .float16 ? Float16(vectors[i]).bitPattern : UInt16(vectors[i].bitPattern >> 16)
    }
    for r in 0..<n { norms[r] = Kernels.norm(UnsafePointer(halves.baseAddress! + r * d), d, format: format) }
}
let queries = (0..<max(batch, singles)).map { _ in (0..<d).map { _ in nextFloat() } }

@MainActor func run(_ qs: [[Float]]) -> [[ScoredRow]] {
    norms.withUnsafeBufferPointer { nb in
        if let format {
            return FlatScan.topK(queries: qs, halfVectors: UnsafeBufferPointer(halves), format: format, count: n, dimension: d,
                                 norms: nb, metric: metric, k: k, allowed: nil, threads: threads)
        }
        return FlatScan.topK(queries: qs, vectors: UnsafeBufferPointer(vectors), count: n, dimension: d,
                             norms: nb, metric: metric, k: k, allowed: nil, threads: threads)
    }
}
_ = run([queries[0]])  // warm up (page in)
var lat = [Double]()
var sink = 0
let singleCPU0 = cpuSeconds(), singleWall0 = now()
for i in 0..<singles {
    let t0 = now()
    let r = run([queries[i]])
    lat.append((now() - t0) * 1000)
    sink &+= r[0].first?.row ?? 0
}
let singleCPU = (cpuSeconds() - singleCPU0) / Double(singles) * 1000, singleWall = (now() - singleWall0) / Double(singles) * 1000
lat.sort()
let p50 = lat[lat.count / 2], p99 = lat[min(lat.count - 1, Int(Double(lat.count) * 0.99))]
var qps = 0.0, batchCPU = 0.0
if batch > 0 {
    let t0 = now(), c0 = cpuSeconds()
    let r = run(Array(queries[0..<batch]))
    qps = Double(batch) / (now() - t0)
    batchCPU = cpuSeconds() - c0
    sink &+= r[0].first?.row ?? 0
}
print("""
{"n":\(n),"d":\(d),"type":"\(type)","metric":"\(metric.rawValue)","threads":\(threads),"k":\(k),"p50_ms":\(String(format: "%.2f", p50)),"p99_ms":\(String(format: "%.2f", p99)),"single_mean_ms":\(String(format: "%.2f", singleWall)),"single_cpu_ms":\(String(format: "%.2f", singleCPU)),"batch":\(batch),"qps_batch":\(String(format: "%.1f", qps)),"batch_cpu_s":\(String(format: "%.2f", batchCPU)),"qps_per_cpu_s":\(String(format: "%.1f", Double(batch) / max(batchCPU, 1e-9))),"sink":\(sink)}
""")
