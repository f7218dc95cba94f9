import Dispatch
import Foundation
import Quiver
import QuiverMilvusProtocol
import Synchronization
import Testing

@testable import QuiverServer

/// What bounds a shutdown: a call cancelled when the grace period ends answers at once, even
/// while its database work is still running, and a call cancelled before its work began never
/// runs it. (`Tests/pymilvus/test_lifecycle.py` stops a real `quiver serve` with SIGTERM.)
@Suite struct ShutdownTests {
    /// Set from the database queue, read by the test.
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .sequentiallyConsistent) }
        var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
    }

    func withService(_ body: (MilvusService) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-shutdown-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try await Database.open(at: directory)
        try await body(MilvusService(database: database))
        try await database.close()
    }

    @Test func cancelledCallAnswersWhileItsWorkRuns() async throws {
        try await withService { service in
            let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
            let finished = Flag()
            let call = Task {
                await service.answer { () -> Milvus_Proto_Milvus_GetVersionResponse in
                    started.signal()
                    _ = release.wait(timeout: .now() + 60)  // the "long database call"
                    finished.set()
                    var response = Milvus_Proto_Milvus_GetVersionResponse()
                    response.version = "done"
                    return response
                }
            }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async {
                    started.wait()
                    c.resume()
                }
            }
            call.cancel()
            let response = await call.value
            #expect(!finished.isSet, "the handler waited for the work")
            #expect(response.status.code != 0 && response.status.reason.contains("cancelled"), "\(response)")
            #expect(response.version.isEmpty)
            release.signal()
        }
    }

    @Test func callCancelledBeforeItsWorkNeverRunsIt() async throws {
        try await withService { service in
            let ran = Flag()
            let call = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return await service.answer { () -> Milvus_Proto_Common_Status in
                    ran.set()
                    return MilvusService.success
                }
            }
            let response = await call.value
            #expect(response.code != 0 && response.reason.contains("cancelled"))
            // Give the queue a moment: a body scheduled anyway would have run by now.
            try await Task.sleep(for: .milliseconds(200))
            #expect(!ran.isSet)
        }
    }
}
