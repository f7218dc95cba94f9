import Dispatch
import Synchronization
import class Foundation.ProcessInfo

/// Where a live row is: segment id 0 is the growing segment.
struct RowLocation: Sendable, Hashable {
    var segment: UInt64
    var row: Int32
    static let growing: UInt64 = 0
}

/// A consistent read view: the sealed segments with their delete bitmaps and a frozen copy
/// of the growing segment. Readers work on it without holding any lock.
struct Snapshot: Sendable {
    let schema: CollectionSchema
    let metric: MetricType
    let sealed: [SealedSegment]
    let sealedDeletes: [Bitset]
    /// The number of set bits of each of `sealedDeletes` (so a search over a segment without
    /// deletes does no work proportional to its rows before the scan).
    let sealedDeleteCounts: [Int]
    /// The partition of each of `sealed`.
    let sealedPartitions: [UInt64]
    let growing: GrowingSegment
    /// Ready indexes by sealed segment id and vector field name.
    var indexes: [UInt64: [String: SegmentIndex]] = [:]
    var indexDefinitions: [IndexDefinition] = []
}

/// The storage engine of one collection: the WAL, the growing segment, the sealed segments,
/// the manifest and the primary-key index.
///
/// Two locks, always taken in this order:
/// - `writeLock` serializes every change of the state (writes, flushes, the switches of
///   compactions and index builds, close) and is held across their I/O: the WAL append and
///   fsync, a flush's files, a manifest switch.
/// - `state`'s lock guards the in-memory state and is held only for memory work: a writer
///   holding `writeLock` reads what it needs, does its I/O without `state`'s lock, then takes it
///   again to apply the result. Readers take only `state`'s lock, to copy a `Snapshot`, so they
///   never wait for a disk — except the first get by key after open, which takes `writeLock`
///   once to build the primary-key index (`ensurePrimaryKeyIndexForReading`).
/// The state changes only while both are held (see `serialized`).
final class CollectionEngine: Sendable {
    let id: UInt64
    let directory: String
    let schema: CollectionSchema
    let metric: MetricType
    let options: DatabaseOptions
    let state: Locked<State>
    /// Serializes the changes of `state`; held across their I/O (see the type's comment).
    let writeLock = Locked<Void>(())
    /// Entered by running compactions; `close` waits for it.
    let compactionGroup = DispatchGroup()
    /// Entered by scheduled index builds; `close` cancels the running one and waits for it.
    let indexGroup = DispatchGroup()
    /// The warm-up of a mapped collection after its first search (`warmInBackground`).
    let warmGroup = DispatchGroup()
    private let warmStarted = Atomic<Bool>(false)
    /// Set by `close`: the running index build stops early and is discarded (built again at the next open).
    let buildCancellation = BuildCancellation()
    /// The BM25 postings of sealed segments (see `CollectionEngine+BM25.swift`).
    let bm25Cache = BM25PostingsCache()
    /// Index builds run one at a time, off the caller's thread, below its priority.
    let indexQueue = BackgroundQueue(name: "quiver.index")
    /// Background compactions run here, below the callers' priority.
    let compactionQueue = BackgroundQueue(name: "quiver.compact")

    struct State {
        var manifest: Manifest
        var sealed: [SealedSegment] = []
        var sealedDeletes: [Bitset] = []
        /// `sealedDeletes[i].cardinality`, kept up to date by every change of `sealedDeletes`.
        var sealedDeleteCounts: [Int] = []
        var segmentIndex: [UInt64: Int] = [:]
        /// Sealed segments whose deletes changed since the manifest was written.
        var dirtyDeletes: Set<UInt64> = []
        var growing: GrowingSegment
        /// The live keys; empty until `pkIndexBuilt` (see `ensurePrimaryKeyIndex`).
        var pkIndex = PrimaryKeyIndex()
        /// Whether `pkIndex` holds the live keys. False from open until a write, a get or a WAL
        /// replay needs it (searches never do; building it is ~1 s per 10M keys); while false,
        /// the growing segment is empty.
        var pkIndexBuilt = false
        var lastSequence: UInt64 = 0
        var wal: WALWriter?
        var closed = false
        /// The segments of the compaction between its first and last step (empty when none is).
        var compactingSegments: Set<UInt64> = []
        var compacting: Bool { !compactingSegments.isEmpty }
        /// An explicit flush or an index creation asked for the small segments to be packed (see
        /// `CollectionEngine.choose`); cleared once no compaction is due.
        var packRequested = false
        /// The last background compaction failed: index builds no longer wait for the compactions
        /// due on their segments (`segmentsAwaitingCompaction`) until one succeeds.
        var compactionFailed = false
        /// `close` has begun: no new background compaction starts.
        var closing = false
        /// Set when a failure left memory and disk possibly out of step; writes are refused until reopen.
        var failure: QuiverError?
        /// The last flush failed with this error (memory and disk still agree: the rows are in the
        /// WAL); `nil` after a flush succeeds. Writes go on until the growing segment reaches
        /// `DatabaseOptions.growingSegmentByteLimit`.
        var flushError: QuiverError?
        /// Flushes that failed in a row, and when a threshold may trigger the next attempt.
        var flushFailures = 0
        var flushRetryAt: ContinuousClock.Instant?
        /// Loaded indexes by segment id and field name.
        var segmentIndexes: [UInt64: [String: SegmentIndex]] = [:]
        /// Index builds scheduled or running, as "segment/field/generation".
        var building: Set<String> = []
    }

