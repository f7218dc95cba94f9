import Synchronization

/// Tells a running index build to stop: set once, by `CollectionEngine.close`, and polled by
/// the builders between units of work (an HNSW insertion, a k-means iteration, a chunk of IVF
/// assignments), so closing a database never waits for a whole build. A build that sees it set
/// returns early with an incomplete index, which its caller discards; the segment stays listed
/// without an index file and is built again at the next open.
final class BuildCancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    init() {}

    /// Asks every build polling this flag to stop.
    func cancel() { flag.store(true, ordering: .relaxed) }

    /// Whether ``cancel()`` was called.
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
}
