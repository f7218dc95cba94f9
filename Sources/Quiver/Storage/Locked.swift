import Foundation

/// A value guarded by a lock, with `Mutex`'s `withLock` shape.
///
/// Backed by `NSLock` (a pthread mutex) rather than `Synchronization.Mutex`: on Linux, `Mutex`
/// waits with raw futex calls that ThreadSanitizer cannot see, so every access it protects is
/// reported as a race and `swift test --sanitize=thread` becomes useless. pthread mutexes are
/// intercepted by TSan and cost the same when uncontended.
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched inside `withLock`, under `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
