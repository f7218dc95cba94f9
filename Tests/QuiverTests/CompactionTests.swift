import Foundation
import Testing
@testable import Quiver

@Suite struct CompactionTests {
    func directorySize(_ path: String) throws -> Int {
        try FileSystem.listDirectory(path).reduce(0) { $0 + (try FileSystem.fileSize(path + "/" + $1)) }
    }

    @Test func deletingHalfAndCompactingHalvesTheSize() throws {
        let dir = TemporaryDirectory()
        var options = quietOptions()
        options.autoCompaction = false
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 64, metric: .l2)
        var g = SeededGenerator(seed: 3)
        for batch in 0..<4 {
            let rows: [Row] = (0..<2000).map { i in
                ["id": .int(Int64(batch * 2000 + i)), "vector": .vector(randomVector(64, using: &g)), "text": .string("row \(i)")]
            }
            _ = try db.insert("c", rows: rows)
            try db.flush("c")
        }
        let before = try directorySize(dir.path + "/c1")
        _ = try db.delete("c", ids: (0..<8000).filter { $0 % 2 == 0 }.map { .int(Int64($0)) })
        let q = randomVector(64, using: &g)
        let hitsBefore = try db.search("c", vectors: [q], limit: 20)
        #expect(try db.compact("c"))
        #expect(try db.collectionStats("c").segmentCount == 1)
        let after = try directorySize(dir.path + "/c1")
        #expect(Double(after) < Double(before) * 0.6, "before \(before) after \(after)")
        #expect(Double(after) > Double(before) * 0.4, "before \(before) after \(after)")
        #expect(try db.search("c", vectors: [q], limit: 20) == hitsBefore)
        #expect(try db.collectionStats("c").rowCount == 4000)
        #expect(try db.get("c", ids: [1, 2, 7999]).map { $0["id"]! } == [1, 7999])
        try db.close()
        let reopened = try Database.open(at: dir.path, options: options)
        #expect(try reopened.search("c", vectors: [q], limit: 20) == hitsBefore)
        #expect(try reopened.collectionStats("c").segmentCount == 1)
        try reopened.close()
    }

    @Test func readersOfAnOldSnapshotKeepWorkingDuringCompaction() throws {
        let dir = TemporaryDirectory()
        var options = quietOptions()
        options.autoCompaction = false
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 8)
        var g = SeededGenerator(seed: 4)
        for batch in 0..<3 {
            _ = try db.insert("c", rows: (0..<100).map { ["id": .int(Int64(batch * 100 + $0)), "vector": .vector(randomVector(8, using: &g))] })
            try db.flush("c")
        }
        let engine = try db.engine("c")
        let snapshot = try engine.snapshot()
        func checksum(_ snap: Snapshot) throws -> Float {
            try snap.sealed.reduce(0) { $0 + (try $1.vectors("vector").reduce(0, +)) }
        }
        let before = try checksum(snapshot)
        _ = try db.delete("c", ids: [0, 1, 2])
        #expect(try db.compact("c"))
        // The old segments' files are gone, but the snapshot's mappings still read them.
        let files = try FileSystem.listDirectory(dir.path + "/c1").filter { $0.hasSuffix(".qseg") }
        #expect(files.count == 1)
        #expect(snapshot.sealed.count == 3)
        #expect(try checksum(snapshot) == before)
        #expect(try engine.snapshot().sealed.map(\.rowCount) == [297])
        try db.close()
    }

    @Test func automaticTieredCompactionMergesSmallSegments() throws {
        let dir = TemporaryDirectory()
        var options = quietOptions()
        options.flushRowThreshold = 50
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 4)
        var g = SeededGenerator(seed: 5)
        for i in 0..<400 {
            _ = try db.insert("c", rows: [["id": .int(Int64(i)), "vector": .vector(randomVector(4, using: &g))]])
        }
        // Background compactions run after flushes; close waits for them.
        try db.close()
        let reopened = try Database.open(at: dir.path, options: options)
        let stats = try reopened.collectionStats("c")
        #expect(stats.rowCount == 400)
        #expect(stats.segmentCount < 8, "\(stats)")
        try reopened.close()
    }

    // MARK: Deleted rows (DatabaseOptions.compactionDeletedRatio)

    /// A collection whose rows the test keeps too (the model the results are checked against).
    struct Model {
        var vectors: [Int64: [Float]] = [:]
        var g = SeededGenerator(seed: 17)

        mutating func rows(_ ids: some Sequence<Int64>) -> [Row] {
            ids.map { id in
                let v = randomVector(8, using: &g)
                vectors[id] = v
                return ["id": .int(id), "vector": .vector(v)]
            }
        }

        /// The ids of the `k` rows nearest `q` (L2), by brute force here.
        func nearest(_ q: [Float], _ k: Int) -> [Int64] {
            let d = vectors.mapValues { v in zip(v, q).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } }
            return d.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }.prefix(k).map(\.key)
        }

        /// Checks that `db` holds exactly the model's rows and searches rank them as the model does.
        /// `check`, then closes `db`, opens it again and checks again.
        func checkAndReopen(_ db: Database, at path: String, options: DatabaseOptions, _ label: String,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
            try check(db, label, sourceLocation: sourceLocation)
            try db.close()
            let reopened = try Database.open(at: path, options: options)
            try check(reopened, "\(label), reopened", sourceLocation: sourceLocation)
            try reopened.close()
        }

        func check(_ db: Database, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            var g = SeededGenerator(seed: 99)
            #expect(try db.collectionStats("c").rowCount == vectors.count, "\(label)", sourceLocation: sourceLocation)
            let ids = vectors.keys.sorted()
            let got = try db.get("c", ids: ids.map { .int($0) }, outputFields: ["vector"]).sorted { $0["id"]!.intValue! < $1["id"]!.intValue! }
            #expect(got.map { $0["id"]! } == ids.map { .int($0) }, "\(label)", sourceLocation: sourceLocation)
            #expect(got.map { $0["vector"]! } == ids.map { .vector(vectors[$0]!) }, "\(label)", sourceLocation: sourceLocation)
            for _ in 0..<5 {
                let q = randomVector(8, using: &g)
                let hits = try db.search("c", vectors: [q], limit: 10)[0]
                #expect(hits.map(\.id) == nearest(q, 10).map { .int($0) }, "\(label)", sourceLocation: sourceLocation)
            }
        }
    }

    /// (rows, deleted rows) of each sealed segment, in manifest order.
    func segments(_ db: Database) throws -> [[Int]] {
        let snap = try db.engine("c").snapshot()
        return zip(snap.sealed, snap.sealedDeleteCounts).map { [$0.rowCount, $1] }
    }

    /// Opens a database at `path` with background compaction on and a flush every 300 rows, and
    /// inserts `rows` rows into collection "c" in batches of 100 (so the inserts flush, with no
    /// explicit flush); returns after the background compactions those flushes started.
    func loadedByThresholdFlushes(at path: String, rows: Int, _ model: inout Model, options: DatabaseOptions = quietOptions()) throws
        -> (Database, CollectionEngine)
    {
        var options = options
        options.flushRowThreshold = 300
        let db = try Database.open(at: path, options: options)
        try db.createCollection("c", dimension: 8, metric: .l2)
        let engine = try db.engine("c")
        for first in stride(from: Int64(0), to: Int64(rows), by: 100) { _ = try db.insert("c", rows: model.rows(first..<first + 100)) }
        engine.compactionGroup.wait()
        return (db, engine)
    }

    /// Opens a database at `path` with background compaction on, inserts `rows` rows into
    /// collection "c" and flushes them once (one segment); returns after the compaction that
    /// flush may start.
    func loadedByOneFlush(at path: String, rows: Int, _ model: inout Model) throws -> (Database, CollectionEngine) {
        let db = try Database.open(at: path, options: quietOptions())
        try db.createCollection("c", dimension: 8, metric: .l2)
        let engine = try db.engine("c")
        _ = try db.insert("c", rows: model.rows(0..<Int64(rows)))
        try db.flush("c")
        engine.compactionGroup.wait()
        return (db, engine)
    }

    /// Background compaction rewrites a segment once a fifth of its rows are replaced
    /// (`compactionDeletedRatio`, 0.2 by default) and leaves the other segments alone; the rows
    /// and the search results stay the same. Before, a segment waited for 30% of its rows to be
    /// deleted, or for three more segments of its size.
    @Test(arguments: [(replaced: 250, ratio: 0.2, compacted: true), (replaced: 150, ratio: 0.2, compacted: false),
                      (replaced: 150, ratio: 0.1, compacted: true)])
    func aSegmentPastTheDeletedRatioIsRewritten(_ c: (replaced: Int, ratio: Double, compacted: Bool)) throws {
        let dir = TemporaryDirectory()
        var options = quietOptions()  // background compaction on
        options.compactionDeletedRatio = c.ratio
        // Room for one segment of 1,000 rows (8 × 4 bytes of vector + 8 for the id), so that the
        // explicit flushes pack nothing and only the deleted share decides.
        options.segmentTargetBytes = 1000 * 40
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 8, metric: .l2)
        let engine = try db.engine("c")
        var model = Model()
        _ = try db.insert("c", rows: model.rows(0..<1000))
        try db.flush("c")
        _ = try db.insert("c", rows: model.rows(1000..<2000))
        try db.flush("c")
        _ = try db.upsert("c", rows: model.rows((0..<Int64(c.replaced)).map { $0 * 4 }))  // spread over the first segment
        try db.flush("c")  // starts the compaction when one is due
        engine.compactionGroup.wait()
        let live = 1000 - c.replaced
        if c.compacted {
            #expect(try segments(db) == [[live, 0], [1000, 0], [c.replaced, 0]])
        } else {
            #expect(try segments(db) == [[1000, c.replaced], [1000, 0], [c.replaced, 0]])
        }
        try model.checkAndReopen(db, at: dir.path, options: options, "after the flush")
    }

    /// Each automatic step compacts the segment with the largest deleted share first (with the
    /// segments of its size past the ratio), then the next; the rows stay the same at each step.
    @Test func theSegmentWithTheLargestDeletedShareGoesFirst() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: manualCompactionOptions())
        try db.createCollection("c", dimension: 8, metric: .l2)
        var model = Model()
        for range in [0..<4000, 4000..<4300, 4300..<4600] as [Range<Int64>] {
            _ = try db.insert("c", rows: model.rows(range))
            try db.flush("c")
        }
        // 40% of the large segment, 25% and 30% of the two small ones (of one size tier).
        let deleted = Array(stride(from: 0, to: 4000, by: 5)) + Array(stride(from: 2, to: 4000, by: 5))
            + Array(stride(from: 4000, to: 4300, by: 4)) + Array(stride(from: 4300, to: 4600, by: 10))
            + Array(stride(from: 4301, to: 4600, by: 10)) + Array(stride(from: 4302, to: 4600, by: 10))
        _ = try db.delete("c", ids: deleted.map { .int(Int64($0)) })
        for id in deleted { model.vectors[Int64(id)] = nil }
        try db.flush("c")
        #expect(try segments(db) == [[4000, 1600], [300, 75], [300, 90]])
        let engine = try db.engine("c")
        #expect(try engine.compact(.automatic))
        #expect(try segments(db) == [[2400, 0], [300, 75], [300, 90]])
        try model.check(db, "after the first step")
        #expect(try engine.compact(.automatic))
        #expect(try segments(db) == [[2400, 0], [435, 0]])
        try model.check(db, "after the second step")
        #expect(try engine.compact(.automatic) == false)
        try db.close()
    }

    /// A bulk load leaves segments of the flush threshold and a smaller last one; an explicit
    /// flush packs them up to the target size (`segmentTargetBytes`), so an indexed collection
    /// has few graphs to search. Rows per segment, row 8 × 4 + 8 = 40 bytes: a target of 700
    /// rows packs the smallest three (100 + 300 + 300) and leaves the last 300 alone; a target
    /// of 1,000 rows packs all four.
    @Test(arguments: [(targetRows: 1000, expected: [1000]), (targetRows: 700, expected: [300, 700])])
    func anExplicitFlushPacksTheSmallSegments(_ c: (targetRows: Int, expected: [Int])) throws {
        let dir = TemporaryDirectory()
        var options = quietOptions()  // background compaction on
        options.segmentTargetBytes = c.targetRows * 40
        var model = Model()
        let (db, engine) = try loadedByThresholdFlushes(at: dir.path, rows: 1000, &model, options: options)
        #expect(try segments(db) == [[300, 0], [300, 0], [300, 0]])  // three of one size tier: no merge
        try db.flush("c")
        engine.compactionGroup.wait()
        #expect(try segments(db).map { $0[0] }.sorted() == c.expected)
        try model.checkAndReopen(db, at: dir.path, options: options, "after packing")
    }

    /// A flush after every few rows does not rewrite the large segment each time: small segments
    /// merge among themselves until the largest of a pack holds at most two thirds of its rows.
    @Test func smallFlushesDoNotRewriteALargeSegment() throws {
        let dir = TemporaryDirectory()
        var model = Model()
        let (db, engine) = try loadedByOneFlush(at: dir.path, rows: 1000, &model)
        let large = try engine.snapshot().sealed.map(\.id)
        #expect(large.count == 1)
        var next: Int64 = 1000
        // Segment sizes after each flush of 10 rows, largest first: 10 + 30 is not packed (30 is
        // more than two thirds of 40), 10 + 10 + 30 is.
        for sizes in [[1000, 10], [1000, 20], [1000, 30], [1000, 30, 10], [1000, 50]] {
            _ = try db.insert("c", rows: model.rows(next..<next + 10))
            next += 10
            try db.flush("c")
            engine.compactionGroup.wait()
            #expect(try segments(db).map { $0[0] }.sorted(by: >) == sizes)
        }
        let snap = try engine.snapshot()
        #expect(snap.sealed.contains { $0.id == large.first }, "the large segment was rewritten")
        try model.check(db, "after the small flushes")
        try db.close()
    }

    /// An index created after a load is built on one segment: the small last segment of the load
    /// joins the large one although the two-thirds rule alone would keep them apart, since no
    /// graph is built on either yet (before, the index was built on both, and every search
    /// walked two graphs). Once the large segment has its graph, a small flush keeps its own
    /// segment (the two-thirds rule).
    @Test func anIndexCreatedAfterALoadIsBuiltOnOneSegment() throws {
        let dir = TemporaryDirectory()
        var model = Model()
        let (db, engine) = try loadedByOneFlush(at: dir.path, rows: 1000, &model)
        _ = try db.insert("c", rows: model.rows(1000..<1100))
        try db.flush("c")
        engine.compactionGroup.wait()
        #expect(try segments(db).map { $0[0] }.sorted(by: >) == [1000, 100])  // no index: the two-thirds rule
        try db.createIndex("c", field: "vector", type: .hnsw, params: ["M": .int(8), "efConstruction": .int(64)])
        try db.waitForIndexBuilds("c")
        #expect(try segments(db) == [[1100, 0]])
        _ = try db.insert("c", rows: model.rows(1100..<1200))
        try db.flush("c")
        try db.waitForIndexBuilds("c")
        #expect(try segments(db).map { $0[0] }.sorted(by: >) == [1100, 100])
        let described = try db.describeIndex("c", field: "vector")
        #expect(described.indexedRows == 1200 && described.pendingRows == 0)
        try model.checkAndReopen(db, at: dir.path, options: quietOptions(), "after the index builds")
    }

    /// An index is built once on what the packing makes of a bulk load's segments, not first on
    /// each of them (the builds waited for the compaction due on their segments); every row is
    /// indexed when `waitForIndexBuilds` returns.
    @Test func indexBuildsWaitForTheCompactionDueOnTheirSegments() throws {
        let dir = TemporaryDirectory()
        var model = Model()
        let (db, engine) = try loadedByThresholdFlushes(at: dir.path, rows: 900, &model)
        #expect(try segments(db) == [[300, 0], [300, 0], [300, 0]])
        let before = engine.state.withLock { $0.manifest.nextIndexNumber }
        try db.createIndex("c", field: "vector", type: .hnsw, params: ["M": .int(8), "efConstruction": .int(64)])
        try db.waitForIndexBuilds("c")
        #expect(try segments(db) == [[900, 0]])
        // One number for the definition, one for the one build.
        #expect(engine.state.withLock { $0.manifest.nextIndexNumber } == before + 2)
        let described = try db.describeIndex("c", field: "vector")
        #expect(described.state == .finished && described.indexedRows == 900 && described.pendingRows == 0)
        #expect(try db.collectionStats("c").rowCount == model.vectors.count)
        try db.close()
    }

    /// When the compaction an index build waits for fails, the builds go ahead on the segments
    /// as they are, so `waitForIndexBuilds` still returns with every row indexed (before, the
    /// builds kept waiting for a compaction that would not come).
    @Test func aFailedCompactionDoesNotHoldUpIndexBuilds() throws {
        let dir = TemporaryDirectory()
        var model = Model()
        let (db, engine) = try loadedByThresholdFlushes(at: dir.path, rows: 900, &model)
        // The packing that the index creation asks for writes the next segment: it fails.
        let merged = engine.state.withLock { $0.manifest.nextSegmentID }
        FaultInjector.shared.add(.init(pathPrefix: dir.path + "/c1/" + FileNames.segment(merged), operation: .fsync, errno: EIO, times: 100))
        defer { FaultInjector.shared.removeAll(under: dir.path) }
        try db.createIndex("c", field: "vector", type: .ivfFlat, params: ["nlist": 4])
        try db.waitForIndexBuilds("c")
        #expect(try segments(db) == [[300, 0], [300, 0], [300, 0]])
        let described = try db.describeIndex("c", field: "vector")
        #expect(described.state == .finished && described.indexedRows == 900 && described.pendingRows == 0)
        try db.close()
    }
}
