import Foundation
import Testing
@testable import Quiver

@Suite struct DatabaseTests {
    @Test func quickSetupInsertSearchReopen() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            try db.createCollection("docs", dimension: 3, metric: .l2)
            let r = try db.insert("docs", rows: [
                ["id": 1, "vector": [1, 0, 0], "text": "one"],
                ["id": 2, "vector": [0, 1, 0], "text": "two"],
                ["id": 3, "vector": [0, 0, 1], "text": "three", "lang": "en"],
            ])
            #expect(r.insertCount == 3)
            #expect(r.ids == [1, 2, 3])
            let hits = try db.search("docs", vectors: [[0.9, 0.1, 0]], limit: 2, outputFields: ["text"])
            #expect(hits[0].map(\.id) == [1, 2])
            #expect(abs(hits[0][0].distance - 0.02) < 1e-6)
            #expect(hits[0][0].entity == ["text": "one"])
            try db.flush("docs")
            _ = try db.delete("docs", ids: [2])
            try db.close()
        }
        let db = try Database.open(at: dir.path, options: quietOptions())
        #expect(try db.listCollections() == ["docs"])
        #expect(try db.collectionStats("docs").rowCount == 2)
        let rows = try db.get("docs", ids: [3, 2, 1], outputFields: ["*"])
        #expect(rows.count == 2)
        #expect(rows[0]["lang"] == "en")
        #expect(rows[0]["vector"] == .vector([0, 0, 1]))
        let hits = try db.search("docs", vectors: [[0.9, 0.1, 0]], limit: 5)
        #expect(hits[0].map(\.id) == [1, 3])
        try db.close()
    }

    @Test func secondOpenIsLockedUntilClose() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        #expect {
            try Database.open(at: dir.path, options: quietOptions())
        } throws: { error in
            (error as? QuiverError)?.code == .locked && (error as? QuiverError)?.message.contains(dir.path) == true
        }
        try db.close()
        let again = try Database.open(at: dir.path, options: quietOptions())
        try again.close()
    }

    @Test func duplicateKeyRejectsWholeCall() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("c", dimension: 2)
        _ = try db.insert("c", rows: [["id": 1, "vector": [1, 0]]])
        #expect(throws: QuiverError.self) {
            try db.insert("c", rows: [["id": 5, "vector": [1, 0]], ["id": 1, "vector": [0, 1]]])
        }
        #expect(try db.collectionStats("c").rowCount == 1)
        #expect(try db.get("c", ids: [5]).isEmpty)
        _ = try db.upsert("c", rows: [["id": 1, "vector": [0, 1], "x": 2]])
        #expect(try db.collectionStats("c").rowCount == 1)
        #expect(try db.get("c", ids: [1], outputFields: ["x"]) == [["id": 1, "x": 2]])
        try db.close()
    }

    @Test func validationErrorsNameFieldAndRow() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "pk", dataType: .varchar(maxLength: 8), isPrimaryKey: true),
            FieldSchema(name: "v", dataType: .floatVector(dimension: 2)),
            FieldSchema(name: "n", dataType: .int8, nullable: true),
            FieldSchema(name: "s", dataType: .varchar(maxLength: 3), defaultValue: "abc"),
        ])
        try db.createCollection("t", schema: schema, metric: .ip)
        func code(_ rows: [Row]) -> (QuiverError.Code, String)? {
            do { _ = try db.insert("t", rows: rows); return nil } catch let e as QuiverError {
                return (e.code, e.message)
            } catch { return nil }
        }
        let ok: Row = ["pk": "a", "v": [1, 2]]
        #expect(code([ok, ["pk": "b", "v": [1, 2, 3]]])! == (.dimensionMismatch, "field 'v' in row 1: vector has 3 dimensions, the field has 2"))
        #expect(code([["pk": "b", "v": .vector([1, .nan])]])?.1.contains("NaN") == true)
        #expect(code([["pk": "b", "v": [1, 2], "n": 300]])?.1.contains("out of range for int8") == true)
        #expect(code([["pk": "b", "v": [1, 2], "s": "toolong"]])?.1.contains("exceeds max_length 3") == true)
        #expect(code([["pk": "b", "v": [1, 2], "zzz": 1]])?.1.contains("unknown field 'zzz'") == true)
        #expect(code([["pk": "b"]])?.1.contains("missing field 'v'") == true)
        #expect(code([["pk": "b", "v": [1, 2], "n": "x"]])?.1.contains("expected an integer") == true)
        #expect(try db.collectionStats("t").rowCount == 0)
        _ = try db.insert("t", rows: [ok])
        #expect(try db.get("t", ids: ["a"], outputFields: ["n", "s"]) == [["pk": "a", "n": nil, "s": "abc"]])
        try db.close()
    }

    @Test func autoIDGeneratesIncreasingKeysAcrossReopen() throws {
        let dir = TemporaryDirectory()
        var ids = [Value]()
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            try db.createCollection("a", dimension: 2, autoID: true)
            ids += try db.insert("a", rows: [["vector": [1, 0]], ["vector": [0, 1]]]).ids
            #expect(throws: QuiverError.self) { try db.insert("a", rows: [["id": 9, "vector": [1, 0]]]) }
            try db.close()
        }
        let db = try Database.open(at: dir.path, options: quietOptions())
        ids += try db.insert("a", rows: [["vector": [1, 1]]]).ids
        #expect(Set(ids).count == 3)
        #expect(try db.collectionStats("a").rowCount == 3)
        try db.close()
    }

    @Test func collectionsCreateRenameDrop() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("a", dimension: 2)
        #expect(throws: QuiverError.self) { try db.createCollection("a", dimension: 2) }
        #expect(throws: QuiverError.self) { try db.createCollection("1bad", dimension: 2) }
        #expect(throws: QuiverError.self) { try db.createCollection("bad-name", dimension: 2) }
        _ = try db.insert("a", rows: [["id": 1, "vector": [1, 0]]])
        try db.renameCollection("a", to: "b")
        #expect(!db.hasCollection("a"))
        #expect(try db.collectionStats("b").rowCount == 1)
        try db.close()
        let db2 = try Database.open(at: dir.path, options: quietOptions())
        #expect(try db2.listCollections() == ["b"])
        try db2.dropCollection("b")
        #expect(try db2.listCollections() == [])
        #expect(throws: QuiverError.self) { try db2.insert("b", rows: [["id": 1, "vector": [1, 0]]]) }
        try db2.close()
        #expect(throws: QuiverError.self) { try db2.listCollections() }
    }

    @Test func queryPagingAndCount() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("q", dimension: 2)
        _ = try db.insert("q", rows: (0..<10).map { ["id": .int(Int64($0)), "vector": [1, 0]] })
        try db.flush("q")
        _ = try db.insert("q", rows: (10..<15).map { ["id": .int(Int64($0)), "vector": [1, 0]] })
        _ = try db.delete("q", ids: [3, 12])
        #expect(try db.query("q", outputFields: ["count(*)"]) == [["count(*)": 13]])
        let page = try db.query("q", limit: 4, offset: 8)
        #expect(page.map { $0["id"]! } == [9, 10, 11, 13])
        #expect(throws: QuiverError.self) { try db.query("q") }
        #expect(throws: QuiverError.self) { try db.query("q", limit: 16_000, offset: 1000) }
        try db.close()
    }

    @Test func collectionHandle() async throws {
        let dir = TemporaryDirectory()
        let db = try await Database.open(at: dir.path, options: quietOptions())
        try await db.createCollection("h", dimension: 2, metric: .l2)
        #expect(throws: QuiverError.self) { try db.collection("missing") }
        let h = try db.collection("h")
        _ = try await h.insert([["id": 1, "vector": [0, 0]], ["id": 2, "vector": [5, 5]]])
        _ = try await h.insert([["id": 3, "vector": [1, 1]]])
        #expect(try await h.search([[0.9, 0.9]], limit: 1)[0].map(\.id) == [3])
        #expect(try await h.query(limit: 10).count == 3)
        try await h.flush()
        #expect(try h.stats().rowCount == 3)
        #expect(try await h.get([2, 9], outputFields: ["vector"]) == [["id": 2, "vector": .vector([5, 5])]])
        #expect(try await h.search(ids: [1], limit: 2)[0].map(\.id) == [1, 3])
        #expect(try await h.delete(filter: "id >= {min}", filterParams: ["min": 3]).deleteCount == 1)
        try await h.createIndex(field: "vector", type: .hnsw, params: ["M": 8])
        #expect(try await h.listIndexes() == ["vector"])
        #expect(try await h.describeIndex(field: "vector").params["M"] == 8)
        try await h.dropIndex(field: "vector")
        #expect(try await h.listIndexes().isEmpty)
        #expect(try h.loadState() == .loaded)
        try await db.dropCollection("h")
        #expect(try h.loadState() == .notExist)
        try await db.close()
    }

    /// The handle's calls forward to the database's: binary and by-id search, indexes, get, delete.
    @Test func collectionHandleForwards() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "bits", dataType: .binaryVector(dimension: 16)),
        ])
        try db.createCollection("b", schema: schema, metric: .hamming)
        let h = try db.collection("b")
        _ = try h.insert([[UInt8]]([[0, 0], [0, 1], [255, 255], [0, 3]]).enumerated().map { ["id": .int(Int64($0.offset)), "bits": .bytes($0.element)] })
        #expect(try h.search(binaryVectors: [[0, 0]], limit: 3)[0].map(\.distance) == [0, 1, 2])
        #expect(try h.search(ids: [2], limit: 1)[0].map(\.id) == [2])
        try h.createIndex(field: "bits", type: .flat)
        try h.waitForIndexBuilds()
        #expect(try h.describeIndex(field: "bits").type == .flat)
        #expect(try h.listIndexes() == ["bits"])
        try h.dropIndex(field: "bits")
        #expect(try h.listIndexes() == [])
        #expect(try h.get([3, 1], outputFields: ["bits"]).map { $0["id"] } == [3, 1])
        #expect(try h.delete(ids: [0, 1], filter: "id > 0").deleteCount == 1)
        #expect(try h.query(limit: 10).count == 3)
        try db.close()
    }

    struct Doc: Codable, Equatable {
        var id: Int64
        var vector: [Float]
        var title: String
    }

    @Test func codableRows() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("d", dimension: 2)
        let docs = [Doc(id: 1, vector: [0.5, 0.25], title: "a"), Doc(id: 2, vector: [0.1, 0.2], title: "b")]
        _ = try db.insert("d", objects: docs)
        #expect(try db.get("d", ids: [2, 1], as: Doc.self) == [docs[1], docs[0]])
        #expect(try db.get("d", ids: [1, 2], outputFields: ["title"], filter: "title == {t}", filterParams: ["t": "b"])
            == [["id": 2, "title": "b"]])
        try db.close()
    }
}
