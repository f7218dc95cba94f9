import Foundation
import Testing
@testable import Quiver

/// A second process gets `.locked` at once; read-only opening shows the last flushed state.
@Suite struct MultiProcessTests {
    @Test func anotherProcessHoldingTheDatabaseMeansLockedAndReadOnlyStillWorks() throws {
        let harness = try #require(CrashTests.harness, "quiver-crash must be built next to the tests")
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            try db.createCollection("crash", dimension: 4, metric: .l2)
            _ = try db.insert("crash", rows: (0..<10).map { ["id": .int(Int64(1_000 + $0)), "vector": .vector([1, 2, 3, Float($0)])] })
            try db.close()  // flushes: rows 1000…1009 are the last flushed state
        }
        let ack = dir.path + ".ack"
        _ = FileManager.default.createFile(atPath: ack, contents: nil)
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: harness)
        writer.arguments = ["inserts", dir.path, ack, "0"]
        try writer.run()
        defer { kill(writer.processIdentifier, SIGKILL); writer.waitUntilExit() }
        // Wait until the other process holds the lock and has written.
        let deadline = Date().addingTimeInterval(10)
        while (FileManager.default.contents(atPath: ack)?.count ?? 0) < 4 && Date() < deadline { usleep(10_000) }

        let start = Date()
        #expect {
            try Database.open(at: dir.path, options: quietOptions())
        } throws: { error in
            (error as? QuiverError)?.code == .locked && (error as? QuiverError)?.message.contains(dir.path) == true
        }
        #expect(Date().timeIntervalSince(start) < 1, "the second open must fail at once, not wait")

        var options = quietOptions()
        options.readOnly = true
        let reader = try Database.open(at: dir.path, options: options)
        let ids = Set(try reader.query("crash", limit: 100).compactMap { $0["id"]?.intValue })
        #expect(ids == Set((1_000..<1_010).map(Int64.init)), "read-only shows the flushed rows, not the writer's unflushed ones")
        let hits = try reader.search("crash", vectors: [[1, 2, 3, 4]], limit: 1)
        #expect(hits[0].first?.id == 1_004)
        #expect { try reader.insert("crash", rows: [["id": 1, "vector": [1, 2, 3, 4]]]) } throws: {
            ($0 as? QuiverError)?.code == .unsupported
        }
        #expect { try reader.createCollection("other", dimension: 2) } throws: { ($0 as? QuiverError)?.code == .unsupported }
        try reader.close()
    }
}
