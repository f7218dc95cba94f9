import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol
import Synchronization

/// A Milvus server as a `VectorDatabase`: the same calls, results and errors as an embedded
/// `Database`, sent over Milvus's gRPC protocol the way pymilvus's `MilvusClient` sends them.
///
/// ```swift
/// let db = try await RemoteDatabase(uri: "http://127.0.0.1:19530")
/// try await db.createCollection("docs", dimension: 384, metric: .ip)
/// _ = try await db.insert("docs", rows: rows)
/// let hits = try await db.search("docs", vectors: [q], limit: 3, outputFields: ["text"])
/// try await db.close()
/// ```
///
/// It works with `quiver serve`, Milvus Lite's server and Milvus itself. What it does so that
/// answers equal the embedded engine's:
/// - **Consistency**: every search and query is sent with Milvus's `Strong` consistency level
///   (and collections are created with it), so a read sees every write acknowledged before it,
///   by this client or another, as reads of an embedded database do. Milvus's weaker levels
///   (Bounded, pymilvus's default for new collections) can miss the last writes.
/// - **Validation**: rows are checked against the collection's schema (cached after the first
///   `DescribeCollection`, as pymilvus caches it) before anything is sent, with the engine's
///   own checks (`CollectionSchema/validatedRows(_:upsert:)`), so bad input fails with the
///   same codes and nothing reaches the server.
/// - **Metric**: a Milvus collection has its metric in its index, and cannot be searched
///   without one; `createCollection` therefore creates an exact (`FLAT`) index with the metric
///   on each vector field, under a name of its own, and loads the collection. That index is
///   not listed or described (as the embedded engine has none), ``createIndex(_:_:)`` replaces
///   it, and ``dropIndex(_:field:)`` restores it. Milvus Lite 3.2.2 keeps one index per field
///   under the field's name, so there that index is listed and described like any other, and
///   an index of another type cannot be made through this client (``createIndex(_:_:)`` finds
///   a FLAT index in the way, and ``dropIndex(_:field:)`` puts the exact index back).
/// - **Keys**: `get` returns rows in the order of the keys asked for; an insert is rejected
///   when a key repeats within it (Milvus itself does not deduplicate keys).
///
/// Errors: Milvus's status codes become `QuiverError` codes with the server's reason (a
/// missing collection or index `.notFound`, an invalid parameter `.invalidArgument`, a filter
/// that does not parse `.filterSyntax`, …); a server that cannot be reached is `.unavailable`,
/// a deadline passed `.timeout`, a wrong token `.permissionDenied`, a message over the limit
/// `.resourceExhausted`. Calls that may be repeated are retried on unavailability as
/// ``RetryPolicy`` says; inserts are not.
///
/// Calls may run concurrently from many tasks over the one HTTP/2 connection. ``close()``
/// closes the connection of this value and of every ``withTimeout(_:)`` view of it.
public final class RemoteDatabase: VectorDatabase {
    typealias Service = Milvus_Proto_Milvus_MilvusService.Client<HTTP2ClientTransport.Posix>

    /// The URI connected to.
    public let uri: String
    let connection: Connection
    /// The deadline of each call made through this value.
    let timeout: Duration?

    /// Connects to the Milvus server at `uri` (`http://host:port` or `https://host:port`; port
    /// 19530 when absent; a path after the port names the database) and checks that it answers
    /// with the `Connect` call pymilvus makes first.
    ///
    /// - Throws: `.invalidArgument` for a URI that is not an `http`/`https` URL or a TLS file
    ///   that cannot be used; `.unavailable` when no server answers (after the retries of
    ///   ``ConnectOptions/retry``); `.permissionDenied` for missing or wrong credentials;
    ///   `.timeout` when ``ConnectOptions/timeout`` passes.
    public init(uri: String, options: ConnectOptions = ConnectOptions()) async throws {
        self.uri = uri
        self.timeout = options.timeout
        self.connection = try Connection(uri: uri, options: options)
        do {
            try await connection.handshake(timeout: options.timeout)
        } catch {
            await connection.close()
            throw error
        }
    }

    private init(uri: String, connection: Connection, timeout: Duration?) {
        self.uri = uri
        self.connection = connection
        self.timeout = timeout
    }

