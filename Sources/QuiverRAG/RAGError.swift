/// The error every `QuiverRAG` API throws (engine errors pass through as `QuiverError`).
///
/// Match on ``code``; ``statusCode`` and ``message`` carry what the server said:
/// ```swift
/// do { _ = try await chat.complete([.user("hi")]) }
/// catch let e as RAGError where e.code == .server && e.statusCode == 401 { … }
/// ```
/// API keys never appear in an error: messages are redacted before they are stored, and no
/// request header is ever copied into one.
public struct RAGError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, extensible like `QuiverError.Code`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, e.g. `"server"`; it is also what ``description`` prints.
        public let rawValue: String
        /// A code with the given name. Use the static codes below; a new name matches none of them.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The server answered with an HTTP error status; ``RAGError/message`` is its error message.
        public static let server = Code("server")
        /// The request (or, when streaming, the wait for the next chunk) took longer than allowed.
        public static let timeout = Code("timeout")
        /// The task was cancelled.
        public static let cancelled = Code("cancelled")
        /// The connection failed (refused, reset, TLS, DNS).
        public static let transport = Code("transport")
        /// The server answered 2xx with a body that is not what the API promises.
        public static let invalidResponse = Code("invalidResponse")
        /// A model or embedder is needed but none is configured; the message names the variables to set.
        public static let notConfigured = Code("notConfigured")
        /// A bad argument: empty input, wrong dimension, a bad URL.
        public static let invalidArgument = Code("invalidArgument")
        /// The collection was made by an older version and lacks what the call needs (the BM25
        /// field of ``RetrievalMode/bm25`` and ``RetrievalMode/hybrid`` retrieval); the message
        /// says how to go on: retrieve with ``RetrievalMode/dense``, or drop the collection and ingest again.
        public static let reingestRequired = Code("reingestRequired")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What to know or do; for `.server`, the server's own error message.
    public var message: String
    /// The HTTP status for `.server` errors.
    public var statusCode: Int?
    /// How long the server asked to wait (`Retry-After`), for 429 and 503 answers.
    public var retryAfter: Duration?

    /// An error of the given kind.
    ///
    /// - Parameters:
    ///   - code: what kind of failure this is.
    ///   - message: what to know or do; redact API keys before passing server text.
    ///   - statusCode: the HTTP status, for `.server` errors.
    ///   - retryAfter: the server's `Retry-After`, when it sent one.
    public init(_ code: Code, _ message: String, statusCode: Int? = nil, retryAfter: Duration? = nil) {
        self.code = code
        self.message = message
        self.statusCode = statusCode
        self.retryAfter = retryAfter
    }

    public var description: String {
        if let statusCode { return "\(code) (HTTP \(statusCode)): \(message)" }
        return "\(code): \(message)"
    }
}

extension RAGError {
    /// `true` for errors worth retrying, as the OpenAI SDKs decide: 408, 409, 429, 5xx,
    /// timeouts and connection failures.
    var isRetryable: Bool {
        switch code {
        case .server: return [408, 409, 429].contains(statusCode ?? 0) || (statusCode ?? 0) >= 500
        case .transport, .timeout: return true
        default: return false
        }
    }
}