    // MARK: Open and recovery

    /// Opens (or creates, when `create`) the collection stored in `directory`.
    init(id: UInt64, directory: String, schema: CollectionSchema, metric: MetricType, options: DatabaseOptions, create: Bool) throws {
        self.id = id
        self.directory = directory
        self.schema = schema
        self.metric = metric
        self.options = options
        if create { try FileSystem.createDirectory(directory) }
        if options.readOnly {
            state = Locked(try Self.loadReadOnly(directory: directory, schema: schema, load: !options.memoryMapSegments))
            return
        }
        let manifestPath = directory + "/" + FileNames.manifest
        var manifest = Manifest.initial(for: schema)
        if FileSystem.exists(manifestPath) {
            manifest = try Manifest.decode(try FileSystem.readFile(manifestPath), path: manifestPath, schema: schema)
        } else if !create {
            guard FileSystem.isDirectory(directory) else {
                throw QuiverError.corruption("collection directory '\(directory)' is missing")
            }
        }
        if schema.partitionKeyField != nil && manifest.partitions != Manifest.initial(for: schema).partitions {
            throw QuiverError.corruption("manifest '\(manifestPath)' does not list the partitions of the collection's partition key")
        }
        var s = State(manifest: manifest, growing: GrowingSegment(schema: schema))
        try Self.loadSegments(&s, directory: directory, schema: schema, load: !options.memoryMapSegments)
        s.lastSequence = manifest.checkpointSequence
        try Self.replayWAL(&s, directory: directory, schema: schema, log: options.logHandler)
        try Self.removeObsoleteFiles(s, directory: directory, log: options.logHandler)
        state = Locked(s)
        // Segments whose build was interrupted by a close or crash (after the compaction due on
        // them, if one is).
        compactInBackgroundIfDue()
    }

    /// Reads a mapped collection's randomly read ranges (vectors and norms, HNSW links and codes)
    /// into the page cache on a background thread, index files first, then advises them for
    /// read-ahead and huge pages (`VectorVerifier.warm`), unless they exceed half the physical
    /// memory (a collection larger than memory stays read at random, a page per fault) or
    /// `DatabaseOptions.warmMappedSegments` is off. Until a
    /// range is warmed, searches fault in only the pages they read: the first search after a cold
    /// open does not wait for gigabytes of read-around (Benchmarks.md, "Cold reads of a mapped
    /// database"). It starts when the first search returns (`search(_:)`), not at open: run
    /// alongside, its reads delayed the first search's page faults behind them (a cold 10M open
    /// to first result took 2.7–3.4 s instead of 0.9–1.0 s). Cancelled by `close`, which waits
    /// for it (at most one 4 MiB read).
    func warmInBackground() {
        // Called after every search: a plain load first keeps the hot path free of the CAS's write.
        guard options.memoryMapSegments, options.warmMappedSegments, !warmStarted.load(ordering: .relaxed),
            warmStarted.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        else { return }
        let verifiers = state.withLock { s in
            s.sealed.flatMap { s.segmentIndexes[$0.id]?.values.compactMap(\.verifier) ?? [] } + s.sealed.flatMap(\.verifiers)
        }
        let bytes = verifiers.reduce(0) { $0 + $1.byteCount }
        guard !verifiers.isEmpty, UInt64(bytes) <= ProcessInfo.processInfo.physicalMemory / 2 else { return }
        let cancellation = buildCancellation
        warmGroup.enter()
        DispatchQueue.global(qos: .utility).async { [warmGroup] in
            defer { warmGroup.leave() }
            for v in verifiers where !cancellation.isCancelled && !v.isWarmed { v.warm { cancellation.isCancelled } }
        }
    }