    /// This database with another deadline for each call (`nil` for none), sharing the connection.
    ///
    /// ```swift
    /// let hits = try await db.withTimeout(.milliseconds(200)).search("docs", vectors: [q], limit: 3)
    /// ```
    public func withTimeout(_ timeout: Duration?) -> RemoteDatabase {
        RemoteDatabase(uri: uri, connection: connection, timeout: timeout)
    }

    /// Closes the connection (for every ``withTimeout(_:)`` view too) after the calls in flight
    /// finish; later calls throw `.closed`.
    public func close() async throws {
        await connection.close()
    }

    /// Whether `uri` is a URL this type connects to (`http://` or `https://`), rather than a path.
    static func isURL(_ uri: String) -> Bool {
        let lower = uri.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    // MARK: Calls

    /// Sends one RPC through ``Connection/call(_:idempotent:timeout:_:)`` with this value's deadline.
    func call<Response: MilvusResponse>(
        _ name: String, idempotent: Bool,
        _ body: @Sendable @escaping (Service, GRPCCore.Metadata, CallOptions) async throws -> Response
    ) async throws -> Response {
        try await connection.call(name, idempotent: idempotent, timeout: timeout, body)
    }

    /// The database name for a request's `db_name` (empty for the server's default).
    var databaseName: String { connection.databaseName }
}

/// The gRPC client of a ``RemoteDatabase`` and what its views share: the connection, the
/// credentials' metadata, the retry policy and the schema cache.
final class Connection: Sendable {
    let uri: String
    let databaseName: String
    let options: ConnectOptions
    let metadata: GRPCCore.Metadata
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    let service: RemoteDatabase.Service
    private let runner: Mutex<Task<Void, Never>?>
    private let closed = Atomic<Bool>(false)
    /// Schemas by collection name, filled by `DescribeCollection` and dropped when a call says
    /// the collection is gone or changed (drop, rename, create).
    let schemas = Mutex<[String: CollectionSchema]>([:])

    init(uri: String, options: ConnectOptions) throws {
        guard let url = URLComponents(string: uri), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw QuiverError(.invalidArgument, "'\(uri)' is not a Milvus URL; use http://host:port or https://host:port")
        }
        let port = url.port ?? 19530
        let pathName = url.path.split(separator: "/").first.map(String.init) ?? ""
        self.uri = uri
        self.options = options
        self.databaseName = options.databaseName ?? pathName

