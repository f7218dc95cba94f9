import Dispatch
import Foundation
import Testing
@testable import Quiver

/// Readers never wait for I/O, `dropCollection` does not hold up the other collections, and a
/// filtered delete is atomic with respect to concurrent upserts.
///
/// An I/O call is stalled with a fault whose `onFire` blocks (`FaultInjector.Fault.onFire`), and a
/// read must answer within seconds meanwhile. Before the fix each stalled call held the
/// collection's lock (or, for `dropCollection`, the database's), so the read timed out.
@Suite struct ContentionTests {
    /// A fault that stalls the first matching call until `release`.
    final class Stall: Sendable {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)

        func fault(_ prefix: String, _ operation: FaultInjector.Operation, skip: Int = 0) -> FaultInjector.Fault {
            .init(pathPrefix: prefix, operation: operation, errno: 0, skip: skip, onFire: { [entered, release] in
                entered.signal()
                release.wait()
            })
        }
    }

    /// Whether `body`, run on another thread, returns within `seconds`.
    func finishes(within seconds: Double, _ body: @escaping @Sendable () throws -> Void) -> Bool {
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            do { try body() } catch { Issue.record(error) }
            done.signal()
        }
        return done.wait(timeout: .now() + seconds) == .success
    }

    struct Case: CustomStringConvertible, Sendable {
        var description: String
        /// The stalled call, relative to the collection directory.
        var file: String
        var operation: FaultInjector.Operation
        var skip = 0
        var durability: Durability = .always
    }

    static let cases: [Case] = [
        Case(description: "a flush writing its segment", file: "seg-", operation: .fsync),
        Case(description: "a flush switching the manifest", file: "MANIFEST", operation: .rename),
        Case(description: "an insert's WAL fsync under .always", file: "wal-", operation: .fsync),
        Case(description: "the group commit's WAL fsync", file: "wal-", operation: .fsync, durability: .batched),
        Case(description: "a compaction switching the manifest", file: "MANIFEST", operation: .rename),
        Case(description: "an index build switching the manifest", file: "MANIFEST", operation: .rename, skip: 1),
        // Memory work, O(rows): re-pointing the primary-key index at the new segment's rows.
        Case(description: "a flush re-pointing the primary keys", file: "seg-", operation: .repoint),
        Case(description: "a compaction re-pointing the primary keys", file: "seg-", operation: .repoint),
        // A write whose rows outgrow the growing segment's arrays: the copy is made outside the lock.
        Case(description: "an insert appending to a copy of the growing segment", file: "", operation: .append),
    ]

    @Test(arguments: cases)
    func readersDoNotWaitFor(_ c: Case) throws {
        let dir = TemporaryDirectory()
        var options = quietOptions(c.durability)
        options.autoCompaction = false
        options.syncInterval = .seconds(3600)  // the test runs the group commit itself
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 4)
        let rows: @Sendable (Int) -> [Row] = { from in
            (from..<from + 300).map { ["id": .int(Int64($0)), "vector": .vector([1, 2, 3, Float($0)])] as Row }
        }
        _ = try db.insert("c", rows: rows(0))
        if c.description.contains("compaction") || c.description.contains("index") {
            try db.flush("c")
            _ = try db.insert("c", rows: rows(300))
            try db.flush("c")
        }
        let stall = Stall()
        FaultInjector.shared.add(stall.fault(dir.path + "/c1/" + c.file, c.operation, skip: c.skip))
        defer { FaultInjector.shared.removeAll(under: dir.path) }
        let engine = try db.engine("c")
        let stalled: @Sendable () throws -> Void = {
            switch c.description {
            case let d where d.contains("compaction"): try db.compact("c")
            case let d where d.contains("index"):
                try db.createIndex("c", field: "vector", type: .ivfFlat, params: ["nlist": 4])
                try db.waitForIndexBuilds("c")
            case let d where d.contains("copy of the growing"):  // 3,000 rows outgrow what 300 left room for
                _ = try db.insert("c", rows: (1000..<4000).map { ["id": .int(Int64($0)), "vector": .vector([1, 2, 3, Float($0)])] as Row })
            case let d where d.contains("insert"): _ = try db.insert("c", rows: rows(1000))
            case let d where d.contains("group"):
                _ = try db.insert("c", rows: rows(1000))
                engine.syncWAL()
            default: try db.flush("c")
            }
        }
        let writer = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            do { try stalled() } catch { Issue.record(error) }
            writer.signal()
        }
        #expect(stall.entered.wait(timeout: .now() + 60) == .success, "the stalled call was never made")
        // While the call is stuck in I/O, reads answer.
        let read = finishes(within: 5) {
            _ = try db.search("c", vectors: [[1, 2, 3, 4]], limit: 3)
            _ = try db.get("c", ids: [1])
            _ = try db.query("c", filter: "id < 10", limit: 5)
            _ = try db.collectionStats("c")
        }
        stall.release.signal()
        writer.wait()
        #expect(read, "a read waited for \(c.description)")
        try db.close()
    }

    /// Background compactions and index builds run on threads below the priority of the threads
    /// that call the engine (Linux: a higher nice value; Darwin: the utility QoS class), so that
    /// on a busy machine searches and writes get the CPU first. Before, both ran on Dispatch's
    /// shared utility threads, which Linux's Dispatch runs at nice +2 only.
    @Test func backgroundWorkRunsBelowTheCallersPriority() throws {
        let dir = TemporaryDirectory()
        // Background compaction on; each insert of 300 rows flushes (an explicit flush would also
        // pack the small segments: more compactions than this test expects).
        var options = quietOptions()
        options.flushRowThreshold = 300
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 4)
        let seen = Locked<[(thread: String, lowered: Bool)]>([])
        let record: @Sendable () -> Void = {
            seen.withLock { $0.append((Thread.current.name ?? "", Self.runsWellBelowTheMainThread())) }
        }
        // Every flush (on this thread) and the background compaction re-point the key index.
        FaultInjector.shared.add(.init(pathPrefix: dir.path + "/c1/seg-", operation: .repoint, errno: 0, times: 100, onFire: record))
        defer { FaultInjector.shared.removeAll(under: dir.path) }
        for i in 0..<4 {  // four segments of one size tier: the fourth flush starts a compaction
            _ = try db.insert("c", rows: Self.rows(from: i * 300, count: 300))
        }
        try db.engine("c").compactionGroup.wait()
        FaultInjector.shared.removeAll(under: dir.path)
        // The index build writes its file on its own thread.
        FaultInjector.shared.add(.init(pathPrefix: dir.path + "/c1/seg-", operation: .fsync, errno: 0, onFire: record))
        try db.createIndex("c", field: "vector", type: .ivfFlat, params: ["nlist": 4])
        try db.waitForIndexBuilds("c")
        try db.close()
        let calls = seen.withLock { $0 }
        let foreground = calls.filter { !$0.thread.hasPrefix("quiver.") }
        let foregroundLowered = foreground.contains { $0.lowered }
        #expect(foreground.count == 4 && !foregroundLowered, "the flushes: \(calls)")
        let background = calls.filter { $0.thread.hasPrefix("quiver.") }
        let lowered = background.allSatisfy { $0.lowered }
        #expect(background.map { $0.thread } == ["quiver.compact", "quiver.index"], "\(calls)")
        #expect(lowered, "background work ran at the callers' priority: \(calls)")
    }

    /// `count` rows of dimension 4 with keys from `from`.
    static func rows(from: Int, count: Int) -> [Row] {
        (from..<from + count).map { i -> Row in ["id": .int(Int64(i)), "vector": .vector([1, 2, 3, Float(i)])] }
    }

    /// Whether the calling thread runs well below the process's main thread: on Linux (where
    /// each thread has its own nice value) at least 10 nice steps above it — Dispatch's utility
    /// threads run only 2 above — and on Darwin in the utility QoS class or lower.
    static func runsWellBelowTheMainThread() -> Bool {
        #if canImport(Darwin)
        return qos_class_self().rawValue <= QOS_CLASS_UTILITY.rawValue
        #elseif canImport(Glibc)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        return getpriority(which, 0) >= getpriority(which, id_t(getpid())) + 10
        #else
        return getpriority(PRIO_PROCESS, 0) >= getpriority(PRIO_PROCESS, id_t(getpid())) + 10
        #endif
    }

    /// Background compaction goes on until none is due: segments flushed while a compaction ran
    /// (their flushes found it running and started none) are compacted after it, though no
    /// write comes later. Before, they stayed until the next flush.
    @Test func backgroundCompactionCatchesUpWithFlushesMadeMeanwhile() throws {
        let dir = TemporaryDirectory()
        // Background compaction on; each insert of 100 rows flushes (an explicit flush would
        // also pack the small segments, which is not what this test is about).
        var options = quietOptions()
        options.flushRowThreshold = 100
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 4)
        let engine = try db.engine("c")
        var next = 0
        let flushOne = {
            _ = try db.insert("c", rows: Self.rows(from: next, count: 100))
            next += 100
        }
        for _ in 0..<3 { try flushOne() }
        // The fourth flush makes four segments of one size tier: a compaction starts, writing
        // the segment after the flush's; it is stalled there while four more flushes come.
        let merged = engine.state.withLock { $0.manifest.nextSegmentID } + 1
        let stall = Stall()
        FaultInjector.shared.add(stall.fault(dir.path + "/c1/" + FileNames.segment(merged), .fsync))
        defer { FaultInjector.shared.removeAll(under: dir.path) }
        try flushOne()
        #expect(stall.entered.wait(timeout: .now() + 60) == .success, "no compaction started")
        for _ in 0..<4 { try flushOne() }
        stall.release.signal()
        engine.compactionGroup.wait()
        #expect(try db.collectionStats("c").segmentCount == 2, "the merged segment and the four flushed meanwhile, merged")
        #expect(try db.collectionStats("c").rowCount == 800)
        try db.close()
    }

    @Test func droppingACollectionDoesNotHoldUpTheOthers() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("a", dimension: 2)
        try db.createCollection("b", dimension: 2)
        // Stand-in for a long index build or compaction of "a": drop waits for it to finish.
        let a = try db.engine("a")
        a.indexGroup.enter()
        let dropped = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            do { try db.dropCollection("a") } catch { Issue.record(error) }
            dropped.signal()
        }
        // Meanwhile the other collection and the catalog are usable.
        let usable = finishes(within: 5) {
            while db.hasCollection("a") { Thread.sleep(forTimeInterval: 0.01) }
            _ = try db.insert("b", rows: [["id": 1, "vector": [1, 2]]])
            _ = try db.listCollections()
        }
        #expect(dropped.wait(timeout: .now() + 0.2) == .timedOut, "drop did not wait for the background work")
        a.indexGroup.leave()
        dropped.wait()
        #expect(usable, "dropCollection held the database lock while waiting")
        #expect(try db.listCollections() == ["b"])
        #expect(!FileManager.default.fileExists(atPath: a.directory))
        try db.close()
    }

    /// An upsert that makes rows stop matching a delete's filter, racing with that delete: either
    /// comes first, so all the rows survive — the delete finds them matching and the upsert
    /// re-creates them, or the upsert changes them and the delete finds nothing. Before the fix
    /// the delete chose its rows on one snapshot and deleted them later, so an upsert in between
    /// lost its rows. Many rows that do not match make the filter's evaluation take a while, and the
    /// upsert starts at a random point within about twice that time, so the old code's window
    /// (between its snapshot and its delete) is hit in many of the rounds.
    @Test func aFilteredDeleteDoesNotDeleteRowsAnUpsertChanged() throws {
        let dir = TemporaryDirectory()
        var options = quietOptions()
        options.autoCompaction = false
        let db = try Database.open(at: dir.path, options: options)
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)),
            FieldSchema(name: "tag", dataType: .int64),
        ])
        try db.createCollection("c", schema: schema)
        let row: @Sendable (Int, Int64) -> Row = { id, tag in ["id": .int(Int64(id)), "vector": [1, 2], "tag": .int(tag)] }
        // Tags 0 and 2 in every block, so block statistics cannot skip them: each row is evaluated.
        _ = try db.insert("c", rows: (0..<50_000).map { row(1_000_000 + $0, Int64($0 % 2) * 2) })
        try db.flush("c")
        let n = 100
        let t0 = Date()
        _ = try db.query("c", filter: "tag == 1", outputFields: ["count(*)"])
        let evaluation = Date().timeIntervalSince(t0)
        var lost = 0
        for round in 0..<40 {
            let keys = (round * n)..<((round + 1) * n)
            _ = try db.insert("c", rows: keys.map { row($0, 1) })
            let start = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) {
                start.wait()
                Thread.sleep(forTimeInterval: Double.random(in: 0...(2 * evaluation)))
                do { _ = try db.upsert("c", rows: keys.map { row($0, 0) }) } catch { Issue.record(error) }
            }
            DispatchQueue.global().async(group: group) {
                start.wait()
                do { _ = try db.delete("c", filter: "tag == 1") } catch { Issue.record(error) }
            }
            start.signal()
            start.signal()
            group.wait()
            let live = try db.query("c", filter: "id >= \(keys.lowerBound) and id < \(keys.upperBound)", outputFields: ["count(*)"])
            lost += n - Int(live[0]["count(*)"]?.intValue ?? 0)
        }
        #expect(lost == 0, "\(lost) upserted rows were deleted by a filter they no longer matched")
        try db.close()
    }
}
