// Search latency while a writer writes continuously (with the flushes and compactions that
// brings), against the same searches on an idle collection (issue 17, "Contention").
//
//     swift run -c release --package-path Benchmarks contention-bench [rows] [dimension] [searches] [searchThreads] [flushRows] [rounds] [writerRowsPerSecond]
//
// Defaults: 1,000,000 × 128 float32, 300 single-query exact (FLAT, L2, top 10) searches per
// phase, 1 search thread (the writer gets the other core), a flush every 100,000 rows, 3 rounds.
// The collection is loaded in batches of 10,000 and compacted to one segment. Each round runs an
// idle phase (the searches alone, after background work has finished) and then a loaded phase
// (the same searches while a writer thread upserts batches of 1,000 rows with keys drawn at
// random from the existing ones: `.batched` durability, flushes at `flushRows`, background
// compaction on with the default policy: deleted-ratio rewrites first, then size tiers). The
// writer goes as fast as it can, or, given `writerRowsPerSecond`, at that pace (it sleeps after a
// batch that is ahead of it): a flat-out writer on a 2-core machine takes a core from the
// searches, so the paced one measures what the engine makes a reader wait for.
// Upserting existing keys keeps the live row count constant, so a search has the same rows to
// rank idle and loaded; the replaced rows are deleted rows of their segments until a compaction
// drops them.
//
// Reported per phase: p50, p99 and max of the searches' wall time, p50/p99 of the searching
// thread's own CPU time (wall minus CPU is time off the CPU: a lock wait, or waiting for a core),
// and for a loaded phase the writer's rows per second, its call latency, and the flushes and
// compactions that completed during the phase (seen through `stats()`). At the end: the p99
// ratio loaded / idle per round and over all rounds pooled.
//
// Built with `-Xswiftc -DQUIVER_LOCK_STATS` (into its own scratch path), the engine also prints
// at exit each lock call site's wait and hold times (see Sources/Quiver/Storage/Locked.swift).
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
    return s[min(s.count - 1, max(0, Int((Double(s.count) * p).rounded(.up)) - 1))]
}

func ms(_ x: Double) -> String { String(format: "%.1f", x * 1000) }

/// A value shared with the writer thread.
final class Shared<T: Sendable>: @unchecked Sendable {
    // @unchecked: `stored` is only touched under `lock`.
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

/// What the writer did during one loaded phase.
struct WriterReport: Sendable {
    var rows = 0
    var seconds = 0.0
    var calls = [Double]()
    var flushes = 0
    var compactions = 0
}

struct Phase {
    var wall: [Double]
    var cpu: [Double]
}

func describe(_ label: String, _ p: Phase) -> String {
    "\(label): wall p50 \(ms(percentile(p.wall, 0.5))) ms, p99 \(ms(percentile(p.wall, 0.99))) ms, max \(ms(p.wall.max()!)) ms; "
        + "search-thread CPU p50 \(ms(percentile(p.cpu, 0.5))) ms, p99 \(ms(percentile(p.cpu, 0.99))) ms"
}

/// Waits until the process has used less than 2% of a core for half a second: no compaction
/// or flush is still running from the previous phase (at most `limit` seconds).
func waitForQuiescence(limit: Double = 300) {
    let start = now()
    while now() - start < limit {
        let c0 = cpuSeconds()
        Thread.sleep(forTimeInterval: 0.5)
        if cpuSeconds() - c0 < 0.01 { return }
    }
    print("(background work still running after \(Int(limit)) s)")
}

/// The rows a search scans, deleted ones included: the sealed segments' vector bytes (their file
/// sizes, which are nearly all vectors) over the bytes of a row's vector, plus the growing rows.
func scannedRows(_ dir: String, d: Int, growing: Int) -> Int {
    let files = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".qseg") } ?? []
    let bytes = files.reduce(0) { total, name in
        total + ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int) ?? 0)
    }
    return bytes / (d * 4) + growing
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

