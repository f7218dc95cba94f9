import Quiver

/// How ``RemoteDatabase`` reaches a Milvus server: credentials, database name, deadlines, TLS,
/// message size and retries.
///
/// ```swift
/// var options = ConnectOptions()
/// options.token = "root:Milvus"          // or user/password
/// options.timeout = .seconds(10)         // each call's deadline
/// let db = try await RemoteDatabase(uri: "https://milvus.example.com:19530", options: options)
/// ```
public struct ConnectOptions: Sendable {
    /// A token sent with every call in Milvus's `authorization` metadata, base64-encoded as
    /// pymilvus sends `token=` (for Milvus's own users, `"user:password"`; for Zilliz Cloud, an API key).
    public var token: String?
    /// A user name, sent with ``password`` as base64 `"user:password"` (pymilvus's `user=`/`password=`);
    /// ignored when ``token`` is set.
    public var user: String?
    /// The password of ``user``.
    public var password: String?
    /// The Milvus database to use (Milvus's `dbname` metadata and each request's `db_name`);
    /// `nil` takes it from the URI's path (`http://host:19530/mydb`), else the server's `default`.
    public var databaseName: String?
    /// Each call's deadline, retries included: 10 minutes by default, so that a server that
    /// accepts a call and never answers cannot hold the caller for good; `nil` for none
    /// (pymilvus's default). A call that passes it throws `.timeout`; a wait for a load or an
    /// index build (``RemoteDatabase/loadCollection(_:)``, ``RemoteDatabase/flush(_:)``) is
    /// bounded by it too. ``RemoteDatabase/withTimeout(_:)`` gives another per call.
    public var timeout: Duration? = .seconds(600)
    /// TLS settings for `https://` URIs.
    public var tls = TLSOptions()
    /// The largest message sent or accepted, in bytes: 256 MB by default, Milvus's own limit
    /// (gRPC's 4 MiB default is too small for a batch of vectors). Inserts and upserts larger
    /// than this are split into several requests that each fit.
    public var maxMessageBytes: Int = 256 << 20
    /// How calls that may be repeated are retried when the server is unavailable.
    public var retry = RetryPolicy()
    /// The options of an embedded database, used when ``connect(_:options:)`` is given a path
    /// instead of a URL (durability, flush thresholds, threads, read-only, …).
    public var database = DatabaseOptions()

    /// The defaults: no credentials, the server's default database, a 10-minute deadline, system TLS
    /// roots, 256 MB messages, up to 5 attempts of a call that may be repeated, and the default
    /// `DatabaseOptions` for a path.
    public init() {}
}

/// TLS settings for an `https://` connection.
public struct TLSOptions: Sendable {
    /// A PEM file of certificates to trust instead of the system's roots (a private CA, or a
    /// self-signed server certificate).
    public var trustedCertificatesPath: String?
    /// Whether the server's certificate must name the host of the URI (true by default).
    public var verifiesHostname: Bool = true
    /// A PEM certificate chain the client presents (mutual TLS), with ``clientKeyPath``.
    public var clientCertificatePath: String?
    /// The PEM private key of ``clientCertificatePath``.
    public var clientKeyPath: String?

    /// System roots, full verification, no client certificate.
    public init() {}
}

/// How a call that may safely be repeated is retried when the server is unavailable (gRPC
/// UNAVAILABLE, or Milvus's "service not ready" and "service unavailable" statuses): after a
/// delay that starts at ``initialBackoff``, grows by ``multiplier`` up to ``maxBackoff``, and is
/// randomized (each delay is between half and all of it), until ``maxAttempts`` attempts or the
/// call's deadline.
///
/// Which calls are repeated: reads (describe, has, list, stats, load state, get, query,
/// search, describe and list indexes), and calls whose repetition leaves the same state and
/// answers the same: create and drop of a collection (Milvus answers a repeated one with
/// success; the client checks existence first), load, release, flush, create index (the same
/// index again is a no-op), and upsert (the same rows written twice are the same rows). Never
/// insert (a first attempt that reached the server before the connection broke would be
/// inserted twice: Milvus does not reject existing keys), delete (its count would be the
/// second attempt's, and a filter could match rows written between the attempts), rename and
/// drop index (a repeated one fails where the first succeeded).
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included; 1 disables retries.
    public var maxAttempts: Int = 5
    /// The delay before the second attempt.
    public var initialBackoff: Duration = .milliseconds(100)
    /// The longest delay between two attempts.
    public var maxBackoff: Duration = .seconds(2)
    /// The factor by which the delay grows after each attempt.
    public var multiplier: Double = 2

    /// Up to 5 attempts, 100 ms first delay, doubling to at most 2 s.
    public init() {}

    /// Retries disabled: each call is attempted once.
    public static var none: RetryPolicy {
        var policy = RetryPolicy()
        policy.maxAttempts = 1
        return policy
    }
}