    /// The last flushed state, read without the directory lock while a writer may be flushing
    /// or compacting: if a file the manifest names disappears under us, read the manifest again.
    private static func loadReadOnly(directory: String, schema: CollectionSchema, load: Bool) throws -> State {
        let manifestPath = directory + "/" + FileNames.manifest
        var attempt = 0
        while true {
            attempt += 1
            var manifest = Manifest.initial(for: schema)
            if FileSystem.exists(manifestPath) {
                manifest = try Manifest.decode(try FileSystem.readFile(manifestPath), path: manifestPath, schema: schema)
            }
            var s = State(manifest: manifest, growing: GrowingSegment(schema: schema))
            do {
                try loadSegments(&s, directory: directory, schema: schema, load: load)
                s.lastSequence = manifest.checkpointSequence
                return s
            } catch let error as QuiverError where error.code == .io && attempt < 20 {
                continue  // a segment or delete file was replaced meanwhile
            }
        }
    }

    /// `load`: read each segment into memory rather than map it (`!DatabaseOptions.memoryMapSegments`).
    ///
    /// The segments are opened on all cores, a segment per worker (their reads and checksums are
    /// independent), and installed in the manifest's order; when several fail, the error of the
    /// first in that order is thrown, as a sequential load would.
    private static func loadSegments(_ s: inout State, directory: String, schema: CollectionSchema, load: Bool) throws {
        let entries = s.manifest.segments, manifest = s.manifest
        let opened = WorkerSlots.map(entries.count, workers: ProcessInfo.processInfo.activeProcessorCount) { i in
            Result { try loadSegment(entries[i], manifest: manifest, directory: directory, schema: schema, load: load) }
        }
        for i in entries.indices {
            let loaded = try opened[i].get()
            let entry = entries[i]
            if !loaded.indexes.isEmpty { s.segmentIndexes[entry.id] = loaded.indexes }
            s.segmentIndex[entry.id] = s.sealed.count
            s.sealed.append(loaded.segment)
            s.sealedDeletes.append(loaded.deletes)
            s.sealedDeleteCounts.append(loaded.deletes.cardinality)
        }
    }

    /// One segment opened by `loadSegments`: the file, its delete bitmap, its index files.
    private struct LoadedSegment {
        var segment: SealedSegment
        var deletes: Bitset
        var indexes: [String: SegmentIndex]
    }

    /// Opens the segment of manifest entry `entry`, its delete file and its index files, checking
    /// each against the manifest.
    private static func loadSegment(
        _ entry: Manifest.SegmentEntry, manifest: Manifest, directory: String, schema: CollectionSchema, load: Bool
    ) throws -> LoadedSegment {
        let path = directory + "/" + FileNames.segment(entry.id)
        let segment = try SealedSegment(path: path, id: entry.id, schema: schema, load: load)
        guard segment.rowCount == entry.rowCount else {
            throw QuiverError.corruption("segment '\(path)' has \(segment.rowCount) rows; the manifest says \(entry.rowCount)")
        }
        var deletes = Bitset(count: segment.rowCount)
        if let name = entry.deleteFile {
            let dpath = directory + "/" + name
            deletes = try DeleteFile.decode(try FileSystem.readFile(dpath), path: dpath, segmentID: entry.id, rowCount: segment.rowCount)
            guard deletes.cardinality == entry.deletedCount else {
                throw QuiverError.corruption("delete file '\(dpath)' lists \(deletes.cardinality) rows; the manifest says \(entry.deletedCount)")
            }
        }
        var indexes = [String: SegmentIndex]()
        for (field, name) in entry.indexFiles {
            guard let f = schema.field(named: field), let d = f.dataType.dimension ?? (f.dataType.isSparseVector ? 0 : nil),
                let def = manifest.indexes.first(where: { $0.field == field })
            else { throw QuiverError.corruption("manifest lists index file '\(name)' for '\(field)', which has no index") }
            let ipath = directory + "/" + name
            // Mapped or read into page memory as the segments are: an HNSW graph's links are
            // then used where they lie (IndexFile's version 2).
            indexes[field] = try IndexFile.decode(
                try MappedFile(path: ipath, load: load), segmentID: entry.id, rows: segment.rowCount, dimension: d,
                metric: def.metric)
        }
        return LoadedSegment(segment: segment, deletes: deletes, indexes: indexes)
    }

