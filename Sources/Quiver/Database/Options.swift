import Foundation

/// When a write is forced to stable storage. What a power cut can lose at each level is set out,
/// system call by system call, in <doc:DurabilityRules>.
public enum Durability: Sendable, Hashable {
    /// Each call writes its WAL record to the operating system before it returns, and nothing
    /// fsyncs it until a flush or close. Survives a crash of the process; an operating-system
    /// crash or power loss may lose every write since the last flush.
    case none
    /// Group commit (the default): each call writes its WAL record to the operating system
    /// before it returns, and a background task fsyncs the WAL every `syncInterval`. Survives a
    /// crash of the process; an operating-system crash may lose the writes of the last interval.
    case batched
    /// Each call fsyncs its WAL record before it returns: an acknowledged write survives any crash.
    case always
}

/// How loud a log message is.
public enum LogLevel: Int, Sendable, Comparable {
    /// Detail for diagnosing Quiver itself (no message uses it at present).
    case debug
    /// Normal events worth recording (no message uses it at present).
    case info
    /// Something went wrong without losing data, such as an obsolete file that could not be removed.
    case warning
    /// Work done in the background or on `deinit` failed: a WAL fsync, a compaction, an index
    /// build, a close, or a flush that a write triggered (the write itself succeeded); or a
    /// collection was found damaged when it was loaded (``Database/damagedCollections``).
    case error
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Options for `Database.open(at:options:)`.
///
/// ```swift
/// var options = DatabaseOptions()
/// options.durability = .always          // fsync every write
/// options.memoryMapSegments = true      // collections larger than RAM
/// let db = try Database.open(at: "./demo.quiver", options: options)
/// ```
public struct DatabaseOptions: Sendable {
    /// When writes reach stable storage; ``Durability/batched`` (group commit) by default.
    public var durability: Durability = .batched
    /// The fsync interval of `.batched` durability.
    public var syncInterval: Duration = .milliseconds(100)
    /// The growing segment is flushed when it holds this many rows…
    public var flushRowThreshold: Int = 200_000
    /// …or about this many bytes.
    public var flushByteThreshold: Int = 128 << 20
    /// The most bytes the growing (unflushed) segment of a collection may hold; `nil` (the
    /// default) means four times ``DatabaseOptions/flushByteThreshold``.
    ///
    /// Reached only when flushes keep failing (a full disk, say): a write that triggers a flush
    /// succeeds even when the flush fails — its rows are in the WAL — and the flush is retried
    /// after a backoff, so the growing segment keeps growing. Once it holds this many bytes,
    /// `insert` and `upsert` throw `QuiverError.Code.resourceExhausted` (nothing is written) until
    /// a flush succeeds; deletes and reads go on. Set it no lower than ``DatabaseOptions/flushByteThreshold``.
    public var growingSegmentByteLimit: Int? = nil
    /// Open the last flushed state without taking the directory lock, so another process may
    /// hold the database for writing meanwhile. Writes throw `.unsupported`; rows not yet flushed
    /// by the writer are not visible; the view is fixed at open (open again to see newer data).
    public var readOnly: Bool = false
    /// Compact segments in the background: after flushes, segments with many deleted rows (see
    /// ``compactionDeletedRatio``) and groups of four or more segments of a similar size; after an
    /// explicit `flush` or an index creation, also the small segments a bulk load leaves, packed
    /// together up to ``segmentTargetBytes`` (so that an indexed collection has few graphs to
    /// search). While a compaction is due for a segment, its index is built after the compaction.
    public var autoCompaction: Bool = true
    /// The size, in bytes, up to which background compaction merges segments (Milvus's
    /// `segment.maxSize`, 1 GiB by default); a segment already larger is only rewritten to drop
    /// deleted rows. Counted as the vectors' bytes plus 8 bytes per row for every other field, so a
    /// collection with long text fields gets segments larger than this on disk.
    ///
    /// Larger segments mean fewer per-segment indexes for a search to walk, and longer index
    /// builds after each merge.
    public var segmentTargetBytes: Int = 1 << 30
    /// The share of a segment's rows that, once deleted or replaced, makes background compaction
    /// rewrite the segment without them (Milvus's single-segment compaction ratio); 0.2 by default.
    ///
    /// A search still reads a deleted row until a compaction drops it, so under a stream of
    /// upserts or deletes this bounds the extra rows a search scans, at the price of rewriting a
    /// segment's live rows each time it passes the ratio: lower values scan fewer dead rows and
    /// rewrite more. The segment with the largest share is compacted first, one at a time. A
    /// value above 1 leaves deleted rows to `Database.compact(_:)` and size-tiered merges.
    public var compactionDeletedRatio: Double = 0.2
    /// Threads a search may use (default: all cores).
    public var searchThreads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Threads one background index build may use (default: all cores). Builds run one at a
    /// time; lower this to leave cores to searches while an index is built.
    public var indexBuildThreads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Memory-map sealed segments instead of reading them into memory (Milvus's `mmap.enabled`).
    /// By default (`false`) each segment is read whole into anonymous memory when it is opened,
    /// in 2 MiB pages where the kernel offers them, which makes the random row reads of an
    /// HNSW or IVF search markedly faster; the data must then fit in RAM. With `true` the
    /// kernel pages segments in on demand and may evict them, so collections larger than
    /// memory stay usable, at the cost of slower random reads.
    public var memoryMapSegments: Bool = false
    /// With ``memoryMapSegments``, read a collection's vectors and HNSW links into the page cache
    /// on a background thread after it loads (Milvus's `warmup`), when they take at most half the
    /// physical memory. Until then a search faults in only the pages it reads, so the first search
    /// after a cold open is not held up; once warm, the mapping uses huge pages where the kernel
    /// offers them. `false` leaves the pages to be read as searches touch them, one at a time
    /// (the choice for a collection that shares memory with other large data).
    public var warmMappedSegments: Bool = true
    /// Receives recovery reports (such as a dropped torn WAL record) and other events.
    /// The default writes warnings and errors to standard error.
    public var logHandler: @Sendable (LogLevel, String) -> Void = { level, message in
        guard level >= .warning else { return }
        FileHandle.standardError.write(Data("quiver [\(level)] \(message)\n".utf8))
    }

    /// The defaults: batched durability every 100 ms, flush at 200,000 rows or 128 MiB,
    /// read-write, background compaction (of segments 20% deleted, size-tiered, and packing a load's small segments up to 1 GiB after an explicit flush), all cores for searches and index builds, segments
    /// read into memory, warnings and errors logged to standard error.
    public init() {}

    /// ``growingSegmentByteLimit`` or its default.
    var resolvedGrowingSegmentByteLimit: Int {
        if let growingSegmentByteLimit { return growingSegmentByteLimit }
        let (limit, overflow) = flushByteThreshold.multipliedReportingOverflow(by: 4)
        return overflow ? Int.max : limit
    }
}

/// The result of an insert: how many rows were inserted and their primary keys
/// (generated ones for `autoID` collections).
public struct InsertResult: Sendable, Hashable {
    /// The number of rows inserted (all of them: an insert is all or nothing).
    public var insertCount: Int
    /// The rows' primary keys in the order of the rows: `.int` or `.string` values.
    public var ids: [Value]

