import Foundation
import Testing
@testable import Quiver

/// The primary-key index is built on first need (a write, a delete, a flush, a get, a WAL
/// replay), not at open: searches, queries and counts never need it.
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

    /// A key live in two segments (a delete file lost from the manifest) is found when the index is
    /// built: `.corruption` naming the segment, at the first get or write; searches still run.
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
        for (what, call) in [("get", { _ = try db.get("c", ids: [1]) }), ("insert", { _ = try db.insert("c", rows: [Self.row(99, 1)]) })] as [(String, () throws -> Void)] {
            do {
                try call()
                Issue.record("\(what): a key live in two rows went unnoticed")
            } catch let e as QuiverError {
                #expect(e.code == .corruption && e.message.contains("primary key 7 is live in two rows") && e.message.contains(".qseg"), "\(what): \(e)")
            }
        }
    }
}
