import Foundation
import Testing
@testable import Quiver

/// SIGKILLs a writer process in the middle of a stream of `.always` inserts and checks that
/// every acknowledged row survived.
@Suite struct CrashTests {
    static var harness: String? {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        for candidate in [dir + "/quiver-crash", dir + "/../quiver-crash"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    @Test func acknowledgedInsertsSurviveSIGKILL() throws {
        let harness = try #require(Self.harness, "quiver-crash must be built next to the tests (swift build builds it)")
        let dir = TemporaryDirectory()
        let ackPath = dir.path + ".ack"
        _ = FileManager.default.createFile(atPath: ackPath, contents: nil)
        var g = SeededGenerator(seed: 42)
        var start: Int64 = 0
        for round in 0..<5 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: harness)
            process.arguments = ["inserts", dir.path, ackPath, String(start)]
            try process.run()
            // Let it write for a while, then kill it without warning.
            let deadline = Date().addingTimeInterval(Double.random(in: 0.3...0.8, using: &g))
            while Date() < deadline && process.isRunning { usleep(10_000) }
            #expect(process.isRunning, "round \(round): the writer exited early (status \(process.terminationStatus))")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            let acked = String(decoding: FileManager.default.contents(atPath: ackPath)!, as: UTF8.self)
                .split(separator: "\n").compactMap { Int64($0) }
            #expect(acked.count > Int(start), "round \(round): no progress")
            let db = try Database.open(at: dir.path, options: quietOptions())
            let ids = Set(try db.query("crash", filter: "", limit: 16_384).compactMap { $0["id"]?.intValue })
            let missing = acked.filter { !ids.contains($0) }
            #expect(missing.isEmpty, "round \(round): acknowledged rows lost: \(missing.prefix(10))")
            // At most one unacknowledged row (the call in flight) may also be there.
            #expect(ids.count <= acked.count + 1, "round \(round)")
            start = Int64(ids.count)
            if ids.count > acked.count {
                // The in-flight row landed; record it so later rounds expect it too.
                let handle = FileHandle(forWritingAtPath: ackPath)!
                handle.seekToEndOfFile()
                handle.write(Data("\(acked.count)\n".utf8))
                try handle.close()
            }
            try db.close()
        }
    }
}
