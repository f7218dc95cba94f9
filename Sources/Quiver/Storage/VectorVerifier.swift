import Dispatch
import Synchronization

/// Verifies one vector field of a sealed segment a group of rows at a time, the first time the
/// group is read, instead of the whole field when the segment opens (segment format version 2),
/// and in the same way an HNSW file's layer-0 links and SQ8 codes (index file version 3).
///
/// A group is `rowsPerGroup` consecutive rows (a power of two, about 4 KiB of vectors: see
/// `SegmentFormat.vectorGroupRows`); its checksum covers their vectors and their norms (for an
/// index: their link blocks and codes). An HNSW walk over a 10M-row memory-mapped segment reads a
/// few thousand rows, so checking only the groups it reads lets the first search start without
/// reading (or faulting in) gigabytes.
///
/// Every read of the vectors goes through a verifier: a graph walk or an IVF probe asks for the
/// groups of the rows it scores (`ensure(row:)`), whole-field readers (flat scans, compaction,
/// index builds) for every group (`ensureAll()`). A group whose checksum fails is recorded
/// (`damage`), never marked verified, and stays damaged; the engine checks `damage` after every
/// search and throws `.corruption` naming the file before any result computed from those rows is
/// returned.
///
/// In a mapped file the verifier's ranges are advised random (``MappedFile/advise(_:_:count:)``)
/// unless the page cache holds them whole already: a walk's page fault reads its page only,
/// where the kernel's read-around would read megabytes per fault (Benchmarks.md, "Cold reads of
/// a mapped database"); a pass over every group (``readingWhole(_:)``) switches them to
/// read-ahead while it runs, and ``warm(isCancelled:)`` reads them in and ends the random advice.
final class VectorVerifier: @unchecked Sendable {
    // @unchecked: the bits and counters are atomics; `vectors`/`norms` point into `owner`'s
    // immutable bytes, kept alive by it; `checksums` is never written after init.
    let rowsPerGroup: Int
    let groupCount: Int
    private let shift: Int
    private let rowCount: Int
    private let rowBytes: Int
    private let vectors: UnsafeRawPointer
    private let norms: UnsafeRawPointer?
    private let normBytes: Int
    private let checksums: [UInt32]
    /// What else a group must satisfy once its checksum matches (an index's link counts and
    /// targets); returns the problem, nil when none.
    private let validate: (@Sendable (Range<Int>) -> String?)?
    private let owner: MappedFile
    private let label: String
    /// One bit per group, set once the group has matched its checksum.
    private let verified: UnsafeMutablePointer<Atomic<UInt64>>
    private let wordCount: Int
    private let verifiedCount = Atomic<Int>(0)
    private let allVerified = Atomic<Bool>(false)
    /// The first group found damaged, or -1.
    private let damagedGroup = Atomic<Int>(-1)
    /// How many passes over every row (`readingWhole`) are running, and whether the rows have
    /// been read into the page cache (`warm`): the advice the ranges rest in between passes.
    private let access = Mutex((wholeReaders: 0, warmed: false))

    /// A verifier of the `rowCount` rows at `vectors` (`rowBytes` each) and their `norms`
    /// (`normBytes` each; nil for binary vectors), which `owner` keeps alive; `label` names the
    /// file and field in errors.
    init(
        vectors: UnsafeRawPointer, norms: UnsafeRawPointer?, normBytes: Int = 4, rowCount: Int, rowBytes: Int, rowsPerGroup: Int,
        checksums: [UInt32], owner: MappedFile, label: String, validate: (@Sendable (Range<Int>) -> String?)? = nil
    ) {
        precondition(rowsPerGroup > 0 && rowsPerGroup & (rowsPerGroup - 1) == 0)
        precondition(checksums.count == SegmentFormat.groupCount(rows: rowCount, rowsPerGroup: rowsPerGroup))
        self.vectors = vectors
        self.norms = norms
        self.normBytes = normBytes
        self.validate = validate
        self.rowCount = rowCount
        self.rowBytes = rowBytes
        self.rowsPerGroup = rowsPerGroup
        shift = rowsPerGroup.trailingZeroBitCount
        groupCount = checksums.count
        self.checksums = checksums
        self.owner = owner
        self.label = label
        wordCount = (groupCount + 63) / 64
        verified = .allocate(capacity: max(wordCount, 1))
        for i in 0..<wordCount { (verified + i).initialize(to: Atomic<UInt64>(0)) }
        if groupCount == 0 { allVerified.store(true, ordering: .relaxed) }
        // Ranges the page cache already holds whole (a warm open) start as warmed ones end.
        let resident = owner.isResident(vectors, count: rowCount * rowBytes)
            && norms.map { owner.isResident($0, count: rowCount * normBytes) } ?? true
        access.withLock { $0.warmed = resident }
        advise(resident ? .cached : .random)
    }

    /// Advises `owner` of how the rows (vectors and norms) will be read.
    private func advise(_ access: MappedFile.Access) {
        owner.advise(access, vectors, count: rowCount * rowBytes)
        if let norms { owner.advise(access, norms, count: rowCount * normBytes) }
    }