    /// The primary-key index of the live rows of `sealed` (whose delete bitmaps are `deletes`).
    ///
    /// - Throws: `.corruption` naming the segment when a key is live in two rows.
    static func primaryKeyIndex(_ sealed: [SealedSegment], deletes: [Bitset], schema: CollectionSchema) throws -> PrimaryKeyIndex {
        var index = PrimaryKeyIndex()
        index.reserveCapacity(zip(sealed, deletes).reduce(0) { $0 + $1.0.rowCount - $1.1.cardinality }, strings: schema.primaryField.dataType != .int64)
        for (segment, deleted) in zip(sealed, deletes) {
            if let key = index.addSegment(id: segment.id, keys: segment.columns[schema.primaryField.name]!, deleted: deleted) {
                throw QuiverError.corruption("primary key \(key) is live in two rows (segment '\(segment.path)')")
            }
        }
        return index
    }

    /// Builds the primary-key index unless it is built: the first write, delete, flush, get or
    /// `verify` after open. The caller holds `writeLock`, so the segments do not change
    /// meanwhile; the index is built without `state`'s lock (readers go on) and installed under it.
    ///
    /// - Throws: `.corruption` naming the segment when a key is live in two rows.
    func ensurePrimaryKeyIndex() throws {
        guard let (sealed, deletes) = state.withLock({ s in s.pkIndexBuilt ? nil : (s.sealed, s.sealedDeletes) }) else { return }
        let index = try Self.primaryKeyIndex(sealed, deletes: deletes, schema: schema)
        state.withLock { $0.install(index) }
    }

    /// `ensurePrimaryKeyIndex` for a reader (a get by key, `verify`), which does not hold
    /// `writeLock`: it takes it only while the index is not built, so a reader waits for a
    /// writer's I/O at most once after open.
    ///
    /// - Throws: `.corruption` naming the segment when a key is live in two rows.
    func ensurePrimaryKeyIndexForReading() throws {
        if state.withLock({ !$0.pkIndexBuilt }) { try writeLock.withLock { _ in try ensurePrimaryKeyIndex() } }
    }

    static func primaryKey(_ column: Column, _ row: Int) -> PrimaryKey {
        switch column.storage {
        case .int(let a): return .int(a[row])
        case .string(let a): return .string(a[row])
        default: preconditionFailure("primary key column must be int64 or varchar")
        }
    }

    private static func replayWAL(_ s: inout State, directory: String, schema: CollectionSchema, log: @Sendable (LogLevel, String) -> Void) throws {
        let numbers = try FileSystem.listDirectory(directory).compactMap(FileNames.walNumber).filter { $0 >= s.manifest.walStart }.sorted()
        var lastValidLength: Int? = nil
        for (i, number) in numbers.enumerated() {
            let path = directory + "/" + FileNames.wal(number)
            let result = try WALReader.read(path: path)
            if let torn = result.tornTail {
                guard i == numbers.count - 1 else {
                    throw QuiverError.corruption("WAL '\(path)': \(torn), and newer WAL files follow it")
                }
                log(.warning, "dropped a torn record at the end of WAL '\(path)' (\(torn)); it was never acknowledged")
                lastValidLength = result.validLength
            }
            try replay(result.operations, into: &s, schema: schema, path: path)
        }
        let current = numbers.last ?? s.manifest.walStart
        s.wal = try WALWriter(directory: directory, number: current, validLength: lastValidLength)
    }

