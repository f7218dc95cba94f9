import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a collection's background work (compactions, index builds) one job at a time on a
/// thread of lower priority than the threads that call the engine, so that on a busy machine
/// the CPU goes to searches and writes first and background work takes what is left.
///
/// The thread is started when a job arrives and ends when none is left. Its priority: on Linux
/// a nice value `niceIncrement` above the process's (Linux gives each thread its own nice value,
/// and threads it starts inherit it, as HNSW's build threads do); on Darwin the `.utility`
/// quality of service. Lowering one's own priority needs no privilege; it is never raised back,
/// which is why the work runs on threads of its own rather than on Dispatch's shared workers.
final class BackgroundQueue: Sendable {
    /// How far below the process's priority the background thread runs (Linux nice steps: at 10 a
    /// busy thread gets about a tenth of the CPU time of a nice-0 thread competing for the same core).
    static let niceIncrement: Int32 = 10

    /// The threads' name (at most 15 bytes, Linux's limit).
    private let name: String
    private let jobs = Locked<(pending: [@Sendable () -> Void], running: Bool)>(([], false))

    init(name: String) {
        self.name = name
    }

    /// Queues `job` behind the jobs already queued.
    func async(_ job: @escaping @Sendable () -> Void) {
        let start = jobs.withLock { q -> Bool in
            q.pending.append(job)
            defer { q.running = true }
            return !q.running
        }
        guard start else { return }
        let thread = Thread { [self] in
            Thread.current.name = name  // set from the thread itself, so that Linux names the OS thread too
            Self.lowerPriority()
            while let next = jobs.withLock({ q -> (@Sendable () -> Void)? in
                if q.pending.isEmpty {
                    q.running = false
                    return nil
                }
                return q.pending.removeFirst()
            }) {
                next()
            }
        }
        thread.qualityOfService = .utility
        thread.start()
    }

    /// Lowers the calling thread's priority by `niceIncrement` (Linux) or to `.utility` (Darwin).
    static func lowerPriority() {
        #if canImport(Darwin)
        pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0)
        #elseif canImport(Glibc) || canImport(Musl)
        // With PRIO_PROCESS, `who` 0 is the calling thread on Linux. A failure (none is expected:
        // raising one's own nice value needs no privilege) leaves the thread at normal priority.
        #if canImport(Glibc)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        #else
        let which = PRIO_PROCESS
        #endif
        errno = 0
        let current = getpriority(which, 0)
        guard errno == 0 else { return }
        _ = setpriority(which, 0, min(current + niceIncrement, 19))
        #endif
    }
}