func run(rows: Int, d: Int, searches: Int, searchThreads: Int, flushRows: Int, rounds: Int, writerRowsPerSecond: Int) throws {
    let dir = FileManager.default.temporaryDirectory.path + "/contention-bench-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var options = DatabaseOptions()
    options.durability = .batched
    options.flushRowThreshold = flushRows
    options.searchThreads = searchThreads
    let db = try Database.open(at: dir, options: options)
    try db.createCollection("c", dimension: d, metric: .l2)
    let c = try db.collection("c")
    var rng = SplitMix64(seed: 42)
    let loadStart = now()
    for start in stride(from: 0, to: rows, by: 10_000) {
        let batch = (start..<min(rows, start + 10_000)).map { ["id": .int(Int64($0)), "vector": .vector(randomVector(d, &rng))] as Row }
        _ = try c.insert(batch)
    }
    try c.flush()
    repeat {  // a background compaction still running makes `compact` a no-op
        waitForQuiescence()
        try c.compact()
    } while try c.stats().segmentCount > 1
    print("loaded \(rows) × \(d) in \(String(format: "%.1f", now() - loadStart)) s; segments: \(try c.stats().segmentCount); "
        + "load average \(loadAverage())")
    let queries = (0..<searches).map { _ in randomVector(d, &rng) }

    func measure() throws -> Phase {
        var p = Phase(wall: [], cpu: [])
        for q in queries {
            let t0 = now(), c0 = threadCPU()
            let hits = try c.search([q], limit: 10)
            p.wall.append(now() - t0)
            p.cpu.append(threadCPU() - c0)
            precondition(hits[0].count == 10)
        }
        return p
    }

    /// Runs `measure` while a writer upserts random existing keys.
    func measureLoaded(seed: UInt64) throws -> (Phase, WriterReport) {
        let stop = Shared(false)
        let report = Shared(WriterReport())
        let writerDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            var rng = SplitMix64(seed: seed)
            var r = WriterReport()
            var last = try! c.stats()
            let start = now()
            while !stop.value {
                let batch = (0..<1000).map { _ in Int64.random(in: 0..<Int64(rows), using: &rng) }
                let rowsOut = Set(batch).map { ["id": .int($0), "vector": .vector(randomVector(d, &rng))] as Row }
                let t0 = now()
                do { _ = try c.upsert(rowsOut) } catch { fatalError("writer: \(error)") }
                r.calls.append(now() - t0)
                r.rows += rowsOut.count
                if writerRowsPerSecond > 0 {
                    let ahead = start + Double(r.rows) / Double(writerRowsPerSecond) - now()
                    if ahead > 0 { Thread.sleep(forTimeInterval: ahead) }
                }
                // A flush empties the growing segment and adds a segment; a compaction of k
                // segments removes k - 1 (k ≥ 2), so any shortfall is a compaction.
                let stats = try! c.stats()
                let flushed = stats.growingRowCount < last.growingRowCount ? 1 : 0
                r.flushes += flushed
                if stats.segmentCount < last.segmentCount + flushed { r.compactions += 1 }
                last = stats
            }
            r.seconds = now() - start
            report.value = r
            writerDone.signal()
        }
        Thread.sleep(forTimeInterval: 0.5)
        let phase = try measure()
        stop.value = true
        writerDone.wait()
        return (phase, report.value)
    }

    _ = try measure()  // warm-up
    var idle = [Phase](), loaded = [Phase]()
    for round in 1...rounds {
        waitForQuiescence()
        let before = try c.stats()
        let i = try measure()
        print(describe("round \(round) idle", i) + "; segments \(before.segmentCount), growing \(before.growingRowCount), "
            + "≈ \(scannedRows(dir, d: d, growing: before.growingRowCount)) rows scanned; load average \(loadAverage())")
        let (l, w) = try measureLoaded(seed: UInt64(round))
        let after = try c.stats()
        print(describe("round \(round) under load", l) + "; load average \(loadAverage())")
        print("  writer: \(w.rows) rows upserted in \(String(format: "%.1f", w.seconds)) s (\(Int(Double(w.rows) / w.seconds)) rows/s), "
            + "call p50 \(ms(percentile(w.calls, 0.5))) ms, p99 \(ms(percentile(w.calls, 0.99))) ms, max \(ms(w.calls.max()!)) ms; "
            + "\(w.flushes) flushes, \(w.compactions) compactions completed; live rows \(after.rowCount), "
            + "segments \(before.segmentCount) → \(after.segmentCount), ≈ \(scannedRows(dir, d: d, growing: after.growingRowCount)) rows scanned at the end")
        print(String(format: "  p99 under load / p99 idle = %.2f (wall), %.2f (CPU)",
                     percentile(l.wall, 0.99) / percentile(i.wall, 0.99), percentile(l.cpu, 0.99) / percentile(i.cpu, 0.99)))
        idle.append(i)
        loaded.append(l)
    }
    let allIdle = Phase(wall: idle.flatMap(\.wall), cpu: idle.flatMap(\.cpu))
    let allLoaded = Phase(wall: loaded.flatMap(\.wall), cpu: loaded.flatMap(\.cpu))
    print(describe("all rounds idle", allIdle))
    print(describe("all rounds under load", allLoaded))
    print(String(format: "all rounds: p99 under load / p99 idle = %.2f (wall), %.2f (CPU); p50 %.2f (wall)",
                 percentile(allLoaded.wall, 0.99) / percentile(allIdle.wall, 0.99),
                 percentile(allLoaded.cpu, 0.99) / percentile(allIdle.cpu, 0.99),
                 percentile(allLoaded.wall, 0.5) / percentile(allIdle.wall, 0.5)))
    try db.close()
}

let args = CommandLine.arguments.dropFirst().map { Int($0) }
let arg = { (i: Int, fallback: Int) in i < args.count ? args[i] ?? fallback : fallback }
try run(rows: arg(0, 1_000_000), d: arg(1, 128), searches: arg(2, 300), searchThreads: arg(3, 1), flushRows: arg(4, 100_000),
        rounds: arg(5, 3), writerRowsPerSecond: arg(6, 0))
