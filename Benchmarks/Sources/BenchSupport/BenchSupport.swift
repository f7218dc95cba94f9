// Helpers shared by the benchmark executables.
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic seconds.
public func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Peak RSS in MiB: VmHWM from /proc/self/status (Linux), else `ru_maxrss`. On Linux `ru_maxrss`
/// keeps the parent's high-water mark across fork+exec, so under a Python driver it reported the
/// driver's memory.
public func peakRSSMiB() -> Double {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
       let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
        return kb / 1024
    }
    let usage = selfUsage()
    #if canImport(Darwin)
    return Double(usage.ru_maxrss) / (1024 * 1024)  // bytes on Darwin
    #else
    return Double(usage.ru_maxrss) / 1024  // KiB on Linux
    #endif
}

/// CPU seconds used by the process (user + system): on a shared machine, wall time ÷ CPU time
/// shows how much of the requested parallelism a run actually got.
public func cpuSeconds() -> Double {
    let u = selfUsage()
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

/// `getrusage(RUSAGE_SELF)`, which Glibc declares with an enum argument and Musl and Darwin with an int.
private func selfUsage() -> rusage {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #elseif canImport(Musl) || canImport(Darwin)
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return usage
}

/// SplitMix64: a seeded generator, so benchmark data is the same on every run.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
