import Foundation
import Quiver
import QuiverRemote
import QuiverTestSupport
import Testing

/// Aliases through ``VectorDatabase``: the same calls on the embedded engine, on `quiver serve`
/// and on `milvus-lite server` (which serves the alias RPCs; measured 2026-12-02), and the bad
/// calls, whose codes the embedded engine and `quiver serve` agree on.
@Suite(.serialized) struct RemoteAliasTests {
    static func ids(_ hits: [[Hit]]) -> Set<Int64> { Set(hits[0].compactMap { $0.id.intValue }) }

    /// Two collections ("_blue" ids 0–2, "_green" ids 10–12) and an alias moved between them.
    static func scenario(_ db: any VectorDatabase, prefix: String) async throws {
        let blue = prefix + "_blue", green = prefix + "_green", live = prefix + "_live"
        for (name, first) in [(blue, 0), (green, 10)] {
            try await db.createCollection(name, dimension: 2, metric: .l2)
            _ = try await db.insert(name, rows: (first..<first + 3).map { ["id": .int(Int64($0)), "vector": .vector([Float($0), 0])] })
        }
        try await db.createAlias(blue, alias: live)
        #expect(try await db.describeAlias(live) == blue)
        #expect(try await db.listAliases(blue) == [live])
        #expect(try await db.listAliases(green) == [])
        #expect(try await db.listAliases().contains(live))
        #expect(try await db.hasCollection(live))
        #expect(try await db.describeCollection(live).name == blue)
        #expect(try await Self.ids(db.search(live, vectors: [[0, 0]], limit: 10)) == [0, 1, 2])

        try await db.alterAlias(green, alias: live)
        #expect(try await db.describeAlias(live) == green)
        #expect(try await db.listAliases(green) == [live])
        #expect(try await Self.ids(db.search(live, vectors: [[0, 0]], limit: 10)) == [10, 11, 12])
        _ = try await db.insert(live, rows: [["id": 13, "vector": .vector([13, 0])]])
        #expect(try await db.query(green, outputFields: ["count(*)"]) == [["count(*)": 4]])

        try await db.dropAlias(live)
        #expect(try await !db.hasCollection(live))
        await expectCode(.notFound) { try await db.describeAlias(live) }
        await expectCode(.notFound) { try await db.dropAlias(live) }
        try await db.dropCollection(blue)
        try await db.dropCollection(green)
    }

    /// Bad calls: each a typed error, the aliases unchanged.
    static func badCalls(_ db: any VectorDatabase, prefix: String) async throws {
        let a = prefix + "_a", b = prefix + "_b", alias = prefix + "_alias"
        try await db.createCollection(a, dimension: 2, metric: .l2)
        try await db.createCollection(b, dimension: 2, metric: .l2)
        try await db.createAlias(a, alias: alias)
        await expectCode(.alreadyExists) { try await db.createAlias(b, alias: alias) }
        await expectCode(.alreadyExists) { try await db.createAlias(a, alias: b) }
        await expectCode(.alreadyExists) { try await db.createCollection(alias, dimension: 2, metric: .l2) }
        await expectCode(.notFound) { try await db.createAlias(prefix + "_missing", alias: prefix + "_x") }
        await expectCode(.notFound) { try await db.alterAlias(b, alias: prefix + "_nope") }
        await expectCode(.notFound) { try await db.alterAlias(prefix + "_missing", alias: alias) }
        await expectCode(.invalidArgument) { try await db.dropCollection(a) }
        await expectCode(.invalidArgument) { try await db.dropCollection(alias) }
        #expect(try await db.describeAlias(alias) == a)
        #expect(try await db.listAliases(a) == [alias])
        #expect(try await db.listAliases(b) == [])
        try await db.dropAlias(alias)
        try await db.dropCollection(a)
        try await db.dropCollection(b)
    }

    @Test func onTheEmbeddedEngine() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-alias-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try await connect(dir)
        try await Self.scenario(db, prefix: "local")
        try await Self.badCalls(db, prefix: "local")
        try await db.close()
    }

    @Test(.enabled(if: !availableBackends.isEmpty, "needs the built quiver or milvus-lite"), arguments: availableBackends)
    func onTheServer(_ backend: Backend) async throws {
        let server = try backend.start()
        defer { server.stop() }
        var options = ConnectOptions()
        options.timeout = .seconds(60)
        let db = try await connect(server.uri, options: options)
        try await Self.scenario(db, prefix: "remote")
        try await db.close()
    }

    /// milvus-lite 3.2.2 answers these otherwise (measured: code 1, read as `.serverError`, for an
    /// alias that exists; it drops a collection an alias names), so only `quiver serve` here.
    @Test(.enabled(if: availableBackends.contains(.quiver), "needs the built quiver"))
    func badCallsOnQuiverServe() async throws {
        let server = try Backend.quiver.start()
        defer { server.stop() }
        let db = try await connect(server.uri)
        try await Self.badCalls(db, prefix: "remote")
        try await db.close()
    }
}
