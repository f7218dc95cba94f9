import NIOCore
import NIOPosix
import Testing

/// The test server itself: stopping it while connections are still being accepted must close
/// them, not crash the test process (swift-nio's "Deinited NIOAsyncWriter without calling
/// finish()" trap, seen in a test run on 2026-12-04).
@Suite struct TestServerTests {
    @Test func stoppingWithConnectionsInFlightClosesThem() async throws {
        for _ in 0..<20 {
            let server = try await TestServer.start { _, _ in .json(body: "{}") }
            // A burst of connections the accept loop has not taken yet when the server stops.
            let connecting = (0..<32).map { _ in
                ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: server.port)
            }
            await server.stop()
            // The server closed every one (or the kernel reset those it never accepted).
            var stillOpen = 0
            for attempt in connecting {
                guard let channel = try? await attempt.get() else { continue }
                let deadline = ContinuousClock.now + .seconds(30)
                while channel.isActive, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
                if channel.isActive { stillOpen += 1 }
                try? await channel.close()
            }
            #expect(stillOpen == 0)
        }
    }
}