    /// A result of `insertCount` rows with these keys (for backends other than the embedded engine).
    public init(insertCount: Int, ids: [Value]) {
        self.insertCount = insertCount
        self.ids = ids
    }
}

/// The result of an upsert.
public struct UpsertResult: Sendable, Hashable {
    /// The number of rows written, whether they replaced a row or were new.
    public var upsertCount: Int
    /// The rows' primary keys in the order of the rows.
    public var ids: [Value]

    /// A result of `upsertCount` rows with these keys (for backends other than the embedded engine).
    public init(upsertCount: Int, ids: [Value]) {
        self.upsertCount = upsertCount
        self.ids = ids
    }
}

/// The result of a delete: how many live rows were deleted (ids that matched no row are not counted).
public struct DeleteResult: Sendable, Hashable {
    /// The number of live rows deleted.
    public var deleteCount: Int

    /// A result of `deleteCount` deleted rows (for backends other than the embedded engine).
    public init(deleteCount: Int) {
        self.deleteCount = deleteCount
    }
}

/// One search result: the primary key, the distance (Milvus convention), and the requested fields.
public struct Hit: Sendable, Hashable {
    /// The row's primary key, `.int` or `.string`.
    public var id: Value
    /// The score under the search's metric: the squared Euclidean distance for L2, the
    /// bit count for HAMMING and 1 − Jaccard similarity for JACCARD (smaller is closer); the
    /// similarity for IP and COSINE (larger is closer).
    public var distance: Float
    /// The requested output fields by name; empty when none were requested.
    public var entity: Row

    /// A hit (for backends other than the embedded engine).
    public init(id: Value, distance: Float, entity: Row = [:]) {
        self.id = id
        self.distance = distance
        self.entity = entity
    }
}

/// Statistics of a collection.
public struct CollectionStats: Sendable, Hashable {
    /// The number of live rows (exact after deletes and upserts).
    public var rowCount: Int
    /// Sealed segments on disk. Always 0 from a Milvus server (`RemoteDatabase`): its
    /// `GetCollectionStatistics` reports only a row count, and the segment RPCs
    /// (`GetPersistentSegmentInfo`, `GetQuerySegmentInfo`) are neither in the client's pruned
    /// protocol nor served by Milvus Lite 3.2.2 or `quiver serve`.
    public var segmentCount: Int
    /// Rows in the growing (not yet flushed) segment, including deleted ones. Always 0 from a
    /// Milvus server, as ``segmentCount``.
    public var growingRowCount: Int
    /// The error of the last flush when it failed, `nil` when it succeeded. A flush that a write
    /// triggers and that fails does not fail the write; it is reported here (and to
    /// ``DatabaseOptions/logHandler``) and retried after a backoff. `Database.flush(_:)` throws it.
    public var flushError: QuiverError?

    /// Statistics (for backends other than the embedded engine, which may know only the row
    /// count and leave the segment counts 0).
    public init(rowCount: Int, segmentCount: Int = 0, growingRowCount: Int = 0, flushError: QuiverError? = nil) {
        self.rowCount = rowCount
        self.segmentCount = segmentCount
        self.growingRowCount = growingRowCount
        self.flushError = flushError
    }
}

/// A collection's name, schema and metric.
public struct CollectionDescription: Sendable, Hashable {
    /// The collection's name.
    public var name: String
    /// The collection's fields.
    public var schema: CollectionSchema
    /// The metric the collection's vectors are compared with, fixed at creation.
    public var metric: MetricType
    /// The number of live rows, as ``CollectionStats/rowCount`` counts them.
    public var rowCount: Int
    /// The aliases that name the collection, sorted (Milvus's `aliases`).
    public var aliases: [String]

    /// A description (for backends other than the embedded engine).
    public init(name: String, schema: CollectionSchema, metric: MetricType, rowCount: Int, aliases: [String] = []) {
        self.name = name
        self.schema = schema
        self.metric = metric
        self.rowCount = rowCount
        self.aliases = aliases
    }
}
