import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A request as the test server saw it.
struct RecordedRequest: Sendable {
    var method: String
    var path: String
    var headers: [String: String]  // lower-cased names
    var body: Data

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
}

/// What the test server answers.
enum TestResponse: Sendable {
    /// A complete response.
    case json(status: Int = 200, headers: [String: String] = [:], body: String)
    /// `text/event-stream`: each piece written separately (pieces may split events and UTF-8
    /// characters), `delay` apart; then either the end or, with `hang`, silence (or, with `ping`,
    /// a comment every 50 ms until the client goes away).
    case stream(pieces: [[UInt8]], delay: Duration = .milliseconds(10), then: StreamEnd = .end)
    /// No answer at all (until the server stops).
    case hang

    enum StreamEnd: Sendable { case end, hang, ping }

    static func sse(_ pieces: [String], delay: Duration = .milliseconds(10), then: StreamEnd = .end) -> TestResponse {
        .stream(pieces: pieces.map { Array($0.utf8) }, delay: delay, then: then)
    }
}

/// An OpenAI-compatible server stand-in on 127.0.0.1 and an ephemeral port (SwiftNIO HTTP/1.1).
/// The handler sees every request with how many came before it.
final class TestServer: Sendable {
    let port: Int
    private let task: Task<Void, Never>
    private let recorded = Mutex<[RecordedRequest]>([])
    private let disconnectCount = Mutex(0)
    private let connections: Connections

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }
    var requests: [RecordedRequest] { recorded.withLock { $0 } }
    /// Connections whose client went away while the server was still writing (`ping` streams).
    var disconnects: Int { disconnectCount.withLock { $0 } }

    private init(port: Int, task: Task<Void, Never>, connections: Connections) {
        self.port = port
        self.task = task
        self.connections = connections
    }

    static func start(_ handler: @escaping @Sendable (_ request: RecordedRequest, _ index: Int) -> TestResponse) async throws -> TestServer {
        let connections = Connections()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    let connection = try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                    connections.adopt(connection)
                    return connection
                }
            }
        let port = channel.channel.localAddress!.port!
        let box = ServerBox()
        let task = Task {
            await withDiscardingTaskGroup { group in
                do {
                    try await channel.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await box.server?.serve(connection, handler) }
                        }
                    }
                } catch {}
                group.cancelAll()
            }
        }
        let server = TestServer(port: port, task: task, connections: connections)
        box.set(server)
        return server
    }

    func stop() async {
        task.cancel()
        await task.value
        await connections.closeAll()
    }

    private func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
        _ handler: @Sendable (RecordedRequest, Int) -> TestResponse
    ) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let h):
                    head = h
                    body.clear()
                case .body(var b):
                    body.writeBuffer(&b)
                case .end:
                    guard let head else { return }
                    var headers = [String: String]()
                    for (name, value) in head.headers { headers[name.lowercased()] = value }
                    let request = RecordedRequest(
                        method: head.method.rawValue, path: head.uri, headers: headers, body: Data(body.readableBytesView))
                    let index = recorded.withLock { r in
                        r.append(request)
                        return r.count - 1
                    }
                    let keepGoing = try await respond(handler(request, index), outbound)
                    if !keepGoing { return }
                }
            }
        }
    }

    /// Writes `response`; `false` when the connection must close afterwards.
    private func respond(_ response: TestResponse, _ out: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws -> Bool {
        switch response {
        case .json(let status, let extra, let body):
            var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(body.utf8.count))])
            for (k, v) in extra { headers.replaceOrAdd(name: k, value: v) }
            try await out.write(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)))
            try await out.write(.body(.byteBuffer(ByteBuffer(string: body))))
            try await out.write(.end(nil))
            return true
        case .stream(let pieces, let delay, let then):
            let headers = HTTPHeaders([("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")])
            try await out.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
            for piece in pieces {
                try await out.write(.body(.byteBuffer(ByteBuffer(bytes: piece))))
                try await Task.sleep(for: delay)
            }
            switch then {
            case .end:
                try await out.write(.end(nil))
                return true
            case .hang:
                try await Task.sleep(for: .seconds(3600))
                return false
            case .ping:
                do {
                    while true {
                        try await Task.sleep(for: .milliseconds(50))
                        try await out.write(.body(.byteBuffer(ByteBuffer(string: ": ping\n\n"))))
                    }
                } catch is CancellationError {
                    return false
                } catch {
                    disconnectCount.withLock { $0 += 1 }
                    return false
                }
            }
        case .hang:
            try await Task.sleep(for: .seconds(3600))
            return false
        }
    }
}

/// Every connection the server accepted, so that `stop` can finish and close the ones the accept
/// loop never took: cancelling it drops the connections NIO has accepted but not yet handed over,
/// and a `NIOAsyncChannel` released without `executeThenClose` traps ("Deinited NIOAsyncWriter
/// without calling finish()", swift-nio issues 2637 and 2813; it crashed a test run on
/// 2026-12-04). A connection accepted after `closeAll` is finished and closed at once.
private final class Connections: Sendable {
    private let state = Mutex<(open: [NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>], closed: Bool)>(([], false))

    /// Keeps `connection` until `closeAll` (called on its event loop, in the child initializer).
    func adopt(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) {
        let late = state.withLock { s in
            if !s.closed { s.open.append(connection) }
            return s.closed
        }
        if late { Task { try? await connection.executeThenClose { _, _ in } } }
    }

    /// Finishes and closes every connection (again, for those `serve` closed: both are idempotent).
    func closeAll() async {
        let open = state.withLock { s in
            s.closed = true
            defer { s.open = [] }
            return s.open
        }
        for connection in open { try? await connection.executeThenClose { _, _ in } }
    }
}

/// Lets the accept loop reach the server object created after it starts.
private final class ServerBox: Sendable {
    private let value = Mutex<TestServer?>(nil)
    var server: TestServer? { value.withLock { $0 } }
    func set(_ s: TestServer) { value.withLock { $0 = s } }
}

/// Runs `body` with a server, stopping it afterwards.
@discardableResult
func withTestServer<R>(
    _ handler: @escaping @Sendable (_ request: RecordedRequest, _ index: Int) -> TestResponse,
    _ body: (TestServer) async throws -> R
) async throws -> R {
    let server = try await TestServer.start(handler)
    do {
        let r = try await body(server)
        await server.stop()
        return r
    } catch {
        await server.stop()
        throw error
    }
}

/// An OpenAI `chat.completion` body.
func completionJSON(_ text: String, model: String = "test-model") -> String {
    let escaped = String(data: try! JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed]), encoding: .utf8)!
    return """
        {"id":"c1","object":"chat.completion","model":"\(model)","choices":[{"index":0,"message":{"role":"assistant","content":\(escaped.dropFirst().dropLast())},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}}
        """
}

/// One SSE `chat.completion.chunk` event carrying `delta`.
func chunkEvent(_ delta: String) -> String {
    let escaped = String(data: try! JSONSerialization.data(withJSONObject: [delta]), encoding: .utf8)!
    return "data: {\"object\":\"chat.completion.chunk\",\"model\":\"test-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\(escaped.dropFirst().dropLast())},\"finish_reason\":null}]}\n\n"
}