    /// Runs `body`, a pass that reads every row (a flat scan, `ensureAll`), with the rows'
    /// ranges read ahead as the kernel does by default, and advises them random again when the
    /// last such pass ends. (Passes overlap: the advice is counted, and changes only on the first
    /// start and the last end.) Warmed ranges rest read ahead already: a pass over them makes no
    /// system call, which spares a flat search of a warm mapped segment two `madvise`s a query.
    func readingWhole<T>(_ body: () throws -> T) rethrows -> T {
        access.withLock { a in
            if a.wholeReaders == 0 && !a.warmed { advise(.sequential) }
            a.wholeReaders += 1
        }
        defer {
            access.withLock { a in
                a.wholeReaders -= 1
                if a.wholeReaders == 0 && !a.warmed { advise(.random) }
            }
        }
        return try body()
    }

    /// Whether the rows' ranges rest warmed (read into the page cache, or found there on open).
    var isWarmed: Bool { access.withLock { $0.warmed } }

    /// The bytes of the rows' ranges (vectors and norms, or links and codes).
    var byteCount: Int { rowCount * rowBytes + (norms == nil ? 0 : rowCount * normBytes) }

    /// Reads the rows' ranges of a mapped file into the page cache (``MappedFile/warm(_:count:isCancelled:)``)
    /// unless `isCancelled()` first; then they rest advised ``MappedFile/Access/cached``, not
    /// random: a fault now finds its page cached, and huge pages spare the walk's TLB misses.
    func warm(isCancelled: () -> Bool) {
        guard owner.warm(vectors, count: rowCount * rowBytes, isCancelled: isCancelled),
            norms.map({ owner.warm($0, count: rowCount * normBytes, isCancelled: isCancelled) }) ?? true
        else { return }
        access.withLock { a in
            a.warmed = true
            advise(.cached)  // during a pass too: read-ahead as the pass has it, and huge pages
        }
    }

    deinit {
        verified.deinitialize(count: wordCount)
        verified.deallocate()
    }

    /// Whether every group has been verified (nothing left to check on reads).
    var isComplete: Bool { allVerified.load(ordering: .relaxed) }

    /// This verifier while groups are left to check, nil once every one is: what a search carries
    /// (a nil verifier lets it read without checks).
    var pending: VectorVerifier? { isComplete ? nil : self }

    /// Checks the group of `row` unless it has been checked; whether it is sound.
    @inline(__always) @discardableResult func ensure(row: Int) -> Bool {
        let g = row &>> shift
        if verified[g &>> 6].load(ordering: .relaxed) & (1 &<< UInt64(g & 63)) != 0 { return true }
        return verify(group: g)
    }

    /// Checks the groups of rows `ids[0..<n]`.
    @inline(__always) func ensure(_ ids: UnsafePointer<Int32>, _ n: Int) {
        for j in 0..<n { ensure(row: Int(ids[j])) }
    }

    /// `readingWhole` of every verifier in `verifiers` at once (a compaction reads several segments).
    static func readingWhole<T>(_ verifiers: ArraySlice<VectorVerifier>, _ body: () throws -> T) rethrows -> T {
        guard let first = verifiers.first else { return try body() }
        return try first.readingWhole { try readingWhole(verifiers.dropFirst(), body) }
    }

    /// Checks every group not yet checked, on all cores.
    func ensureAll() {
        guard !isComplete else { return }
        let workers = max(1, min(wordCount, ProcessInfo.processInfo.activeProcessorCount))
        readingWhole { DispatchQueue.concurrentPerform(iterations: workers) { w in
            var word = w
            while word < wordCount {
                var missing = ~verified[word].load(ordering: .relaxed)
                while missing != 0 {
                    let g = word * 64 + missing.trailingZeroBitCount
                    missing &= missing - 1
                    if g < groupCount { _ = verify(group: g) }
                }
                word += workers
            }
        } }
    }

    /// Checks every group not yet checked (`ensureAll`).
    ///
    /// - Throws: the `damage` found, now or earlier.
    func verifyAll() throws {
        ensureAll()
        if let damage { throw damage }
    }

    /// `.corruption` naming the file when a group failed its check, else nil.
    var damage: QuiverError? {
        let g = damagedGroup.load(ordering: .relaxed)
        guard g >= 0 else { return nil }
        let rows = (g << shift)..<min((g << shift) + rowsPerGroup, rowCount)
        if SegmentFormat.groupChecksum(vectors: vectors, norms: norms, normBytes: normBytes, rows: rows, rowBytes: rowBytes) == checksums[g],
            let problem = validate?(rows)
        {
            return QuiverError.corruption("\(label): \(problem)")
        }
        return QuiverError.corruption("\(label): rows \(rows.lowerBound)..<\(rows.upperBound) checksum mismatch")
    }

    /// Checks group `g` and marks it verified, or records it as damaged; whether it is sound.
    private func verify(group g: Int) -> Bool {
        let first = g << shift, end = min(first + rowsPerGroup, rowCount)
        guard SegmentFormat.groupChecksum(vectors: vectors, norms: norms, normBytes: normBytes, rows: first..<end, rowBytes: rowBytes) == checksums[g],
            validate?(first..<end) == nil
        else {
            _ = damagedGroup.compareExchange(expected: -1, desired: g, ordering: .relaxed)
            return false
        }
        let bit: UInt64 = 1 << UInt64(g & 63)
        if verified[g >> 6].bitwiseOr(bit, ordering: .relaxed).oldValue & bit == 0,
            verifiedCount.add(1, ordering: .relaxed).newValue == groupCount
        {
            allVerified.store(true, ordering: .relaxed)
        }
        return true
    }
}

import class Foundation.ProcessInfo
