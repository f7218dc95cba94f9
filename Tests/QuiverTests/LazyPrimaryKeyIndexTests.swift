import Foundation
import Testing
@testable import Quiver

/// The primary-key index is built on first need (a write, a delete, a flush, a get, `verify`, a
/// WAL replay), not at open: searches, queries and counts never need it, and a compaction before
/// it checks only the keys it merges.
@Suite struct LazyPrimaryKeyIndexTests {
    static func built(_ db: Database) throws -> Bool {
        try db.engine("c").state.withLock { $0.pkIndexBuilt }
    }

    static func row(_ id: Int, _ x: Float) -> Row { ["id": .int(Int64(id)), "vector": .vector([x, 1])] }

    /// Two sealed segments (ids 0..<20 then 20..<30), ids 3 and 25 deleted, id 7 upserted into the second.
    static func makeDatabase() throws -> (TemporaryDirectory, [Int64: Float]) {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: manualCompactionOptions())
        try db.createCollection("c", dimension: 2, metric: .l2)
        var model = [Int64: Float]()
        _ = try db.insert("c", rows: (0..<20).map { Self.row($0, Float($0)) })
        try db.flush("c")
        _ = try db.insert("c", rows: (20..<30).map { Self.row($0, Float($0)) })
        _ = try db.upsert("c", rows: [Self.row(7, 70)])
        _ = try db.delete("c", ids: [3, 25])
        try db.close()
        for i in 0..<30 where i != 3 && i != 25 { model[Int64(i)] = Float(i) }
        model[7] = 70
        return (dir, model)
    }

    static func rows(_ db: Database) throws -> [Int64: Float] {
        var out = [Int64: Float]()
        for r in try db.query("c", limit: 100, outputFields: ["vector"]) { out[r["id"]!.intValue!] = r["vector"]!.floatVector![0] }
        return out
    }

    @Test func openSearchAndCountDoNotBuildItTheFirstWriteDoes() throws {
        let (dir, model) = try Self.makeDatabase()
        var db = try Database.open(at: dir.path, options: manualCompactionOptions())
        #expect(try db.collectionStats("c").rowCount == model.count)
        #expect(try db.search("c", vectors: [[70, 1]], limit: 1)[0].first?.id == 7)
        #expect(try Self.rows(db) == model)
        #expect(try db.query("c", outputFields: ["count(*)"]) == [["count(*)": .int(Int64(model.count))]])
        #expect(try !Self.built(db))
        try db.compact("c")  // a compaction before any write leaves it unbuilt
        #expect(try !Self.built(db))
        #expect(try Self.rows(db) == model)

        // A get builds it; then writes check keys against it as before.
        #expect(try db.get("c", ids: [7, 3]).map { $0["id"] } == [7])
        #expect(try Self.built(db))
        #expect { _ = try db.insert("c", rows: [Self.row(7, 1)]) } throws: { ($0 as? QuiverError)?.code == .alreadyExists }
        db.abandonForTesting()

        // A write first: the insert of a live key is refused, of a deleted one accepted.
        db = try Database.open(at: dir.path, options: manualCompactionOptions())
        #expect { _ = try db.insert("c", rows: [Self.row(20, 1)]) } throws: { ($0 as? QuiverError)?.code == .alreadyExists }
        var expected = model
        _ = try db.insert("c", rows: [Self.row(3, 33)])
        expected[3] = 33
        _ = try db.upsert("c", rows: [Self.row(21, 210)])
        expected[21] = 210
        #expect(try db.delete("c", ids: [0, 25]).deleteCount == 1)
        expected[0] = nil
        #expect(try Self.rows(db) == expected)
        #expect(try db.collectionStats("c").rowCount == expected.count)
        db.abandonForTesting()  // the writes stay in the WAL

        // Replaying them builds it at open.
        db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { db.abandonForTesting() }
        #expect(try Self.built(db))
        #expect(try Self.rows(db) == expected)
        try db.flush("c")
        try db.compact("c")
        #expect(try Self.rows(db) == expected)
        #expect(try db.get("c", ids: [21, 0], outputFields: ["vector"]).map { $0["vector"] } == [.vector([210, 1])])
    }

    /// Deletes a compaction has already applied, or that matched nothing, leave no rows to flush;
    /// closing still moves the WAL checkpoint past them, so the next open replays nothing and
    /// leaves the index unbuilt.
    @Test func closingAfterDeletesACompactionAppliedLeavesNothingToReplay() throws {
        let (dir, model) = try Self.makeDatabase()
        var db = try Database.open(at: dir.path, options: manualCompactionOptions())
        #expect(try db.delete("c", ids: [5, 26]).deleteCount == 2)
        try db.compact("c")
        try db.close()
        var expected = model
        expected[5] = nil
        expected[26] = nil
        db = try Database.open(at: dir.path, options: manualCompactionOptions())
        #expect(try Self.rows(db) == expected)
        #expect(try !Self.built(db), "the deletes were replayed")
        #expect(try db.delete("c", ids: [1000]).deleteCount == 0)  // matches nothing
        try db.close()
        db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { db.abandonForTesting() }
        #expect(try Self.rows(db) == expected)
        #expect(try !Self.built(db), "the delete of nothing was replayed")
    }

    /// A key live in two segments (a delete file lost from the manifest) is found when the index is
    /// built: `.corruption` naming the segment, at the first get, write or `verify`; searches still
    /// run, and a compaction refuses to merge the two rows.
    @Test func aKeyLiveInTwoRowsIsCorruptionWhenTheIndexIsBuilt() throws {
        let (dir, _) = try Self.makeDatabase()
        let path = dir.path + "/c1/MANIFEST"
        guard case .object(var o) = try Envelope.unwrap(try FileSystem.readFile(path), magic: Manifest.magic, version: Manifest.formatVersion, path: path),
            case .array(var segments)? = o["segments"], case .object(var first)? = segments.first
        else {
            Issue.record("unexpected manifest")
            return
        }
        // The first segment's deletes (ids 3 and 7, the latter upserted into the second) are lost.
        first["delete_file"] = nil
        first["deleted"] = 0
        segments[0] = .object(first)
        o["segments"] = .array(segments)
        try FileSystem.writeFile(path, Envelope.wrap(magic: Manifest.magic, version: Manifest.formatVersion, payload: .object(o)))

        let db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { db.abandonForTesting() }
        _ = try db.search("c", vectors: [[1, 1]], limit: 3)
        let segmentFiles = try FileSystem.listDirectory(dir.path + "/c1").filter { $0.hasSuffix(".qseg") }.sorted()
        #expect(segmentFiles.count == 2)
        let calls: [(String, () throws -> Void)] = [
            ("get", { _ = try db.get("c", ids: [1]) }), ("insert", { _ = try db.insert("c", rows: [Self.row(99, 1)]) }),
            ("verify", { try db.verify("c") }),
            // A compaction before the index is built checks the keys it would merge.
            ("compact", { try db.compact("c") }),
        ]
        for (what, call) in calls {
            do {
                try call()
                Issue.record("\(what): a key live in two rows went unnoticed")
            } catch let e as QuiverError {
                #expect(e.code == .corruption && e.message.contains("primary key 7 is live in two rows") && e.message.contains(segmentFiles[1]), "\(what): \(e)")
            }
        }
        #expect(try !Self.built(db))
        // Nothing was merged: the segments that hold the damage are still the collection's.
        #expect(try FileSystem.listDirectory(dir.path + "/c1").filter { $0.hasSuffix(".qseg") }.sorted() == segmentFiles)
        #expect(try db.collectionStats("c").segmentCount == 2)
    }

    /// A read-only open builds it at the first get too, from the flushed segments.
    @Test func readOnlyOpenBuildsItAtTheFirstGet() throws {
        let (dir, model) = try Self.makeDatabase()
        var options = manualCompactionOptions()
        options.readOnly = true
        let db = try Database.open(at: dir.path, options: options)
        defer { try? db.close() }
        #expect(try Self.rows(db) == model)
        #expect(try !Self.built(db))
        #expect(try db.get("c", ids: [7, 3, 25, 29], outputFields: ["vector"]).map { $0["vector"] } == [.vector([70, 1]), .vector([29, 1])])
        #expect(try Self.built(db))
        #expect { _ = try db.insert("c", rows: [Self.row(99, 1)]) } throws: { ($0 as? QuiverError)?.code == .unsupported }
    }

    /// Dropping a partition right after open builds it (the drop's flush removes the partition's
    /// keys from it): the dropped keys can be inserted again, the others cannot.
    @Test func droppingAPartitionFirstBuildsIt() throws {
        let dir = TemporaryDirectory()
        var db = try Database.open(at: dir.path, options: manualCompactionOptions())
        try db.createCollection("c", dimension: 2, metric: .l2)
        try db.createPartition("c", partition: "p")
        _ = try db.insert("c", rows: (0..<10).map { Self.row($0, Float($0)) })
        _ = try db.insert("c", rows: (10..<20).map { Self.row($0, Float($0)) }, partition: "p")
        try db.flush("c")
        _ = try db.delete("c", ids: [3])
        try db.close()

        db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { try? db.close() }
        #expect(try !Self.built(db))
        try db.dropPartition("c", partition: "p")
        #expect(try Self.built(db))
        var model = [Int64: Float]()
        for i in 0..<10 where i != 3 { model[Int64(i)] = Float(i) }
        #expect(try Self.rows(db) == model)
        #expect(try db.collectionStats("c").rowCount == model.count)
        _ = try db.insert("c", rows: [Self.row(15, 150), Self.row(3, 30)])
        #expect { _ = try db.insert("c", rows: [Self.row(5, 1)]) } throws: { ($0 as? QuiverError)?.code == .alreadyExists }
        model[15] = 150
        model[3] = 30
        #expect(try Self.rows(db) == model)
    }

    /// Random writes, gets, flushes, compactions and reopens (clean, or abandoned so that the WAL
    /// is replayed) against a dictionary, with int and string keys: every result is the model's,
    /// and the index is built exactly when something needed it.
    @Test(arguments: [(UInt64(1), false), (2, true), (3, false), (4, true)])
    func randomOperationsAcrossReopensMatchModel(seed: UInt64, stringKeys: Bool) throws {
        var g = SeededGenerator(seed: seed)
        let dir = TemporaryDirectory()
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: stringKeys ? .varchar(maxLength: 8) : .int64, isPrimaryKey: true),
            FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)),
        ])
        func key(_ k: Int) -> Value { stringKeys ? .string("k\(k)") : .int(Int64(k)) }
        func number(_ v: Value) -> Int {
            switch v {
            case .string(let s): Int(s.dropFirst())!
            default: Int(v.intValue!)
            }
        }
        func row(_ k: Int, _ x: Float) -> Row { ["id": key(k), "vector": .vector([x, 1])] }
        func rows(_ db: Database) throws -> [Int: Float] {
            var out = [Int: Float]()
            for r in try db.query("c", limit: 1000, outputFields: ["vector"]) { out[number(r["id"]!)] = r["vector"]!.floatVector![0] }
            return out
        }

        var db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { db.abandonForTesting() }
        try db.createCollection("c", schema: schema, metric: .l2)
        var model = [Int: Float]()
        var built = false  // as after an open with nothing to replay
        // The WAL holds records past the manifest's checkpoint, which a reopen replays (and a
        // replay builds the index). A compaction does not move the checkpoint; a flush does, even
        // with nothing to write (deletes a compaction already carries); so does a clean close.
        var logged = false
        var value: Float = 0
        for step in 0..<300 {
            let context = "seed \(seed) step \(step)"
            let keys = Set((0..<Int.random(in: 1...4, using: &g)).map { _ in Int.random(in: 0..<60, using: &g) }).sorted()
            value += 1
            switch Int.random(in: 0..<100, using: &g) {
            case 0..<25:  // an insert, refused whole when a key is live
                built = true
                if keys.contains(where: { model[$0] != nil }) {
                    #expect(throws: QuiverError.self, "\(context)") { try db.insert("c", rows: keys.map { row($0, value) }) }
                } else {
                    _ = try db.insert("c", rows: keys.map { row($0, value) })
                    for k in keys { model[k] = value }
                    logged = true
                }
            case 25..<40:
                _ = try db.upsert("c", rows: keys.map { row($0, value) })
                for k in keys { model[k] = value }
                (built, logged) = (true, true)
            case 40..<52:
                let live = keys.filter { model[$0] != nil }
                #expect(try db.delete("c", ids: keys.map(key)).deleteCount == live.count, "\(context)")
                for k in live { model[k] = nil }
                built = true
                if !live.isEmpty { logged = true }
            case 52..<60:
                try db.flush("c")
                logged = false
            case 60..<65:
                try db.compact("c")  // merges every sealed segment of the one partition
            case 65..<77:
                let got = try db.get("c", ids: keys.map(key), outputFields: ["vector"])
                #expect(got.map { number($0["id"]!) } == keys.filter { model[$0] != nil }, "\(context)")
                #expect(got.map { $0["vector"]!.floatVector![0] } == keys.compactMap { model[$0] }, "\(context)")
                built = true
            case 77..<85:
                #expect(try rows(db) == model, "\(context)")
                #expect(try db.collectionStats("c").rowCount == model.count, "\(context)")
                #expect(try db.search("c", vectors: [[0, 1]], limit: 1)[0].count == min(1, model.count), "\(context)")
            case 85..<92:
                try db.close()
                logged = false
                db = try Database.open(at: dir.path, options: manualCompactionOptions())
                built = false  // the close moved the checkpoint: nothing to replay
            default:
                db.abandonForTesting()
                db = try Database.open(at: dir.path, options: manualCompactionOptions())
                built = logged
            }
            #expect(try Self.built(db) == built, "\(context)")
        }
        #expect(try rows(db) == model, "seed \(seed) final")
    }
}
