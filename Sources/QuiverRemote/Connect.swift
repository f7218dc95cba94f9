import Quiver

/// Opens the database a URI names, the way pymilvus's `MilvusClient(uri)` does: an `http://` or
/// `https://` URL connects to a Milvus server (`quiver serve`, Milvus Lite's server, a Milvus
/// cluster, Zilliz Cloud) through ``RemoteDatabase``; anything else is a path, opened as an
/// embedded `Database` with ``ConnectOptions/database``. A URI with another scheme (`grpc://`,
/// `file://`, …) is refused rather than taken for a directory name, and so is a path given with
/// options only a server uses, set to other than their defaults (``ConnectOptions/token``,
/// ``ConnectOptions/user``, ``ConnectOptions/password``, ``ConnectOptions/databaseName``,
/// ``ConnectOptions/timeout``):
/// an embedded database has no credentials, databases or deadlines, and ignoring them would
/// hide a URI that was meant to be a server's. (TLS, retry and message-size settings are
/// defaults more often than choices, and a path leaves them unused.)
///
/// ```swift
/// let local = try await connect("./demo.quiver")
/// let remote = try await connect("http://127.0.0.1:19530")
/// for db in [local, remote] {
///     try await db.createCollection("docs", dimension: 384, metric: .ip)
/// }
/// ```
///
/// - Throws: for a URL, what ``RemoteDatabase/init(uri:options:)`` throws (`.unavailable`,
///   `.permissionDenied`, `.invalidArgument` for a malformed URL, `.timeout`); for a path, what
///   `Database.open(at:options:)` throws (`.locked`, `.corruption`, `.io`); `.invalidArgument`
///   for a URI whose scheme is neither `http` nor `https`, and for a path with server options.
public func connect(_ uri: String, options: ConnectOptions = ConnectOptions()) async throws -> any VectorDatabase {
    if RemoteDatabase.isURL(uri) {
        return try await RemoteDatabase(uri: uri, options: options)
    }
    if let scheme = uri.range(of: "://"), !uri[..<scheme.lowerBound].contains("/") {
        throw QuiverError(.invalidArgument, 
            "'\(uri[..<scheme.lowerBound])://' is not a scheme Quiver connects to: give a path, or an http:// or https:// URL")
    }
    let serverOptions = options.serverOnlySettings
    guard serverOptions.isEmpty else {
        let one = serverOptions.count == 1
        throw QuiverError(.invalidArgument,
            "\(serverOptions.joined(separator: ", ")) \(one ? "is a server option" : "are server options"), for an http:// or "
            + "https:// URL only, and '\(uri)' is a path (an embedded database): give a URL, or leave \(one ? "it" : "them") out")
    }
    return try await Database.open(at: uri, options: options.database)
}

extension ConnectOptions {
    /// The names of the settings that only a server uses and that differ from their defaults,
    /// for the error of ``connect(_:options:)`` given a path.
    var serverOnlySettings: [String] {
        let defaults = ConnectOptions()
        return [("token", token != defaults.token), ("user", user != defaults.user), ("password", password != defaults.password),
                ("databaseName", databaseName != defaults.databaseName), ("timeout", timeout != defaults.timeout)]
            .filter(\.1).map(\.0)
    }
}
