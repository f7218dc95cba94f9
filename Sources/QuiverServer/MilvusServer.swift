import GRPCCore
import GRPCNIOTransportHTTP2
import Quiver
import QuiverMilvusProtocol

/// How `MilvusServer` listens.
///
/// ```swift
/// var configuration = MilvusServerConfiguration()
/// configuration.port = 19530
/// configuration.token = "root:Milvus"      // clients must send it (pymilvus: token= or user=/password=)
/// ```
public struct MilvusServerConfiguration: Sendable {
    /// The address to listen on: loopback unless told otherwise. `localhost` means `127.0.0.1`;
    /// an address with a `:` is IPv6.
    public var host: String = "127.0.0.1"
    /// The TCP port; 0 picks a free one (read it from `MilvusServer.run(onListening:)`).
    public var port: Int = 19530
    /// When set, every call must carry Milvus's `authorization` metadata with this token (raw or
    /// base64, as pymilvus sends `token=` and `user=`/`password=`), or fails with UNAUTHENTICATED.
    public var token: String?
    /// A PEM certificate chain file: with ``tlsKeyPath`` the server speaks TLS.
    public var tlsCertificatePath: String?
    /// The PEM private key file of ``tlsCertificatePath``.
    public var tlsKeyPath: String?
    /// The largest request message accepted, in bytes (Milvus Lite's 256 MB by default; gRPC's
    /// own default of 4 MiB is too small for a batch of vectors).
    public var maxMessageBytes: Int = 256 << 20

    /// The defaults: plaintext on 127.0.0.1:19530, no token, 256 MB messages.
    public init() {}
}

/// A Milvus-protocol gRPC server over a Quiver `Database`: pymilvus's `MilvusClient(uri="http://host:port")`
/// works against it unchanged.
///
/// ```swift
/// let db = try Database.open(at: "./demo.quiver")
/// let server = MilvusServer(database: db, configuration: MilvusServerConfiguration())
/// try await server.run { host, port in print("listening on \(host):\(port)") }   // until shutdown()
/// try db.close()
/// ```
///
/// It serves Milvus's `MilvusService` RPCs for collections, indexes, rows, search and query (see
/// `Documentation/Architecture.md`, "quiver serve"); any other RPC answers UNIMPLEMENTED. Calls
/// run concurrently; the database serializes writes and lets reads run in parallel. The server
/// owns no lifetime of the database: close it after `run` returns.
public final class MilvusServer: Sendable {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix
    /// The grace periods of `shutdown(gracePeriod:)` calls, read by `run`'s deadline task.
    private let shutdownRequests = AsyncStream<Duration>.makeStream()

    /// Creates the server; nothing listens until `run(onListening:)`.
    public init(database: Database, configuration: MilvusServerConfiguration) {
        let host = configuration.host == "localhost" ? "127.0.0.1" : configuration.host
        let address: GRPCNIOTransportCore.SocketAddress = host.contains(":")
            ? .ipv6(host: host, port: configuration.port) : .ipv4(host: host, port: configuration.port)
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        if let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
            security = .tls(certificateChain: [.file(path: certificate, format: .pem)], privateKey: .file(path: key, format: .pem))
        } else {
            security = .plaintext
        }
        let maxBytes = configuration.maxMessageBytes
        transport = HTTP2ServerTransport.Posix(
            address: address, transportSecurity: security,
            config: .defaults { $0.rpc.maxRequestPayloadSize = maxBytes })
        server = GRPCServer(
            transport: transport, services: [MilvusService(database: database)],
            interceptors: configuration.token.map { [TokenInterceptor(token: $0)] } ?? [])
    }

    /// Listens and serves until `shutdown(gracePeriod:)` is called and the calls in flight have
    /// finished, or the grace period has passed.
    ///
    /// - Parameter onListening: called once with the bound host and port, when connections are accepted.
    /// - Throws: when the address cannot be bound or the transport fails (a bad TLS file, say).
    public func run(onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.server.serve() }
            group.addTask {
                // The deadline: from the first shutdown request, its grace period. Ends early
                // (cancelled) when the server stops by itself.
                var requests = self.shutdownRequests.stream.makeAsyncIterator()
                guard let grace = await requests.next() else { return }
                try? await Task.sleep(for: grace)
            }
            let address = try await transport.listeningAddress
            if let ipv4 = address.ipv4 {
                onListening(ipv4.host, ipv4.port)
            } else if let ipv6 = address.ipv6 {
                onListening(ipv6.host, ipv6.port)
            }
            // Whichever ends first, the server (every call answered) or the deadline, ends the other:
            // cancelling `serve` cancels the calls still running (see `MilvusService.answer`).
            do {
                try await group.next()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    /// Stops accepting connections and calls; `run` returns once the calls in flight have
    /// finished or, at the latest, `gracePeriod` later: the calls still running then are
    /// cancelled (their clients see the call fail; a write the database had begun is applied
    /// whole, atomically, before the database closes).
    ///
    /// Calling it again does not extend the first deadline; a shorter period does not shorten it.
    public func shutdown(gracePeriod: Duration = .seconds(10)) {
        server.beginGracefulShutdown()
        shutdownRequests.continuation.yield(gracePeriod)
    }
}
