import Foundation
import Quiver
import QuiverRemote
import QuiverTestSupport
import Testing

/// What a client sees when things go wrong: each a typed error within the deadline, and nothing
/// half-applied on the server.
@Suite(.serialized) struct FailureTests {
    static let hasQuiver = QuiverExecutable.path != nil

    @Test func noServerIsUnavailableAfterTheRetries() async throws {
        let port = try ServerProcessPort.unused()
        var options = ConnectOptions()
        options.timeout = .seconds(10)
        options.retry.maxAttempts = 3
        options.retry.initialBackoff = .milliseconds(20)
        let start = ContinuousClock.now
        await expectCode(.unavailable) { try await RemoteDatabase(uri: "http://127.0.0.1:\(port)", options: options) }
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func aMalformedURLIsInvalid() async {
        await expectCode(.invalidArgument) { try await RemoteDatabase(uri: "ftp://host:1") }
        await expectCode(.invalidArgument) { try await RemoteDatabase(uri: "http://") }
    }

    @Test(.enabled(if: hasQuiver, "needs the built quiver")) func aServerKilledMidSessionIsUnavailable() async throws {
        let server = try ServerProcess.quiver()
        var options = ConnectOptions()
        options.timeout = .seconds(10)
        options.retry.maxAttempts = 2
        let db = try await RemoteDatabase(uri: server.uri, options: options)
        try await db.createCollection("c", dimension: 2)
        server.kill()
        let start = ContinuousClock.now
        await expectCode(.unavailable) { try await db.hasCollection("c") }
        await expectCode(.unavailable) { try await db.insert("c", rows: [["id": 1, "vector": .vector([1, 2])]]) }
        #expect(ContinuousClock.now - start < .seconds(10))
        try await db.close()
    }

    @Test(.enabled(if: hasQuiver, "needs the built quiver")) func aServerThatDoesNotAnswerTimesOut() async throws {
        let server = try ServerProcess.quiver()
        defer { server.stop() }
        let db = try await RemoteDatabase(uri: server.uri)
        try await db.createCollection("c", dimension: 2)
        server.pause()
        defer { server.resume() }
        let start = ContinuousClock.now
        await expectCode(.timeout) { try await db.withTimeout(.milliseconds(300)).listCollections() }
        #expect(ContinuousClock.now - start < .seconds(5))
        server.resume()
        #expect(try await db.listCollections() == ["c"])
        try await db.close()
    }

    @Test(.enabled(if: hasQuiver, "needs the built quiver")) func theTokenIsRequiredAndChecked() async throws {
        let server = try ServerProcess.quiver(token: "root:s3cret")
        defer { server.stop() }
        await expectCode(.permissionDenied) { try await RemoteDatabase(uri: server.uri) }
        var wrong = ConnectOptions()
        wrong.token = "root:guess"
        await expectCode(.permissionDenied) { try await RemoteDatabase(uri: server.uri, options: wrong) }
        var token = ConnectOptions()
        token.token = "root:s3cret"
        let db = try await RemoteDatabase(uri: server.uri, options: token)
        #expect(try await db.listCollections() == [])
        try await db.close()
        var user = ConnectOptions()
        user.user = "root"
        user.password = "s3cret"
        let other = try await RemoteDatabase(uri: server.uri, options: user)
        #expect(try await other.listCollections() == [])
        try await other.close()
    }

    @Test(.enabled(if: hasQuiver, "needs the built quiver")) func messagesOverTheServersLimitAreRefusedWhole() async throws {
        let server = try ServerProcess.quiver(arguments: ["--max-message-mb", "1"])
        defer { server.stop() }
        let db = try await RemoteDatabase(uri: server.uri)
        try await db.createCollection("c", dimension: 128)
        let rows: [Row] = (0..<4000).map { ["id": .int(Int64($0)), "vector": .vector([Float](repeating: Float($0), count: 128))] }
        // ~2 MB in one request. gRPC servers refuse it with RESOURCE_EXHAUSTED (`.resourceExhausted`);
        // quiver serve's grpc-swift transport resets the stream instead, which a client sees as
        // UNAVAILABLE (`.unavailable`; an insert is not retried). Either way nothing is inserted.
        do {
            _ = try await db.insert("c", rows: rows)
            Issue.record("an insert over the server's message limit must fail")
        } catch let error as QuiverError {
            #expect(error.code == .resourceExhausted || error.code == .unavailable, "\(error)")
        }
        #expect(try await db.query("c", outputFields: ["count(*)"]) == [["count(*)": 0]])
        try await db.close()

        // A client limit under the server's splits the insert into requests that each fit.
        var options = ConnectOptions()
        options.maxMessageBytes = 512 << 10
        let split = try await RemoteDatabase(uri: server.uri, options: options)
        #expect(try await split.insert("c", rows: rows).insertCount == 4000)
        #expect(try await split.query("c", outputFields: ["count(*)"]) == [["count(*)": 4000]])
        #expect(try await split.get("c", ids: [3999], outputFields: ["vector"]).first?["vector"] == rows[3999]["vector"])
        try await split.close()
    }

    @Test(.enabled(if: hasQuiver, "needs the built quiver")) func aSplitInsertThatFailsPartWayIsUndone() async throws {
        let server = try ServerProcess.quiver()
        defer { server.stop() }
        var options = ConnectOptions()
        options.maxMessageBytes = 64 << 10  // requests of ~32 KB: about 60 rows of 128 floats
        let db = try await RemoteDatabase(uri: server.uri, options: options)
        try await db.createCollection("c", dimension: 128)
        _ = try await db.insert("c", rows: [["id": 999, "vector": .vector([Float](repeating: 1, count: 128))]])
        // Rows 0..<1000 go first, in many requests; the request holding key 999 is refused
        // (quiver serve rejects existing keys), and the rows already inserted are deleted again.
        let rows: [Row] = (0..<1000).map { ["id": .int(Int64($0)), "vector": .vector([Float](repeating: 0.5, count: 128))] }
        await expectCode(.alreadyExists) { try await db.insert("c", rows: rows) }
        #expect(try await db.query("c", outputFields: ["count(*)"]) == [["count(*)": 1]])
        #expect(try await db.get("c", ids: [0, 500, 999]).map { $0["id"] } == [999])
        try await db.close()
    }
}

/// A loopback port with no server on it.
enum ServerProcessPort {
    static func unused() throws -> Int { try ServerProcess.unusedPort() }
}
