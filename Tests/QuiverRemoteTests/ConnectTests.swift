import Foundation
import Quiver
import QuiverRemote
import QuiverTestSupport
import Testing

/// `connect(_:)` picks the backend from the URI: a path opens the embedded engine, an http(s)
/// URL a ``RemoteDatabase``, and any other scheme is refused.
@Suite struct ConnectTests {
    @Test func aPathOpensTheEmbeddedDatabaseWithTheGivenOptions() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-connect-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = ConnectOptions()
        options.database.durability = .always
        let db = try await connect(dir, options: options)
        #expect(db is Database)
        try await db.createCollection("c", dimension: 2, metric: .l2)
        _ = try await db.insert("c", rows: [["id": 1, "vector": .vector([1, 0])], ["id": 2, "vector": .vector([0, 1])]])
        let hits = try await db.search("c", vectors: [[0.9, 0]], limit: 1)
        #expect(hits.map { $0.map(\.id) } == [[.int(1)]])
        try await db.close()
        // The same directory again, opened directly: what was written is there.
        let reopened = try await Database.open(at: dir)
        let count = try await reopened.query("c", outputFields: ["count(*)"])
        #expect(count == [["count(*)": .int(2)]])
        try await reopened.close()
    }

    @Test func aURLWithNoServerIsUnavailable() async throws {
        let port = try ServerProcessPort.unused()
        var options = ConnectOptions()
        options.timeout = .seconds(5)
        options.retry = .none
        await expectCode(.unavailable) { try await connect("http://127.0.0.1:\(port)", options: options) }
    }

    @Test func anotherSchemeIsRefusedNotTakenForAPath() async {
        await expectCode(.invalidArgument) { try await connect("grpc://127.0.0.1:19530") }
        await expectCode(.invalidArgument) { try await connect("file:///tmp/x.quiver") }
        #expect(!FileManager.default.fileExists(atPath: "grpc:"))
    }

    @Test func aPathWithServerOptionsIsRefusedNotOpened() async {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-connect-\(UUID().uuidString)").path
        let settings: [(inout ConnectOptions) -> Void] = [
            { $0.token = "root:Milvus" }, { $0.user = "root"; $0.password = "Milvus" }, { $0.databaseName = "db1" },
            { $0.timeout = .seconds(5) },
        ]
        for set in settings {
            var options = ConnectOptions()
            set(&options)
            await expectCode(.invalidArgument) { try await connect(dir, options: options) }
        }
        #expect(!FileManager.default.fileExists(atPath: dir))
    }
}
