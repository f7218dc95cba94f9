import Foundation
import Quiver
import QuiverRemote
import QuiverTestSupport
import Testing

/// Which server a test runs against (QuiverTestSupport's MilvusTestServer, shared with RAGBackendTests).
typealias Backend = MilvusTestServer

/// The servers run here (see ``MilvusTestServer/available``).
let availableBackends = MilvusTestServer.available

/// Expects `body` to throw a QuiverError with `code`.
func expectCode<T>(_ code: QuiverError.Code, _ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async {
    do {
        _ = try await body()
        Issue.record("expected a \(code) error, got success", sourceLocation: sourceLocation)
    } catch let error as QuiverError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a QuiverError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Exact L2 top-k of `query` among `vectors` (ids 0..<n), computed here as the model.
func bruteForceL2(_ query: [Float], _ vectors: [[Float]], k: Int) -> [(Int64, Float)] {
    var scored = [(Int64, Float)]()
    for (i, v) in vectors.enumerated() {
        var sum: Float = 0
        for (a, b) in zip(query, v) { sum += (a - b) * (a - b) }
        scored.append((Int64(i), sum))
    }
    scored.sort { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
    return Array(scored.prefix(k))
}

/// RemoteDatabase against `quiver serve` and `milvus-lite server` started here on free loopback
/// ports: the calls of VectorDatabase with results checked against a brute-force model, the
/// typed errors, and the failure cases (no server, server killed, wrong token, message limits).
@Suite(.serialized) struct RemoteDatabaseTests {
    static func vectors(_ n: Int, dimension: Int = 4, seed: UInt64 = 7) -> [[Float]] {
        var state = seed
        return (0..<n).map { _ in
            (0..<dimension).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int(state >> 40) % 2001 - 1000) / 1000
            }
        }
    }

    @Test(.enabled(if: !availableBackends.isEmpty, "needs the built quiver or milvus-lite (scripts/test-pymilvus.sh makes .venv-pymilvus)"),
          arguments: availableBackends)
    func rowsSearchAndQueryMatchTheModel(_ backend: Backend) async throws {
        let server = try backend.start()
        defer { server.stop() }
        var options = ConnectOptions()
        options.timeout = .seconds(60)
        let db = try await RemoteDatabase(uri: server.uri, options: options)
        let vectors = Self.vectors(50)
        try await db.createCollection("docs", dimension: 4, metric: .l2)
        #expect(try await db.hasCollection("docs"))
        #expect(try await db.listCollections().contains("docs"))
        #expect(try await db.loadState("docs") == .loaded)
        let rows: [Row] = vectors.enumerated().map { i, v in
            ["id": .int(Int64(i)), "vector": .vector(v), "text": .string("row \(i)"), "n": .int(Int64(i % 7))]
        }
        let inserted = try await db.insert("docs", rows: rows)
        #expect(inserted.insertCount == 50 && inserted.ids == (0..<50).map { .int(Int64($0)) })

        // get: the order of the keys asked for, missing keys skipped, dynamic keys flattened.
        let got = try await db.get("docs", ids: [7, 3, 999], outputFields: ["text", "n"])
        #expect(got == [["id": 7, "text": "row 7", "n": 0], ["id": 3, "text": "row 3", "n": 3]])
        let all = try await db.get("docs", ids: [5], outputFields: ["*"])
        #expect(all.first?["vector"] == .vector(vectors[5]) && all.first?["text"] == "row 5")

        // search: ids and distances of the exact top 5 (L2 squared), entities with the fields asked for.
        let queries = Self.vectors(3, seed: 99)
        let hits = try await db.search("docs", vectors: queries, limit: 5, outputFields: ["text"])
        #expect(hits.count == 3)
        for (q, list) in zip(queries, hits) {
            let expected = bruteForceL2(q, vectors, k: 5)
            #expect(list.map(\.id) == expected.map { .int($0.0) })
            for (hit, (id, distance)) in zip(list, expected) {
                #expect(abs(hit.distance - distance) <= 1e-5 * max(1, abs(distance)))
                #expect(hit.entity == ["text": .string("row \(id)")])
            }
        }
        // A filter is applied before ranking; offset skips the first hits.
        let filtered = try await db.search("docs", vectors: [queries[0]], limit: 3, offset: 1, filter: "n == 2")
        let model = bruteForceL2(queries[0], vectors, k: 50).filter { $0.0 % 7 == 2 }.dropFirst().prefix(3)
        #expect(filtered[0].map(\.id) == model.map { .int($0.0) })
        #expect(filtered[0].allSatisfy { $0.entity.isEmpty })

        // query with filter and paging, count(*).
        let page = try await db.query("docs", filter: "n == 3", outputFields: ["n"])
        #expect(Set(page.compactMap { $0["id"]?.intValue }) == Set((0..<50).filter { $0 % 7 == 3 }.map(Int64.init)))
        #expect(page.allSatisfy { $0["n"] == 3 && $0.count == 2 })
        #expect(try await db.query("docs", outputFields: ["count(*)"]) == [["count(*)": 50]])
        #expect(try await db.collectionStats("docs").rowCount == 50)

        // delete and upsert; the stats follow.
        _ = try await db.delete("docs", ids: [0, 1, 2])
        #expect(try await db.query("docs", outputFields: ["count(*)"]) == [["count(*)": 47]])
        let upserted = try await db.upsert("docs", rows: [["id": 3, "vector": .vector([9, 9, 9, 9]), "text": "new"]])
        #expect(upserted.upsertCount == 1 && upserted.ids == [3])
        #expect(try await db.get("docs", ids: [3], outputFields: ["text"]) == [["id": 3, "text": "new"]])
        let description = try await db.describeCollection("docs")
        #expect(description.metric == .l2 && description.rowCount == 47 && description.schema.primaryField.name == "id")

        // typed errors, the embedded engine's codes.
        await expectCode(.dimensionMismatch) { try await db.insert("docs", rows: [["id": 100, "vector": .vector([1, 2, 3])]]) }
        await expectCode(.dimensionMismatch) { try await db.search("docs", vectors: [[1, 2]], limit: 1) }
        await expectCode(.invalidArgument) { try await db.insert("docs", rows: [["id": 100]]) }
        await expectCode(.notFound) { try await db.describeCollection("nope") }
        await expectCode(.notFound) { try await db.dropCollection("nope") }
        await expectCode(.alreadyExists) { try await db.createCollection("docs", dimension: 4) }
        await expectCode(.invalidArgument) { try await db.query("docs") }
        // Milvus Lite answers its parser's errors with a code of its own (6, not Milvus's 1100),
        // which the client reads as `.filterSyntax` too (MilvusError.quiverCode).
        await expectCode(.filterSyntax) { try await db.query("docs", filter: "n >>> 3", limit: 1) }
        #expect(try await db.hasCollection("nope") == false)
        #expect(try await db.loadState("nope") == .notExist)

        try await db.dropCollection("docs")
        #expect(try await db.hasCollection("docs") == false)
        try await db.close()
        await expectCode(.closed) { try await db.listCollections() }
    }

    /// On a server with one index per field under the field's name (Milvus Lite 3.2.2, see
    /// `ConformanceScenario.Backend.indexesOnlyFromCreateIndex`) the exact FLAT index made at
    /// creation is the field's index from the start: this checks that it is listed, described,
    /// in the way of another type, and put back by `dropIndex`.
    @Test(.enabled(if: !availableBackends.isEmpty, "needs the built quiver or milvus-lite"), arguments: availableBackends)
    func indexesAreCreatedDescribedAndDropped(_ backend: Backend) async throws {
        let server = try backend.start()
        defer { server.stop() }
        let db = try await RemoteDatabase(uri: server.uri)
        try await db.createCollection("c", dimension: 4, metric: .l2)
        let vectors = Self.vectors(40)
        _ = try await db.insert("c", rows: vectors.enumerated().map { ["id": .int(Int64($0)), "vector": .vector($1)] })
        try await db.flush("c")
        guard backend.conformance.indexesOnlyFromCreateIndex else {
            #expect(try await db.listIndexes("c") == ["vector"])
            let exact = try await db.describeIndex("c", field: "vector")
            #expect(exact.type == .flat && exact.metric == .l2 && exact.totalRows == 40, "\(exact)")
            await expectCode(.alreadyExists) { try await db.createIndex("c", field: "vector", type: .ivfFlat, params: ["nlist": 4]) }
            try await db.createIndex("c", field: "vector", type: .flat)  // the exact index again: a no-op
            try await db.dropIndex("c", field: "vector")
            #expect(try await db.listIndexes("c") == ["vector"])
            #expect(try await db.describeIndex("c", field: "vector").type == .flat)
            #expect(try await db.search("c", vectors: [vectors[5]], limit: 1)[0].first?.id == 5)
            try await db.close()
            return
        }
        #expect(try await db.listIndexes("c") == [])
        await expectCode(.notFound) { try await db.describeIndex("c", field: "vector") }
        try await db.createIndex("c", field: "vector", type: .ivfFlat, params: ["nlist": 4])
        try await db.createIndex("c", field: "vector", type: .ivfFlat, params: ["nlist": 4])  // the same again: a no-op
        #expect(try await db.listIndexes("c") == ["vector"])
        let index = try await db.describeIndex("c", field: "vector")
        #expect(index.type == .ivfFlat && index.metric == .l2 && index.params["nlist"]?.intValue == 4)
        #expect(index.indexedRows + index.pendingRows >= 0 && index.totalRows == index.indexedRows + index.pendingRows)
        await expectCode(.alreadyExists) { try await db.createIndex("c", field: "vector", type: .hnsw) }
        await expectCode(.invalidArgument) { try await db.createIndex("c", field: "vector", type: .flat, metric: .ip) }
        let hits = try await db.search("c", vectors: [vectors[3]], limit: 1, options: { var o = SearchOptions(); o.params = ["nprobe": 4]; return o }())
        #expect(hits[0].first?.id == 3)
        try await db.dropIndex("c", field: "vector")
        #expect(try await db.listIndexes("c") == [])
        await expectCode(.notFound) { try await db.dropIndex("c", field: "vector") }
        #expect(try await db.describeCollection("c").metric == .l2)
        #expect(try await db.search("c", vectors: [vectors[5]], limit: 1)[0].first?.id == 5)
        try await db.close()
    }
}