    /// Applies the WAL operations of file `path` newer than the state's sequence, checking each
    /// (rows of the schema's shape, no key inserted twice): whatever a checksum-valid record
    /// holds, the outcome is the applied state or `.corruption` naming `path`.
    static func replay(_ operations: [WALOperation], into s: inout State, schema: CollectionSchema, path: String) throws {
        if !s.pkIndexBuilt && operations.contains(where: { $0.sequence > s.lastSequence }) {
            s.install(try primaryKeyIndex(s.sealed, deletes: s.sealedDeletes, schema: schema))
        }
        /// Applies an insert whose keys must be new (a key inserted twice is damage).
        func replayInsert(_ batch: StoredBatch, partition: UInt64) throws {
            let keys = batch.keys(schema.primaryField)
            var seen = Set<PrimaryKey>(minimumCapacity: keys.count)
            for key in keys {
                guard s.pkIndex[key] == nil, seen.insert(key).inserted else {
                    throw QuiverError.corruption("WAL '\(path)' inserts primary key \(key) twice")
                }
            }
            try s.apply(batch, keys: keys, replacing: false, schema: schema, partition: partition)
        }
        for op in operations where op.sequence > s.lastSequence {
            do {
                switch op {
                case .insertColumns(_, _, let partition), .upsertColumns(_, _, let partition):
                    guard s.manifest.partitions.contains(where: { $0.id == partition }),
                        partition == 0 || schema.partitionKeyField == nil
                    else {
                        throw QuiverError.corruption("WAL '\(path)' writes into partition \(partition), which the manifest does not list")
                    }
                default: break
                }
                switch op {
                case .insert(_, let rows):
                    try replayInsert(
                        StoredBatch(storedRows: rows.map { try RowPreparer.checkStored($0, schema: schema) }, schema: schema), partition: 0)
                case .insertColumns(_, let batch, let partition):
                    try replayInsert(try batch.checked(schema: schema), partition: partition)
                case .upsert(_, let rows):
                    let batch = StoredBatch(storedRows: try rows.map { try RowPreparer.checkStored($0, schema: schema) }, schema: schema)
                    try s.apply(batch, keys: batch.keys(schema.primaryField), replacing: true, schema: schema, partition: 0)
                case .upsertColumns(_, let batch, let partition):
                    let batch = try batch.checked(schema: schema)
                    try s.apply(batch, keys: batch.keys(schema.primaryField), replacing: true, schema: schema, partition: partition)
                case .delete(_, let keys):
                    _ = s.applyDelete(keys)
                }
            } catch let error as QuiverError where error.code != .corruption {
                throw QuiverError.corruption("WAL '\(path)': a record at sequence \(op.sequence) does not fit the schema: \(error.message)")
            }
            s.lastSequence = op.sequence
        }
    }

    /// Removes files no manifest refers to: leftovers of a flush that crashed before its manifest switch.
    private static func removeObsoleteFiles(_ s: State, directory: String, log: @Sendable (LogLevel, String) -> Void) throws {
        var live = Set<String>([FileNames.manifest])
        for e in s.manifest.segments {
            live.insert(FileNames.segment(e.id))
            if let d = e.deleteFile { live.insert(d) }
            live.formUnion(e.indexFiles.values)
        }
        for name in try FileSystem.listDirectory(directory) where !live.contains(name) {
            if let n = FileNames.walNumber(name), n >= s.manifest.walStart { continue }
            do { try FileSystem.remove(directory + "/" + name) } catch {
                log(.warning, "could not remove obsolete file '\(directory)/\(name)': \(error)")
            }
        }
    }

    // MARK: Access

    /// Runs `body` holding `writeLock`, after checking the collection is open and healthy.
    ///
    /// The one way the state changes: `body` reads and changes it only inside short
    /// `state.withLock` sections (memory work) and does its I/O between them, so readers never
    /// wait for the disk, while no other change can come between its sections.
    func serialized<R>(_ body: () throws -> R) throws -> R {
        guard !options.readOnly else {
            throw QuiverError(.unsupported, "the database was opened read-only; open it without `readOnly` to write")
        }
        return try writeLock.withLock { _ in
            try state.withLock { s in
                guard !s.closed else { throw QuiverError(.closed, "the collection is closed or was dropped") }
                if let failure = s.failure {
                    throw QuiverError(.io, "an earlier write failed and left the collection read-only until it is reopened: \(failure.message)", cause: failure)
                }
            }
            return try body()
        }
    }

    /// Records an I/O failure after which memory and disk may disagree (inside `serialized`):
    /// writes are refused until the database is reopened. Returns `error` for throwing.
    func markFailed(_ error: QuiverError) -> QuiverError {
        state.withLock { $0.failure = error }
        return error
    }

    func snapshot() throws -> Snapshot {
        try state.withLock { s in
            guard !s.closed else { throw QuiverError(.closed, "the collection is closed or was dropped") }
            return Snapshot(
                schema: schema, metric: metric, sealed: s.sealed, sealedDeletes: s.sealedDeletes,
                sealedDeleteCounts: s.sealedDeleteCounts, sealedPartitions: s.manifest.segments.map(\.partition), growing: s.growing,
                indexes: s.segmentIndexes, indexDefinitions: s.manifest.indexes)
        }
    }

