// Helpers shared by the benchmark executables.
import Dispatch
import Foundation

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
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024  // KiB on Linux
}
