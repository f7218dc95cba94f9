import Synchronization

/// The filesystem seam's fault injection: tests register faults for paths under a directory, and
/// the storage layer's file operations fail there as a real disk would.
///
/// Faults are keyed by path prefix, so tests running in parallel on different directories do
/// not disturb each other. With no fault registered the check is one atomic load.
public final class FaultInjector: Sendable {
    /// The operations that can fail.
    public enum Operation: String, Sendable {
        /// `write(2)`: fails with the given errno; with `partial`, after writing half the bytes.
        case write
        /// `fsync(2)` of a file or directory.
        case fsync
        /// `rename(2)`.
        case rename
        /// `open(2)` for writing.
        case open
        /// `ftruncate(2)` (the cut that undoes a failed WAL append).
        case truncate
        /// Re-pointing the primary-key index at the rows of a flushed or compacted segment (memory
        /// work, no system call; the path is the new segment's): only a fault's `onFire` runs, its
        /// `errno` is ignored. Tests stall it to show that readers do not wait for it.
        case repoint
        /// A write's append to a copy of the growing segment, made when appending in place would
        /// copy the rows stored so far (memory work, no system call; the path is the collection's
        /// directory): only a fault's `onFire` runs. Tests stall it to show that readers do not
        /// wait for it.
        case append
    }

    /// One registered fault.
    public struct Fault: Sendable {
        /// The fault applies to files whose path starts with this (a test's temporary directory).
        public var pathPrefix: String
        /// The operation that fails.
        public var operation: Operation
        /// The `errno` the failing call reports, e.g. `EIO` or `ENOSPC`.
        public var errno: Int32
        /// For `.write`: write half of the bytes before failing (a short write).
        public var partial: Bool
        /// Matching calls to let through before failing.
        public var skip: Int
        /// How many times to fail (then the fault is removed).
        public var times: Int
        /// Run when the fault fires, before the call fails; with `errno` 0 the call then goes on
        /// normally. A test stalls an I/O call this way (the block waits on a semaphore).
        public var onFire: (@Sendable () -> Void)?

        /// A fault that fails `operation` under `pathPrefix` with `errno`, once by default; with
        /// `onFire`, that block runs first (and with `errno` 0 the call then succeeds).
        public init(
            pathPrefix: String, operation: Operation, errno: Int32, partial: Bool = false, skip: Int = 0, times: Int = 1,
            onFire: (@Sendable () -> Void)? = nil
        ) {
            self.pathPrefix = pathPrefix
            self.operation = operation
            self.errno = errno
            self.partial = partial
            self.skip = skip
            self.times = times
            self.onFire = onFire
        }
    }

    /// The injector the storage layer consults; tests register faults here.
    public static let shared = FaultInjector()

    private let faults = Locked<[Fault]>([])
    private let active = Atomic<Bool>(false)

    /// Registers `fault`; it applies from the next matching call.
    public func add(_ fault: Fault) {
        faults.withLock { $0.append(fault) }
        active.store(true, ordering: .releasing)
    }

    /// Removes every fault under `pathPrefix`.
    public func removeAll(under pathPrefix: String) {
        faults.withLock { list in
            list.removeAll { $0.pathPrefix.hasPrefix(pathPrefix) }
            active.store(!list.isEmpty, ordering: .releasing)
        }
    }

    /// Runs the `onFire` of the fault for `operation` on `path`, if one fires now: a point where
    /// tests can stall memory work (`.repoint`).
    func stall(_ operation: Operation, path: String) {
        _ = fire(operation, path: path)
    }

    /// The fault that fires now for `operation` on `path`, if any (consuming one use of it),
    /// after running its `onFire`; `nil` also when that fault's `errno` is 0.
    func fire(_ operation: Operation, path: String) -> Fault? {
        guard active.load(ordering: .acquiring) else { return nil }
        let fault = faults.withLock { list -> Fault? in
            guard let i = list.firstIndex(where: { $0.operation == operation && path.hasPrefix($0.pathPrefix) }) else { return nil }
            if list[i].skip > 0 {
                list[i].skip -= 1
                return nil
            }
            let fault = list[i]
            list[i].times -= 1
            if list[i].times <= 0 { list.remove(at: i) }
            active.store(!list.isEmpty, ordering: .releasing)
            return fault
        }
        fault?.onFire?()
        return fault?.errno == 0 ? nil : fault
    }
}
