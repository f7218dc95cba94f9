import Foundation
import Quiver
import QuiverRemote
import QuiverTestSupport
import Testing

/// `queryIterator` and `searchIterator` of the async API (``VectorDatabase``) on each backend:
/// the embedded engine (a snapshot) and `RemoteDatabase` on `quiver serve` and `milvus-lite
/// server` (paged as pymilvus pages). The model: the keys and distances computed here.
@Suite(.serialized) struct RemoteIteratorTests {
    /// 20,000 rows (more than one query's 16,384) with keys 0, 3, 6, … inserted in a shuffled
    /// order, and 2-d vectors with many equal distances to the query (ties across batches).
    static let count = 20_000
    static let keys = (0..<count).map { Int64($0 * 3) }

    static func vector(_ key: Int64) -> [Float] { [Float(key % 101), Float(key % 7)] }
    static func color(_ key: Int64) -> String { ["red", "green", "blue"][Int(key / 3 % 3)] }

    static func fill(_ db: any VectorDatabase, _ name: String) async throws {
        try await db.createCollection(name, dimension: 2, metric: .l2)
        var shuffled = keys
        var state: UInt64 = 5
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            shuffled.swapAt(i, Int(state >> 33) % (i + 1))
        }
        for start in stride(from: 0, to: count, by: 5000) {
            let rows: [Row] = shuffled[start..<min(count, start + 5000)].map {
                ["id": .int($0), "vector": .vector(vector($0)), "color": .string(color($0))]
            }
            _ = try await db.insert(name, rows: rows)
        }
    }

    /// Every batch of a walk, checking no batch is larger than `batchSize`.
    static func drain<T>(_ walk: BatchSequence<T>, batchSize: Int) async throws -> (items: [T], batches: Int) {
        var items = [T](), batches = 0
        for try await batch in walk {
            #expect(!batch.isEmpty && batch.count <= batchSize)
            items += batch
            batches += 1
        }
        return (items, batches)
    }

    static func walks(_ db: any VectorDatabase, rangeSearchIsExact: Bool = true) async throws {
        try await fill(db, "walk")

        // Every row once, in key order, past the 16,384 limit.
        let all = try await drain(db.queryIterator("walk", batchSize: 3000, outputFields: ["color"]), batchSize: 3000)
        #expect(all.items.map { $0["id"] } == keys.map { Value.int($0) })
        #expect(all.batches == 7)
        #expect(all.items.allSatisfy { $0["color"] == .string(color($0["id"]!.intValue!)) })

        // A filter and a limit.
        let green = try await drain(
            db.queryIterator("walk", batchSize: 1000, limit: 2500, filter: "color == \"green\""), batchSize: 1000)
        #expect(green.items.map { $0["id"] } == keys.filter { color($0) == "green" }.prefix(2500).map { Value.int($0) })

        // The search iterator: every row once, nearest first, distances as computed here.
        let query: [Float] = [3, 1]
        let hits = try await drain(
            db.searchIterator("walk", vector: query, batchSize: 2000, limit: count, outputFields: ["color"]), batchSize: 2000)
        #expect(Set(hits.items.map(\.id)).count == hits.items.count)
        let distances = hits.items.map(\.distance)
        #expect(zip(distances, distances.dropFirst()).allSatisfy { $0 <= $1 })
        let model = Dictionary(uniqueKeysWithValues: keys.map { key in
            (Value.int(key), zip(vector(key), query).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) })
        })
        #expect(hits.items.allSatisfy { abs($0.distance - model[$0.id]!) <= 1e-3 })
        // What was returned is a true prefix: every row nearer than the last distance is in it.
        let returned = Set(hits.items.map(\.id))
        let last = distances.last ?? 0
        #expect(model.filter { $0.value < last - 1e-3 }.keys.allSatisfy { returned.contains($0) })
        if rangeSearchIsExact {
            #expect(hits.items.count == count)
        } else {
            withKnownIssue("milvus-lite 3.2.2's range search only looks among the nearest few times `limit` rows (a range_filter of 2234 with limit 2000 answers nothing although 9,900 rows lie farther), so the walk stops early") {
                #expect(hits.items.count == count)
            }
        }

        // Bad input fails before anything is read.
        await expectCode(.invalidArgument) { try await db.queryIterator("walk", batchSize: 0) }
        await expectCode(.invalidArgument) { try await db.searchIterator("walk", vector: query, batchSize: maxTopK + 1) }
        await expectCode(.invalidArgument) { try await db.queryIterator("walk", limit: -1) }
    }

    @Test func theEmbeddedEngineWalksASnapshot() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-iter-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try await Database.open(at: dir)
        try await Self.walks(db)
        // Rows written after the iterator was made are not in its walk.
        let walk = try await db.queryIterator("walk", batchSize: 5000, filter: "id >= 59000")
        _ = try await db.insert("walk", rows: [["id": 70_000, "vector": .vector([0, 0]), "color": .string("red")]])
        let seen = try await Self.drain(walk, batchSize: 5000).items.map { $0["id"] }
        #expect(seen == Self.keys.filter { $0 >= 59000 }.map { Value.int($0) })
        try await db.close()
    }

    @Test(.enabled(if: !availableBackends.isEmpty, "needs the built quiver or milvus-lite (scripts/test-pymilvus.sh makes .venv-pymilvus)"),
          arguments: availableBackends)
    func aServerIsPagedAsPymilvusPagesIt(_ backend: Backend) async throws {
        let server = try backend.start()
        defer { server.stop() }
        var options = ConnectOptions()
        options.timeout = .seconds(60)
        let db = try await RemoteDatabase(uri: server.uri, options: options)
        try await Self.walks(db, rangeSearchIsExact: backend != .milvusLite)
        try await db.close()
    }
}