        var metadata = GRPCCore.Metadata()
        if let token = options.token {
            metadata.addString(Data(token.utf8).base64EncodedString(), forKey: "authorization")
        } else if let user = options.user {
            metadata.addString(Data("\(user):\(options.password ?? "")".utf8).base64EncodedString(), forKey: "authorization")
        }
        if !databaseName.isEmpty { metadata.addString(databaseName, forKey: "dbname") }
        self.metadata = metadata

        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let target: any ResolvableTarget
        if bareHost.contains(":") {
            target = ResolvableTargets.IPv6(addresses: [.init(host: bareHost, port: port)])
        } else if bareHost.split(separator: ".").count == 4 && bareHost.allSatisfy({ $0.isNumber || $0 == "." }) {
            target = ResolvableTargets.IPv4(addresses: [.init(host: bareHost, port: port)])
        } else {
            target = ResolvableTargets.DNS(host: bareHost, port: port)
        }
        let security: HTTP2ClientTransport.Posix.TransportSecurity
        if scheme == "https" {
            let tls = options.tls
            var config = HTTP2ClientTransport.Posix.TransportSecurity.TLS.defaults
            if let path = tls.trustedCertificatesPath { config.trustRoots = .certificates([.file(path: path, format: .pem)]) }
            if !tls.verifiesHostname { config.serverCertificateVerification = .noHostnameVerification }
            if let certificate = tls.clientCertificatePath, let key = tls.clientKeyPath {
                config.certificateChain = [.file(path: certificate, format: .pem)]
                config.privateKey = .file(path: key, format: .pem)
            }
            security = .tls(config)
        } else {
            security = .plaintext
        }
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(target: target, transportSecurity: security)
        } catch {
            throw QuiverError(.invalidArgument, "cannot set up a connection to \(uri): \(error)", cause: error)
        }
        let client = GRPCClient(transport: transport)
        self.client = client
        self.service = RemoteDatabase.Service(wrapping: client)
        self.runner = Mutex(Task {
            // Returns when the client shuts down; a transport failure shows in each call's error.
            do { try await client.runConnections() } catch {}
        })
    }

    deinit {
        client.beginGracefulShutdown()
    }

    /// `Connect`, as pymilvus's `MilvusClient` makes it first: the server must answer it.
    func handshake(timeout: Duration?) async throws {
        var request = Milvus_Proto_Milvus_ConnectRequest()
        request.clientInfo.sdkType = "Quiver"
        request.clientInfo.sdkVersion = "0.1"
        _ = try await call("Connect", idempotent: true, timeout: timeout) { [request] service, metadata, options in
            try await service.connect(request, metadata: metadata, options: options)
        }
    }

    func close() async {
        closed.store(true, ordering: .releasing)
        client.beginGracefulShutdown()
        let task = runner.withLock { task in
            defer { task = nil }
            return task
        }
        await task?.value
    }

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Sends one RPC: the credentials' metadata, the message limit and the deadline on it; a
    /// failed Milvus status thrown as its `QuiverError`; when `idempotent`, retried on
    /// unavailability with backoff as ``ConnectOptions/retry`` says, within the deadline.
    func call<Response: MilvusResponse>(
        _ name: String, idempotent: Bool, timeout: Duration?,
        _ body: @Sendable @escaping (RemoteDatabase.Service, GRPCCore.Metadata, CallOptions) async throws -> Response
    ) async throws -> Response {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        let policy = options.retry
        var backoff = policy.initialBackoff
        var attempt = 1
        while true {
            guard !isClosed else { throw QuiverError(.closed, "\(name): the connection to \(uri) is closed") }
            var callOptions = CallOptions.defaults
            callOptions.maxRequestMessageBytes = options.maxMessageBytes
            callOptions.maxResponseMessageBytes = options.maxMessageBytes
            callOptions.waitForReady = false
            if let deadline {
                let remaining = deadline - clock.now
                guard remaining > .zero else { throw timedOut(name, timeout) }
                callOptions.timeout = remaining
            }
            let failure: QuiverError
            do {
                let response = try await body(service, metadata, callOptions)
                guard let error = MilvusError(status: response.status) else { return response }
                failure = error.quiverError
            } catch let error as RPCError {
                if error.code == .cancelled, Task.isCancelled { throw CancellationError() }
                failure = self.error(error, call: name, timeout: timeout)
            } catch let error as QuiverError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failure = isClosed
                    ? QuiverError(.closed, "\(name): the connection to \(uri) is closed", cause: error)
                    : QuiverError(.unavailable, "\(name): \(uri) cannot be reached: \(error)", cause: error)
            }
            guard failure.code == .unavailable, idempotent, attempt < policy.maxAttempts else { throw failure }
            let jittered = backoff * Double.random(in: 0.5...1.0)
            if let deadline, clock.now + jittered >= deadline { throw failure }
            try await Task.sleep(for: jittered)
            backoff = min(policy.maxBackoff, backoff * policy.multiplier)
            attempt += 1
        }
    }

    private func timedOut(_ name: String, _ timeout: Duration?) -> QuiverError {
        QuiverError(.timeout, "\(name): \(uri) did not answer within \(timeout.map { "\($0)" } ?? "the deadline"); the call may or may not have been applied")
    }

    /// The QuiverError of a gRPC failure.
    func error(_ error: RPCError, call name: String, timeout: Duration?) -> QuiverError {
        let reason = error.message.isEmpty ? "\(error.code)" : error.message
        switch error.code {
        case .unavailable:
            return QuiverError(.unavailable, "\(name): \(uri) is unavailable: \(reason)", cause: error)
        case .deadlineExceeded:
            return timedOut(name, timeout)
        case .unauthenticated, .permissionDenied:
            return QuiverError(.permissionDenied, "\(name): \(uri) refused the credentials: \(reason)", cause: error)
        case .resourceExhausted:
            return QuiverError(.resourceExhausted, "\(name): a message was over the size limit or the server is out of resources: \(reason)", cause: error)
        case .unimplemented:
            return QuiverError(.unsupported, "\(name): the server at \(uri) does not implement this call: \(reason)", cause: error)
        case .invalidArgument:
            return QuiverError(.invalidArgument, "\(name): \(reason)", cause: error)
        case .notFound:
            return QuiverError(.notFound, "\(name): \(reason)", cause: error)
        case .cancelled where isClosed:
            return QuiverError(.closed, "\(name): the connection to \(uri) was closed", cause: error)
        default:
            return QuiverError(.serverError, "\(name): \(uri) failed: \(reason) (gRPC \(error.code))", cause: error)
        }
    }
}
