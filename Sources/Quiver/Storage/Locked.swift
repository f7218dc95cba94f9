import Foundation

/// A value guarded by a lock, with `Mutex`'s `withLock` shape.
///
/// Backed by `NSLock` (a pthread mutex) rather than `Synchronization.Mutex`: on Linux, `Mutex`
/// waits with raw futex calls that ThreadSanitizer cannot see, so every access it protects is
/// reported as a race and `swift test --sanitize=thread` becomes useless. pthread mutexes are
/// intercepted by TSan and cost the same when uncontended.
///
/// Built with `-Xswiftc -DQUIVER_LOCK_STATS` (benchmarks only), every `withLock` records how
/// long it waited for the lock and how long it held it, per call site, and the process prints
/// the sites with the longest waits and holds when it exits (see `LockStatistics`).
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched inside `withLock`, under `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    #if QUIVER_LOCK_STATS
    func withLock<R, E: Error>(
        file: StaticString = #fileID, line: UInt = #line, _ body: (inout Value) throws(E) -> R
    ) throws(E) -> R {
        let start = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        let acquired = DispatchTime.now().uptimeNanoseconds
        defer {
            let released = DispatchTime.now().uptimeNanoseconds
            lock.unlock()
            // `writeLock` (the one `Locked<Void>`) is held across I/O by design and never taken by readers.
            if Value.self != Void.self { LockStatistics.record(site: "\(file):\(line)", wait: acquired - start, hold: released - acquired) }
        }
        return try body(&value)
    }
    #else
    func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
    #endif
}

#if QUIVER_LOCK_STATS
/// Wait and hold times of `Locked.withLock` per call site, printed to standard error at exit.
/// Only in builds with `QUIVER_LOCK_STATS` (the contention benchmark's diagnosis build).
enum LockStatistics {
    struct Site {
        var count = 0
        var waitTotal: UInt64 = 0
        var waitMax: UInt64 = 0
        var waitsOver1ms = 0
        var holdTotal: UInt64 = 0
        var holdMax: UInt64 = 0
        var holdsOver1ms = 0
    }

    nonisolated(unsafe) private static var sites: [String: Site] = [:]  // under `mutex`
    private static let mutex = NSLock()
    private static let registered: Bool = {
        atexit { LockStatistics.report() }
        return true
    }()

    static func record(site: String, wait: UInt64, hold: UInt64) {
        _ = registered
        mutex.lock()
        defer { mutex.unlock() }
        var s = sites[site, default: Site()]
        s.count += 1
        s.waitTotal += wait
        s.waitMax = max(s.waitMax, wait)
        if wait > 1_000_000 { s.waitsOver1ms += 1 }
        s.holdTotal += hold
        s.holdMax = max(s.holdMax, hold)
        if hold > 1_000_000 { s.holdsOver1ms += 1 }
        sites[site] = s
    }

    static func report() {
        mutex.lock()
        let all = sites
        mutex.unlock()
        func ms(_ ns: UInt64) -> String { String(format: "%.2f", Double(ns) / 1e6) }
        func line(_ name: String, _ s: Site) -> String {
            "  \(name): \(s.count) calls; wait total \(ms(s.waitTotal)) ms, max \(ms(s.waitMax)) ms, >1 ms \(s.waitsOver1ms); "
                + "hold total \(ms(s.holdTotal)) ms, max \(ms(s.holdMax)) ms, >1 ms \(s.holdsOver1ms)\n"
        }
        var out = "lock statistics (QUIVER_LOCK_STATS), by longest hold:\n"
        for (name, s) in all.sorted(by: { $0.value.holdMax > $1.value.holdMax }).prefix(20) { out += line(name, s) }
        out += "by longest wait:\n"
        for (name, s) in all.sorted(by: { $0.value.waitMax > $1.value.waitMax }).prefix(10) { out += line(name, s) }
        FileHandle.standardError.write(Data(out.utf8))
    }
}
#endif
