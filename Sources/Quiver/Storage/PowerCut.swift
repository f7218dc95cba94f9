import Synchronization

/// The filesystem seam's power-cut recorder: while a test records a directory tree, every call
/// that changes it (`mkdir`, `open` with `O_CREAT`, `write`, `ftruncate`, `fsync` of a file or a
/// directory, `rename`, `unlink`, `rmdir`) is appended, in order, to that tree's trace.
///
/// The trace is what a simulated disk needs to compute what a power cut after any call would
/// leave (the tests' `SimulatedDisk`, in the manner of leveldb's fault-injection environment):
/// per file the bytes that were fsynced, per directory the entries an fsync of it made durable.
/// Recordings are keyed by root directory, so tests running in parallel on different directories
/// do not disturb each other. With nothing recorded the check is one atomic load.
final class PowerCutRecorder: Sendable {
    /// One recorded system call. Paths are absolute; a file's data calls name the handle its
    /// `open` returned, as the kernel's calls name a descriptor.
    enum Event: Sendable, Equatable {
        case mkdir(String)
        case rmdir(String)
        /// `open(path, O_CREAT | (truncate ? O_TRUNC : O_APPEND))`.
        case open(path: String, handle: Int, truncate: Bool)
        /// `write(handle, bytes)` at byte `offset` (what actually reached the file).
        case write(handle: Int, offset: Int, bytes: [UInt8])
        case truncate(handle: Int, length: Int)
        case fsync(handle: Int)
        case fsyncDirectory(String)
        case rename(String, String)
        case unlink(String)
    }

    static let shared = PowerCutRecorder()

    private let traces = Locked<[String: [Event]]>([:])
    private let active = Atomic<Bool>(false)
    private let handles = Atomic<Int>(0)

    /// Starts recording the calls on `root` and everything under it.
    func start(root: String) {
        traces.withLock { $0[root] = [] }
        active.store(true, ordering: .releasing)
    }

    /// Stops recording `root`; returns its trace.
    func stop(root: String) -> [Event] {
        traces.withLock { t in
            defer { active.store(!t.isEmpty, ordering: .releasing) }
            return t.removeValue(forKey: root) ?? []
        }
    }

    /// How many calls on `root` have been recorded so far.
    func count(root: String) -> Int {
        traces.withLock { $0[root]?.count ?? 0 }
    }

    /// A fresh handle for an opened file.
    func newHandle() -> Int {
        handles.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Records `event` when `path` lies under a recorded root.
    func record(_ event: @autoclosure () -> Event, path: String) {
        guard active.load(ordering: .acquiring) else { return }
        traces.withLock { t in
            for root in t.keys where path == root || path.hasPrefix(root + "/") {
                t[root]!.append(event())
            }
        }
    }
}
