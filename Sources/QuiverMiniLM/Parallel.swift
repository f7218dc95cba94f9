import Dispatch
import Foundation
import Synchronization

/// Runs work items on a bounded number of threads with dynamic scheduling.
enum Parallel {
    /// The number of threads `embed` uses when the caller does not say.
    static var defaultThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Calls `body(i)` for every `i` in `0..<count`, on at most `threads` threads.
    ///
    /// Items are handed out one at a time from a shared counter, so a thread slowed down by
    /// other processes on the machine takes fewer items.
    static func forEach(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        if threads <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        let next = Atomic<Int>(0)
        withoutActuallyEscaping(body) { body in
            // The items write disjoint memory through pointers the caller keeps alive for the
            // duration of this call; the box only carries the closure across the Sendable boundary.
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if i >= count { return }
                    box.value(i)
                }
            }
        }
    }
}

/// Carries a value the caller has made safe to share (see the call site) into a `@Sendable` closure.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
