import Foundation
import Quiver
import QuiverRemote
import QuiverTestSupport
import Testing

/// Which server a test runs against.
enum Backend: String, CustomTestStringConvertible, CaseIterable, Sendable {
    case quiver = "quiver serve"
    case milvusLite = "milvus-lite server"

    var testDescription: String { rawValue }

    func start(token: String? = nil) throws -> ServerProcess {
        switch self {
        case .quiver: try ServerProcess.quiver(token: token)
        case .milvusLite: try ServerProcess.milvusLite()
        }
    }
}

/// The backends run here: `quiver serve` when the `quiver` executable is built beside the tests,
/// and `milvus-lite server` when the pymilvus virtual environment has it (scripts/test.sh makes
/// it); `QUIVER_REMOTE_TEST_BACKENDS` (`quiver`, `milvus-lite`, or both, comma-separated) picks
/// fewer. (Until 2026-12-02 milvus-lite was opt-in: the tests stalled against it, because the
/// servers inherited a blocked SIGTERM and `ServerProcess.stop()` waited for good; see ServerProcess.)
let availableBackends: [Backend] = {
    let names = (ProcessInfo.processInfo.environment["QUIVER_REMOTE_TEST_BACKENDS"] ?? "quiver,milvus-lite")
        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let found: [Backend] = (QuiverExecutable.path != nil ? [.quiver] : []) + (ServerProcess.hasMilvusLite ? [.milvusLite] : [])
    return found.filter { names.contains($0 == .quiver ? "quiver" : "milvus-lite") }
}()

/// The backends of the tests that need what `milvus-lite server` 3.2.2 lacks, so milvus-lite only
/// when `QUIVER_REMOTE_TEST_BACKENDS` is set and names it. It has no filter templates (a filter
/// with `filterParams` fails with "unexpected character '{'"), and it keeps one index per field
/// under the field's name, so the exact index RemoteDatabase makes at creation cannot be told from
/// one made with `createIndex` (`listIndexes` lists it; `createIndex` of another type finds a
/// FLAT index in the way). Measured 2026-12-02: the conformance scenario and the index test fail
/// there on these two points only as far as they get.
let backendsBeyondMilvusLite: [Backend] = ProcessInfo.processInfo.environment["QUIVER_REMOTE_TEST_BACKENDS"] == nil
    ? availableBackends.filter { $0 != .milvusLite } : availableBackends

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
        do {
            _ = try await db.query("docs", filter: "n >>> 3", limit: 1)
            Issue.record("a filter that does not parse must fail")
        } catch let error as QuiverError {
            // Milvus Lite answers its parser's errors with a code of its own (6), not Milvus's 1100.
            #expect(error.code == .filterSyntax || (backend == .milvusLite && error.code == .serverError), "\(error)")
        }
        #expect(try await db.hasCollection("nope") == false)
        #expect(try await db.loadState("nope") == .notExist)

        try await db.dropCollection("docs")
        #expect(try await db.hasCollection("docs") == false)
        try await db.close()
        await expectCode(.closed) { try await db.listCollections() }
    }

    @Test(.enabled(if: !backendsBeyondMilvusLite.isEmpty, "needs the built quiver"), arguments: backendsBeyondMilvusLite)
    func indexesAreCreatedDescribedAndDropped(_ backend: Backend) async throws {
        let server = try backend.start()
        defer { server.stop() }
        let db = try await RemoteDatabase(uri: server.uri)
        try await db.createCollection("c", dimension: 4, metric: .l2)
        let vectors = Self.vectors(40)
        _ = try await db.insert("c", rows: vectors.enumerated().map { ["id": .int(Int64($0)), "vector": .vector($1)] })
        #expect(try await db.listIndexes("c") == [])
        await expectCode(.notFound) { try await db.describeIndex("c", field: "vector") }
        try await db.flush("c")
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
