import Quiver
import QuiverTestSupport
import Testing

/// The conformance scenario (Tests/QuiverTestSupport/ConformanceScenario.swift) on the embedded
/// `Database`, called through `any VectorDatabase` as a remote backend's tests call it.
@Suite struct VectorDatabaseConformanceTests {
    @Test func embeddedDatabase() async throws {
        let dir = TemporaryDirectory()
        let db: any VectorDatabase = try await Database.open(at: dir.path, options: quietOptions())
        try await ConformanceScenario.run(db, backend: .embedded)
        try await db.close()
    }

    /// On a concrete `Database` in `async` code, the labelled calls with `await` resolve (to the
    /// protocol extension's) and give what the synchronous calls give; load state as documented.
    @Test func concreteDatabaseAsyncAndSyncAgree() async throws {
        let dir = TemporaryDirectory()
        let db = try await Database.open(at: dir.path, options: quietOptions())
        try await db.createCollection("c", dimension: 4, metric: .l2)
        _ = try await db.insert("c", rows: (0..<10).map { ["id": .int(Int64($0)), "vector": .vector([Float($0), 0, 0, 1])] })
        let asyncHits = try await db.search("c", vectors: [[2.2, 0, 0, 1]], limit: 3)
        let syncHits = try syncSearch(db)
        #expect(asyncHits == syncHits)
        #expect(asyncHits[0].map(\.id) == [2, 3, 1])
        #expect(try await db.get("c", ids: [4], outputFields: ["vector"]) == [["id": 4, "vector": .vector([4, 0, 0, 1])]])
        #expect(try await db.search("c", ids: [9], limit: 2)[0].map(\.id) == [9, 8])
        try await db.createIndex("c", field: "vector", typeName: "HNSW")
        #expect(try await db.describeIndex("c", field: "vector").type == .hnsw)
        #expect(try await db.delete("c", filter: "id < 5").deleteCount == 5)
        #expect(try db.loadState("c") == .loaded)
        try await db.releaseCollection("c")
        #expect(try db.loadState("c") == .notLoad)
        await #expect(throws: QuiverError.self) { _ = try await db.search("c", vectors: [[2.2, 0, 0, 1]], limit: 3) }
        try await db.loadCollection("c")
        #expect(try await db.search("c", vectors: [[2.2, 0, 0, 1]], limit: 1)[0].map(\.id) == [5])
        #expect(try db.loadState("nope") == .notExist)
        await #expect(throws: QuiverError.self) { try await db.loadCollection("nope") }
        try await db.close()
        #expect(throws: QuiverError.self) { try db.loadState("c") }
    }

    private func syncSearch(_ db: Database) throws -> [[Hit]] {
        try db.search("c", vectors: [[2.2, 0, 0, 1]], limit: 3)
    }
}
