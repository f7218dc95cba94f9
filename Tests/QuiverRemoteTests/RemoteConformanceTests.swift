import Foundation
import Quiver
import QuiverRemote
import QuiverTestSupport
import Testing

/// The conformance scenario that VectorDatabaseConformanceTests runs on the embedded engine
/// (Tests/QuiverTestSupport/ConformanceScenario.swift), here through `RemoteDatabase` on each
/// server of `availableBackends`: the same calls, checked against the same model. On
/// `milvus-lite server` the steps that 3.2.2 lacks or does differently check what it does
/// instead, as `ConformanceScenario.Backend.milvusLite` lists: no filter templates (the values
/// are written into the filter), one index per field (the exact index made at creation is
/// listed and comes back after `dropIndex`), no binary vectors (`.unsupported`), a rename
/// that releases the collection, and BM25 scores that are negated and not Lucene's over the
/// live rows (the hits are checked for query words and order only).
@Suite(.serialized) struct RemoteConformanceTests {
    @Test(.enabled(if: !availableBackends.isEmpty, "needs the built quiver or milvus-lite (scripts/test-pymilvus.sh makes .venv-pymilvus)"),
          arguments: availableBackends)
    func theScenarioPassesOnTheServer(_ backend: Backend) async throws {
        let server = try backend.start()
        defer { server.stop() }
        var options = ConnectOptions()
        options.timeout = .seconds(60)
        let db = try await connect(server.uri, options: options)
        #expect(db is RemoteDatabase)
        try await ConformanceScenario.run(db, backend: backend.conformance, prefix: "remote")
        try await db.close()
    }
}
