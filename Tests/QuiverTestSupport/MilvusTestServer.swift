import Foundation
import Testing

/// A Milvus-protocol server the remote tests (QuiverRemoteTests, RAGBackendTests) run against,
/// started on a free loopback port by ``start(token:)``.
public enum MilvusTestServer: String, CustomTestStringConvertible, CaseIterable, Sendable {
    case quiver = "quiver serve"
    case milvusLite = "milvus-lite server"

    public var testDescription: String { rawValue }

    /// What the conformance scenario (and the tests that share its flags) expect of it where it
    /// differs from the embedded engine.
    public var conformance: ConformanceScenario.Backend {
        switch self {
        case .quiver: .quiverServe
        case .milvusLite: .milvusLite
        }
    }

    /// Starts the server on a fresh database (`token`: `quiver serve` only).
    public func start(token: String? = nil) throws -> ServerProcess {
        switch self {
        case .quiver: try ServerProcess.quiver(token: token)
        case .milvusLite: try ServerProcess.milvusLite()
        }
    }

    /// The servers the tests run on: `quiver serve` when the `quiver` executable is built beside
    /// the tests, and `milvus-lite server` when the pymilvus virtual environment has it
    /// (scripts/test.sh makes it); `QUIVER_REMOTE_TEST_BACKENDS` (`quiver`, `milvus-lite`, or both,
    /// comma-separated) picks fewer. (Until 2026-12-02 milvus-lite was opt-in: the tests stalled
    /// against it, because the servers inherited a blocked SIGTERM and `ServerProcess.stop()`
    /// waited for good; see ServerProcess.)
    public static let available: [MilvusTestServer] = {
        let names = (ProcessInfo.processInfo.environment["QUIVER_REMOTE_TEST_BACKENDS"] ?? "quiver,milvus-lite")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let found: [MilvusTestServer] = (QuiverExecutable.path != nil ? [.quiver] : []) + (ServerProcess.hasMilvusLite ? [.milvusLite] : [])
        return found.filter { names.contains($0 == .quiver ? "quiver" : "milvus-lite") }
    }()
}
