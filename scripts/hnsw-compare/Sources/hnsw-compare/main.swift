// Builds Quiver's HNSW over `base.f32` and measures single-thread search against `gt.i32`
// (files written by make-data.py). Usage: hnsw-compare M efConstruction threads [ef,ef,...]
// Environment: HNSW_COMPARE_DATA (data folder, default /tmp/hnsw-compare), REUSE=1 (load the
// index saved by an earlier run instead of building), REPS (passes over the ef list).
import Dispatch
import Foundation
@_spi(Benchmarks) @testable import Quiver

func load<T>(_ path: String, as: T.Type) -> [T] {
    guard let data = FileManager.default.contents(atPath: path) else { fatalError("cannot read \(path); run make-data.py") }
    return data.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
}
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func cpu(_ clock: clockid_t) -> Double {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let args = CommandLine.arguments
guard args.count >= 4, let m = Int(args[1]), let efC = Int(args[2]), let threads = Int(args[3]) else {
    fatalError("usage: hnsw-compare M efConstruction threads [ef,ef,...]")
}
let efs = args.count > 4 ? args[4].split(separator: ",").map { Int($0)! } : [10, 16, 32, 64, 128, 256]
let env = ProcessInfo.processInfo.environment
let dir = (env["HNSW_COMPARE_DATA"] ?? "/tmp/hnsw-compare") + "/"
let d = 128, k = 10
let base = load(dir + "base.f32", as: Float.self)
let flatQueries = load(dir + "query.f32", as: Float.self)
let truth = load(dir + "gt.i32", as: Int32.self)
let n = base.count / d, nq = flatQueries.count / d
let queries = (0..<nq).map { Array(flatQueries[($0 * d)..<($0 * d + d)]) }
let norms = base.withUnsafeBufferPointer { b in (0..<n).map { Kernels.norm(b.baseAddress! + $0 * d, d) } }

withExtendedLifetime((base, norms)) {
    let space = base.withUnsafeBufferPointer { v in
        norms.withUnsafeBufferPointer { VectorSpace(vectors: v, norms: $0, count: n, dimension: d, metric: .l2) }
    }
    let saved = dir + "quiver-\(m)-\(efC).qidx"
    var wall = now(), cpuStart = cpu(CLOCK_PROCESS_CPUTIME_ID)
    let index: HNSWIndex
    if env["REUSE"] != nil, let data = FileManager.default.contents(atPath: saved),
       case .hnsw(let h) = try! IndexFile.decode([UInt8](data), path: saved, segmentID: 1, rows: n, dimension: d, metric: .l2) {
        index = h
        print(String(format: "quiver load %@: %.3f s", saved, now() - wall))
    } else {
        index = HNSWIndex.build(space: space, m: m, efConstruction: efC, quantize: false, threads: threads)
        print(String(format: "quiver  build M=%d efC=%d threads=%d: %.2f s wall, %.2f s cpu", m, efC, threads,
                     now() - wall, cpu(CLOCK_PROCESS_CPUTIME_ID) - cpuStart))
        _ = FileManager.default.createFile(atPath: saved, contents: Data(IndexFile.encode(.hnsw(index), segmentID: 1, metric: .l2)))
    }
    for q in queries { _ = index.search(q, space: space, k: k, ef: k, allowed: nil) }  // warm-up, untimed
    for _ in 0..<(Int(env["REPS"] ?? "") ?? 1) {
        for ef in efs {
            var results = [[ScoredRow]]()
            results.reserveCapacity(nq)
            wall = now()
            cpuStart = cpu(CLOCK_THREAD_CPUTIME_ID)
            for q in queries { results.append(index.search(q, space: space, k: k, ef: max(ef, k), allowed: nil)) }
            let elapsed = now() - wall, busy = cpu(CLOCK_THREAD_CPUTIME_ID) - cpuStart
            var hits = 0
            for (i, r) in results.enumerated() {
                let want = Set(truth[(i * k)..<(i * k + k)].map { Int($0) })
                hits += r.filter { want.contains($0.row) }.count
            }
            print(String(format: "quiver  ef=%4d recall@10 %.4f QPS wall %8.0f cpu %8.0f", ef, Double(hits) / Double(nq * k),
                         Double(nq) / elapsed, Double(nq) / busy))
        }
    }
}
