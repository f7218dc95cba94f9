import Dispatch
import Foundation
import Testing
@testable import Quiver

/// Lazy loading and release (issue 19): `Database.open` reads the catalog only; a collection is
/// loaded by its first use or `loadCollection`; `releaseCollection` closes its engine, refuses
/// reads with `.notLoaded` until a load, and loses nothing.
@Suite struct LoadReleaseTests {
    /// A database with collections "a" and "b", each holding rows 0..<40 (4-d, L2, vector = [i, 0, 0, 1]):
    /// rows 0..<30 flushed into a segment, 30..<40 only in the WAL, and row 5 deleted.
    static func database() throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        for name in ["a", "b"] {
            try db.createCollection(name, dimension: 4, metric: .l2)
            _ = try db.insert(name, rows: (0..<30).map(row))
            try db.flush(name)
            _ = try db.insert(name, rows: (30..<40).map(row))
            _ = try db.delete(name, ids: [5])
        }
        db.abandonForTesting()  // rows 30..<40 and the delete stay in the WAL only
        return dir
    }

    static func row(_ i: Int) -> Row { ["id": .int(Int64(i)), "vector": .vector([Float(i), 0, 0, 1])] }

    /// The ids of the live rows, read by a query.
    static func ids(_ db: Database, _ name: String) throws -> [Int64] {
        try db.query(name, filter: "id >= 0", limit: 1000).compactMap { $0["id"]?.intValue }.sorted()
    }

    static let expected: [Int64] = (0..<40).filter { $0 != 5 }.map(Int64.init)

    /// The open engine of `name`, without loading it.
    static func loadedEngine(_ db: Database, _ name: String) throws -> CollectionEngine? {
        try db.withCatalog { try $0.collection(name).slot.loadedEngine }
    }

    static func segmentFile(_ dir: TemporaryDirectory, collection: String) throws -> String {
        let directory = dir.path + "/" + collection
        let name = try #require(try FileSystem.listDirectory(directory).first { $0.hasSuffix(".qseg") })
        return directory + "/" + name
    }

    /// Asserts that `body` throws a `QuiverError` with `code`.
    static func expectCode(_ code: QuiverError.Code, _ what: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("\(what) did not throw")
        } catch let error as QuiverError {
            #expect(error.code == code, "\(what): \(error)")
        } catch {
            Issue.record("\(what) threw \(error)")
        }
    }

    @Test func openReadsNoSegmentUntilACollectionIsUsed() throws {
        let dir = try Self.database()
        // Damage b's segment where loading reads it (the footer; vectors are verified when
        // first read, not on load): it fails only when b is loaded.
        let path = try Self.segmentFile(dir, collection: "c2")
        var bytes = try FileSystem.readFile(path)
        bytes[bytes.count - SegmentFormat.trailerSize - 2] ^= 0x5A
        try FileSystem.writeFile(path, bytes)

        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        #expect(db.damagedCollections.isEmpty)
        #expect(try db.listCollections() == ["a", "b"])
        #expect(try db.loadState("a") == .notLoad)
        #expect(try db.loadState("b") == .notLoad)
        #expect(try db.loadCountForTesting("a") == 0 && db.loadCountForTesting("b") == 0)
        #expect(try Self.loadedEngine(db, "a") == nil)

        // The first use loads "a" (search auto-loads: no loadCollection needed after open).
        #expect(try db.search("a", vectors: [[7.2, 0, 0, 1]], limit: 1)[0].map(\.id) == [7])
        #expect(try db.loadState("a") == .loaded)
        #expect(try db.loadCountForTesting("a") == 1 && db.loadCountForTesting("b") == 0)
        #expect(try Self.ids(db, "a") == Self.expected)

        // "b" is damaged: found when it is used, reported then and on every later call.
        do {
            _ = try db.query("b", limit: 1)
            Issue.record("a query of the damaged collection did not throw")
        } catch let error as QuiverError {
            #expect(error.code == .corruption && error.message.contains(".qseg"), "\(error)")
        }
        #expect(db.damagedCollections.keys.sorted() == ["b"])
        #expect(try db.loadState("b") == .notLoad)
        Self.expectCode(.corruption, "loading the damaged collection") { try db.loadCollection("b") }
        try db.dropCollection("b")
        #expect(try db.listCollections() == ["a"])
    }

    @Test func releaseFreesTheEngineRefusesReadsAndLoadBringsEverythingBack() throws {
        let dir = try Self.database()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        try db.loadCollection("a")
        #expect(try db.loadState("a") == .loaded)
        #expect(try db.loadCountForTesting("a") == 1)
        try db.loadCollection("a")  // loading a loaded collection does nothing
        #expect(try db.loadCountForTesting("a") == 1)
        let engine = try #require(try Self.loadedEngine(db, "a"))

        try db.releaseCollection("a")
        #expect(try db.loadState("a") == .notLoad)
        #expect(try Self.loadedEngine(db, "a") == nil, "the engine is gone")
        #expect(throws: QuiverError.self) { _ = try engine.snapshot() }  // closed: its memory is unreferenced
        try db.releaseCollection("a")  // releasing twice does nothing
        Self.expectCode(.notLoaded, "search") { _ = try db.search("a", vectors: [[1, 0, 0, 1]], limit: 1) }
        Self.expectCode(.notLoaded, "query") { _ = try db.query("a", filter: "id > 3") }
        Self.expectCode(.notLoaded, "get") { _ = try db.get("a", ids: [1]) }
        Self.expectCode(.notLoaded, "search by id") { _ = try db.search("a", ids: [1], limit: 1) }
        Self.expectCode(.notLoaded, "a handle's search") { _ = try db.collection("a").search([[1, 0, 0, 1]], limit: 1) }
        // The other collection is not affected.
        #expect(try Self.ids(db, "b") == Self.expected)

        // Writes, stats and index calls work on a released collection and leave it released (as Milvus).
        _ = try db.insert("a", rows: [Self.row(100)])
        _ = try db.upsert("a", rows: [Self.row(101)])
        #expect(try db.delete("a", ids: [0]).deleteCount == 1)
        #expect(try db.collectionStats("a").rowCount == 40)
        #expect(try db.describeCollection("a").rowCount == 40)
        #expect(try db.listIndexes("a").isEmpty)
        #expect(try db.loadState("a") == .notLoad)
        Self.expectCode(.notLoaded, "search after writes") { _ = try db.search("a", vectors: [[1, 0, 0, 1]], limit: 1) }

        try db.loadCollection("a")
        #expect(try db.loadState("a") == .loaded)
        let expected = Self.expected.filter { $0 != 0 } + [100, 101]
        #expect(try Self.ids(db, "a") == expected)
        #expect(try db.search("a", vectors: [[29.9, 0, 0, 1]], limit: 2)[0].map(\.id) == [30, 29])

        // A release flushes: the growing rows are in a segment afterwards, and a reopen finds them.
        try db.releaseCollection("a")
        try db.loadCollection("a")
        #expect(try db.collectionStats("a").growingRowCount == 0)
        db.abandonForTesting()
        let reopened = try Database.open(at: dir.path, options: quietOptions())
        defer { reopened.abandonForTesting() }
        #expect(try reopened.loadState("a") == .notLoad, "a release lasts until the database is closed")
        #expect(try Self.ids(reopened, "a") == expected)
    }

    @Test func releasedCollectionKeepsItsStateThroughRenameAliasAndMetricChange() throws {
        let dir = try Self.database()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        try db.createAlias("a", alias: "live")
        try db.releaseCollection("live")
        #expect(try db.loadState("a") == .notLoad)
        try db.renameCollection("a", to: "z")
        #expect(try db.loadState("z") == .notLoad)
        #expect(try db.loadState("live") == .notLoad)
        Self.expectCode(.notLoaded, "search through the alias") { _ = try db.search("live", vectors: [[1, 0, 0, 1]], limit: 1) }
        try db.changeMetric(of: "z", to: .ip)
        #expect(try db.loadState("z") == .notLoad)
        Self.expectCode(.notLoaded, "search after the metric change") { _ = try db.search("z", vectors: [[1, 0, 0, 1]], limit: 1) }
        try db.loadCollection("live")
        #expect(try db.describeCollection("z").metric == .ip)
        #expect(try db.search("z", vectors: [[1, 0, 0, 0]], limit: 1)[0].map(\.id) == [39])
        #expect(try Self.ids(db, "live") == Self.expected)
        try db.dropAlias("live")
        try db.releaseCollection("z")
        try db.dropCollection("z")
        #expect(try db.listCollections() == ["b"])
    }

    @Test func concurrentFirstUsesLoadOnce() throws {
        let dir = try Self.database()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        let results = Locked<[[Int64]]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            do {
                let ids: [Int64]
                switch i % 3 {
                case 0: ids = try db.search("a", vectors: [[12.1, 0, 0, 1]], limit: 2)[0].compactMap(\.id.intValue)
                case 1: ids = try db.get("a", ids: [12, 13]).compactMap { $0["id"]?.intValue }.sorted()
                default: ids = try [Int64(db.collectionStats("a").rowCount)]
                }
                results.withLock { $0.append(ids) }
            } catch {
                Issue.record("use \(i) failed: \(error)")
            }
        }
        #expect(try db.loadCountForTesting("a") == 1)
        let all = results.withLock { $0 }
        #expect(all.count == 8)
        #expect(all.allSatisfy { $0 == [12, 13] || $0 == [39] })
    }

    @Test func releaseWhileSearchesRunNeverFailsThemOtherwise() throws {
        let dir = try Self.database()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        let stop = Locked(false)
        let outcomes = Locked((ok: 0, notLoaded: 0))
        let group = DispatchGroup()
        for _ in 0..<3 {
            DispatchQueue.global().async(group: group) {
                while !stop.withLock({ $0 }) {
                    do {
                        let hits = try db.search("a", vectors: [[20.1, 0, 0, 1]], limit: 3)[0].map(\.id)
                        #expect(hits == [20, 21, 19])
                        outcomes.withLock { $0.ok += 1 }
                    } catch let error as QuiverError where error.code == .notLoaded {
                        outcomes.withLock { $0.notLoaded += 1 }
                    } catch {
                        Issue.record("a search racing a release failed with \(error)")
                    }
                }
            }
        }
        /// Waits (up to a minute) until the searches have succeeded `count` more times.
        func awaitSuccesses(_ count: Int) {
            let target = outcomes.withLock { $0.ok } + count
            let deadline = ContinuousClock.now + .seconds(60)
            while outcomes.withLock({ $0.ok }) < target && ContinuousClock.now < deadline { usleep(1000) }
        }
        awaitSuccesses(3)  // the searches run before the first release…
        for _ in 0..<20 {
            try db.releaseCollection("a")
            try db.loadCollection("a")
        }
        let before = outcomes.withLock { $0.ok }
        awaitSuccesses(3)  // …and after the last load
        stop.withLock { $0 = true }
        group.wait()
        #expect(before >= 3 && outcomes.withLock { $0.ok } >= before + 3, "\(outcomes.withLock { $0 })")
        #expect(try Self.ids(db, "a") == Self.expected)
        #expect(try db.loadCountForTesting("a") >= 20)
    }

    @Test func crashAfterAReleaseLosesNothing() throws {
        let dir = try Self.database()
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            try db.releaseCollection("a")
            _ = try db.insert("a", rows: [Self.row(200)])  // the write reopens the engine; WAL only
            db.abandonForTesting()  // a crash: no flush, no close
        }
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        #expect(try Self.ids(db, "a") == Self.expected + [200])
        #expect(try Self.ids(db, "b") == Self.expected)
    }

    @Test func unknownCollectionsAndClosedDatabases() throws {
        let dir = try Self.database()
        let db = try Database.open(at: dir.path, options: quietOptions())
        Self.expectCode(.notFound, "load") { try db.loadCollection("nope") }
        Self.expectCode(.notFound, "release") { try db.releaseCollection("nope") }
        #expect(try db.loadState("nope") == .notExist)
        try db.loadCollection("a")
        try db.close()
        Self.expectCode(.closed, "load after close") { try db.loadCollection("a") }
        Self.expectCode(.closed, "release after close") { try db.releaseCollection("a") }
        Self.expectCode(.closed, "load state after close") { _ = try db.loadState("a") }
    }
}
