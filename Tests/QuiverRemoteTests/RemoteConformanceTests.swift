import Foundation
import Quiver
import QuiverRemote
import QuiverTestSupport
import Testing

/// The conformance scenario that VectorDatabaseConformanceTests runs on the embedded engine
/// (Tests/QuiverTestSupport/ConformanceScenario.swift), here through `RemoteDatabase` on each
/// server of `backendsBeyondMilvusLite` (milvus-lite 3.2.2 lacks filter templates and index
/// names; see there): the same calls, checked against the same model.
@Suite(.serialized) struct RemoteConformanceTests {
    @Test(.enabled(if: !backendsBeyondMilvusLite.isEmpty, "needs the built quiver (or milvus-lite, when selected)"),
          arguments: backendsBeyondMilvusLite)
    func theScenarioPassesOnTheServer(_ backend: Backend) async throws {
        let server = try backend.start()
        defer { server.stop() }
        var options = ConnectOptions()
        options.timeout = .seconds(60)
        let db = try await connect(server.uri, options: options)
        #expect(db is RemoteDatabase)
        try await ConformanceScenario.run(
            db, backend: ConformanceScenario.Backend(name: backend.rawValue, releaseUnloads: backend == .milvusLite), prefix: "remote")
        try await db.close()
    }
}
