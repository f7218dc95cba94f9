/// The one error type Quiver throws.
///
/// Match on ``code`` to react to a kind of failure; read ``message`` for what went wrong and
/// what to do about it. Messages never contain vector components or document text.
///
/// ```swift
/// do {
///     let db = try Database.open(at: "./demo.quiver")
/// } catch let error as QuiverError where error.code == .locked {
///     print("another process holds the database:", error.message)
/// }
/// ```
public struct QuiverError: Error, Sendable, CustomStringConvertible, Hashable {
    /// The kind of failure. Extensible: new codes may be added in minor releases.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, e.g. `"notFound"`; it is also what ``description`` prints.
        public let rawValue: String
        /// A code with the given name. Use the static codes below; a new name matches none of them.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A caller passed a value Quiver cannot accept (a bad name, limit, type, field).
        public static let invalidArgument = Code("invalidArgument")
        /// A vector has the wrong number of components for its field.
        public static let dimensionMismatch = Code("dimensionMismatch")
        /// A collection, alias, field, index or row that was asked for does not exist.
        public static let notFound = Code("notFound")
        /// A collection, alias or primary key that was to be created exists already (collections
        /// and aliases share one namespace).
        public static let alreadyExists = Code("alreadyExists")
        /// A file on disk is damaged: a checksum, length, magic number or structure is wrong.
        public static let corruption = Code("corruption")
        /// The operating system refused an I/O operation (open, write, fsync, rename, mmap).
        public static let io = Code("io")
        /// Another `Database` (in this or another process) holds the database directory.
        public static let locked = Code("locked")
        /// The database or collection handle was closed or dropped.
        public static let closed = Code("closed")
        /// The collection was released (`releaseCollection(_:)`): search, query and get
        /// need `loadCollection(_:)` first, as in Milvus ("collection not loaded").
        public static let notLoaded = Code("notLoaded")
        /// The operation or option is not supported (yet, or in this configuration).
        public static let unsupported = Code("unsupported")
        /// A filter expression could not be parsed or type-checked.
        public static let filterSyntax = Code("filterSyntax")
        /// A memory limit was reached: the growing segment holds
        /// ``DatabaseOptions/growingSegmentByteLimit`` bytes because flushes keep failing. Writes
        /// are refused until a flush succeeds (free disk space, then call `flush`).
        public static let resourceExhausted = Code("resourceExhausted")
        /// A server could not be reached or is not serving (connection refused or lost); the
        /// call may be tried again later. Remote backends only.
        public static let unavailable = Code("unavailable")
        /// A call's deadline passed before the server answered; whether it was applied is unknown.
        /// Remote backends only.
        public static let timeout = Code("timeout")
        /// The server refused the credentials (a missing or wrong token, user or password) or the
        /// user lacks the privilege. Remote backends only.
        public static let permissionDenied = Code("permissionDenied")
        /// The server failed in a way no other code describes; the message has its reason (and
        /// Milvus's status code). Remote backends only.
        public static let serverError = Code("serverError")
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation that says what to fix.
    public var message: String
    /// The underlying error, if any (for example an `errno` from the system).
    public var cause: (any Error & Sendable)?

    /// An error of the given kind.
    ///
    /// - Parameters:
    ///   - code: what kind of failure this is.
    ///   - message: what went wrong and what to do about it, without vectors or document text.
    ///   - cause: the underlying error, such as a ``SystemError``; `nil` by default.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(code): \(message) (cause: \(cause))" }
        return "\(code): \(message)"
    }

    /// Two errors are equal when their codes and messages are; the causes are not compared.
    public static func == (lhs: QuiverError, rhs: QuiverError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }

    /// Hashes the code and the message, as `==` compares them.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }

    static func invalidArgument(_ message: String) -> QuiverError { QuiverError(.invalidArgument, message) }
    static func corruption(_ message: String) -> QuiverError { QuiverError(.corruption, message) }
    static func notFound(_ message: String) -> QuiverError { QuiverError(.notFound, message) }
}

/// An `errno` value captured from a failed system call.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    /// The `errno` value the call set, e.g. `ENOSPC` (28 on Linux).
    public let errno: Int32
    /// The system call that failed, e.g. `"fsync"`, with the path when there is one.
    public let call: String
    public var description: String {
        "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension QuiverError {
    /// An `.io` error for the failed system call `call` on `path`, capturing the current `errno`.
    static func io(_ call: String, path: String, errno code: Int32 = errno) -> QuiverError {
        let sys = SystemError(errno: code, call: call)
        return QuiverError(.io, "\(call) failed for '\(path)': \(String(cString: strerror(code)))", cause: sys)
    }
}