    /// Flushes (when `flush`) and closes the WAL; later calls throw `.closed`. A running index
    /// build is cancelled (it stops within one HNSW insertion or k-means step), not waited for.
    func close(flush: Bool) throws {
        state.withLock { $0.closing = true }
        buildCancellation.cancel()
        compactionGroup.wait()
        indexGroup.wait()
        warmGroup.wait()
        try writeLock.withLock { _ in
            guard !state.withLock({ $0.closed }) else { return }
            defer {
                state.withLock { s in
                    s.wal?.close()
                    s.closed = true
                }
            }
            if flush && state.withLock({ $0.failure == nil }) { try flushSerialized() }
            if let wal = state.withLock({ $0.failure == nil ? $0.wal : nil }) { try wal.sync() }
        }
    }

    /// fsyncs the WAL if it has unsynced bytes (the `.batched` group commit). Holds `writeLock`
    /// (writes wait for the fsync), not `state`'s lock (reads do not).
    func syncWAL() {
        writeLock.withLock { _ in
            guard let wal = state.withLock({ s in s.closed || s.failure != nil ? nil : s.wal }) else { return }
            do { try wal.sync() } catch let error as QuiverError {
                _ = markFailed(error)
                options.logHandler(.error, "WAL fsync failed: \(error)")
            } catch {}
        }
    }
}

// MARK: - State transitions shared by writes and WAL replay

extension CollectionEngine.State {
    /// Applies validated rows with primary keys `keys` into partition `partition` (with a
    /// partition key: into the partitions of their keys); with `replacing`, a row whose key is
    /// live replaces it. `appended`, when given, is `growing` with `batch` already appended (made
    /// outside the lock by `CollectionEngine.appendOutsideLock`).
    mutating func apply(
        _ batch: StoredBatch, keys: [PrimaryKey], replacing: Bool, schema: CollectionSchema, partition: UInt64,
        appended: GrowingSegment? = nil
    ) throws {
        let next = try Self.nextAutoID(after: keys, current: manifest.nextAutoID, field: growing.schema.primaryField)
        let base = growing.rowCount
        if let appended {
            precondition(appended.rowCount == base + batch.rowCount, "appended segment out of step")
            growing = appended
        } else {
            growing.append(batch, partitions: CollectionEngine.partitions(of: batch, explicit: partition, schema: schema))
        }
        precondition(pkIndexBuilt, "a write before the primary-key index was built")
        for (i, key) in keys.enumerated() {
            if replacing { _ = applyDelete([key]) }
            pkIndex[key] = RowLocation(segment: RowLocation.growing, row: Int32(base + i))
        }
        manifest.nextAutoID = next
    }

    /// The `nextAutoID` once `keys` are stored: past the largest of them, for an `autoID` key.
    ///
    /// - Throws: `.invalidArgument` when a key is `Int64.max`, which would leave no next id. Every
    ///   write checks its keys with this before it logs them; replay reports such a record as
    ///   `.corruption`.
    static func nextAutoID(after keys: [PrimaryKey], current: Int64, field: FieldSchema) throws -> Int64 {
        guard field.autoID else { return current }
        var next = current
        for case .int(let v) in keys where v >= next {
            guard v < Int64.max else {
                throw QuiverError.invalidArgument(
                    "primary key \(v) of auto_id field '\(field.name)' is too large: keys of an auto_id collection must be below \(Int64.max)")
            }
            next = v + 1
        }
        return next
    }

    /// Makes `index` (built from the sealed segments) the primary-key index; the growing
    /// segment is empty until it is built.
    mutating func install(_ index: PrimaryKeyIndex) {
        precondition(growing.rowCount == 0, "rows were written before the primary-key index was built")
        pkIndex = index
        pkIndexBuilt = true
    }

    /// Deletes the live rows with `keys`; returns how many there were.
    mutating func applyDelete(_ keys: [PrimaryKey]) -> Int {
        precondition(pkIndexBuilt, "a delete before the primary-key index was built")
        var count = 0
        for key in keys {
            guard let location = pkIndex.removeValue(forKey: key) else { continue }
            count += 1
            if location.segment == RowLocation.growing {
                growing.markDeleted(Int(location.row))
            } else {
                let i = segmentIndex[location.segment]!
                sealedDeletes[i][Int(location.row)] = true  // the key index holds live rows only
                sealedDeleteCounts[i] += 1
                dirtyDeletes.insert(location.segment)
            }
        }
        return count
    }

    /// The live rows: the index's keys, or before it is built (the growing segment then empty)
    /// the sealed rows not deleted.
    var liveRowCount: Int {
        pkIndexBuilt ? pkIndex.count : zip(sealed, sealedDeleteCounts).reduce(0) { $0 + $1.0.rowCount - $1.1 }
    }
}
