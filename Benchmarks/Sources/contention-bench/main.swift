// Search latency while a writer inserts continuously (with the flushes and compactions that
// brings), against the same searches on an idle collection (issue 17, "Contention").
//
//     swift run -c release --package-path Benchmarks contention-bench [rows] [dimension] [searches] [searchThreads] [flushRows]
//
// Defaults: 1,000,000 × 128 float32, 300 single-query exact (FLAT) searches per phase, 1 search
// thread (the writer gets the other core), a flush every 100,000 rows. The collection is loaded
// in batches of 10,000 and compacted to one segment; then the idle phase runs the searches alone,
// and the loaded phase runs the same searches while a writer thread inserts batches of 1,000 new
// rows (`.batched` durability, background size-tiered compaction on). Reported per phase: p50,
// p99 and max of wall time, and p50/p99 of the searching thread's CPU time (the gap is time off
// the CPU: waiting for a lock, or for a core on a shared machine).
import BenchSupport
import Foundation
import Quiver

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU seconds of the calling thread.
func threadCPU() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func randomVector(_ d: Int, _ g: inout SplitMix64) -> [Float] { (0..<d).map { _ in Float.random(in: -1...1, using: &g) } }

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s[min(s.count - 1, Int((Double(s.count) * p).rounded(.up)) - 1)]
}

func ms(_ x: Double) -> String { String(format: "%.1f", x * 1000) }

/// A value shared with the writer thread.
final class Shared<T: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

func run(rows: Int, d: Int, searches: Int, searchThreads: Int, flushRows: Int) throws {
    let dir = FileManager.default.temporaryDirectory.path + "/contention-bench-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var options = DatabaseOptions()
    options.durability = .batched
    options.flushRowThreshold = flushRows
    options.searchThreads = searchThreads
    let db = try Database.open(at: dir, options: options)
    try db.createCollection("c", dimension: d, metric: .l2)
    var rng = SplitMix64(seed: 42)
    let loadStart = now()
    for start in stride(from: 0, to: rows, by: 10_000) {
        let batch = (start..<min(rows, start + 10_000)).map { ["id": .int(Int64($0)), "vector": .vector(randomVector(d, &rng))] as Row }
        _ = try db.insert("c", rows: batch)
    }
    try db.flush("c")
    try db.compact("c")
    print("loaded \(rows) × \(d) in \(String(format: "%.1f", now() - loadStart)) s; segments: \(try db.collectionStats("c").segmentCount)")
    let queries = (0..<searches).map { _ in randomVector(d, &rng) }

    func measure(_ label: String) throws -> (wall: [Double], cpu: [Double]) {
        var wall = [Double](), cpu = [Double]()
        for q in queries {
            let t0 = now(), c0 = threadCPU()
            let hits = try db.search("c", vectors: [q], limit: 10)
            wall.append(now() - t0)
            cpu.append(threadCPU() - c0)
            precondition(hits[0].count == 10)
        }
        print("\(label): wall p50 \(ms(percentile(wall, 0.5))) ms, p99 \(ms(percentile(wall, 0.99))) ms, max \(ms(wall.max()!)) ms; "
            + "search-thread CPU p50 \(ms(percentile(cpu, 0.5))) ms, p99 \(ms(percentile(cpu, 0.99))) ms")
        return (wall, cpu)
    }

    _ = try measure("warm-up")
    let idle = try measure("idle")

    // The writer: new rows in batches of 1,000 until the searches are done.
    let stop = Shared(false)
    let written = Shared(0)
    let writerDone = DispatchSemaphore(value: 0)
    let segmentsBefore = try db.collectionStats("c").segmentCount
    Thread.detachNewThread {
        var rng = SplitMix64(seed: 7)
        var next = rows
        while !stop.value {
            let batch = (next..<next + 1000).map { ["id": .int(Int64($0)), "vector": .vector(randomVector(d, &rng))] as Row }
            do { _ = try db.insert("c", rows: batch) } catch { fatalError("writer: \(error)") }
            next += 1000
        }
        written.value = next - rows
        writerDone.signal()
    }
    Thread.sleep(forTimeInterval: 0.5)
    let loadedStart = now()
    let loaded = try measure("under load")
    stop.value = true
    writerDone.wait()
    let seconds = now() - loadedStart
    let stats = try db.collectionStats("c")
    print("writer: \(written.value) rows in \(String(format: "%.1f", seconds)) s (\(Int(Double(written.value) / seconds)) rows/s), "
        + "≈ \(written.value / flushRows) flushes; sealed segments \(segmentsBefore) → \(stats.segmentCount) (fewer than 1 + flushes when compactions ran)")
    print(String(format: "p99 under load / p99 idle = %.2f (wall), %.2f (CPU)",
                 percentile(loaded.wall, 0.99) / percentile(idle.wall, 0.99), percentile(loaded.cpu, 0.99) / percentile(idle.cpu, 0.99)))
    try db.close()
}

let args = CommandLine.arguments.dropFirst().map { Int($0) }
let arg = { (i: Int, fallback: Int) in i < args.count ? args[i] ?? fallback : fallback }
try run(rows: arg(0, 1_000_000), d: arg(1, 128), searches: arg(2, 300), searchThreads: arg(3, 1), flushRows: arg(4, 100_000))
