import Foundation
import Testing
@testable import Quiver

/// The crash harness: a child process runs random inserts, upserts, deletes, flushes and
/// compactions with durability `.always`; the parent SIGKILLs it at random moments, reopens,
/// and checks that every acknowledged call is there, no call is half applied, and the database
/// opens. `QUIVER_CRASH_KILLS` sets the number of kills (default 200); `scripts/crash-soak.sh`
/// runs long soaks.
@Suite struct CrashHarnessTests {
    /// key → gen of the live rows after replaying the acknowledged calls of a log.
    struct Model {
        var rows: [Int64: Int64] = [:]
        mutating func apply(_ op: String, _ seq: Int64, _ keys: [Int64]) {
            switch op {
            case "I", "U": for k in keys { rows[k] = seq }
            case "D": for k in keys { rows[k] = nil }
            default: break
            }
        }
    }

    static func parse(_ log: String) -> (acked: [(String, Int64, [Int64])], inFlight: (String, Int64, [Int64])?) {
        var begun = [Int64: (String, Int64, [Int64])]()
        var order = [Int64]()
        var acked = Set<Int64>()
        var aborted = Set<Int64>()
        for line in log.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let seq = Int64(parts[1]) else { continue }
            if parts[0] == "B", parts.count == 4 {
                let keys = parts[3] == "-" ? [] : parts[3].split(separator: ",").compactMap { Int64($0) }
                begun[seq] = (String(parts[2]), seq, keys)
                order.append(seq)
            } else if parts[0] == "A" {
                acked.insert(seq)
            } else if parts[0] == "X" {
                aborted.insert(seq)
            }
        }
        let ackedOps = order.filter(acked.contains).map { begun[$0]! }
        let pending = order.filter { !acked.contains($0) && !aborted.contains($0) }
        return (ackedOps, pending.last.map { begun[$0]! })
    }

    @Test func randomOperationsSurviveRepeatedSIGKILL() throws {
        let harness = try #require(CrashTests.harness, "quiver-crash must be built next to the tests")
        let kills = Int(ProcessInfo.processInfo.environment["QUIVER_CRASH_KILLS"] ?? "") ?? 200
        let dir = TemporaryDirectory()
        let logPath = dir.path + ".log"
        var g = SeededGenerator(seed: 2026)
        var seq: Int64 = 0
        var model = Model()
        for kill in 0..<kills {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: harness)
            process.arguments = ["random", dir.path, logPath, String(UInt64.random(in: 1...UInt64.max, using: &g)), String(seq)]
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(Double.random(in: 0.02...0.25, using: &g))
            while Date() < deadline && process.isRunning { usleep(2_000) }
            let wasRunning = process.isRunning
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(wasRunning || process.terminationReason == .uncaughtSignal, "kill \(kill): the writer exited by itself")

            let log = String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self)
            let (acked, inFlight) = Self.parse(log)
            var expected = Model()
            for (op, s, keys) in acked { expected.apply(op, s, keys) }
            let db = try Database.open(at: dir.path, options: quietOptions())
            var actual = [Int64: Int64]()
            if db.hasCollection("crash") {
                for row in try db.query("crash", limit: 16_384, outputFields: ["gen"]) {
                    actual[row["id"]!.intValue!] = row["gen"]!.intValue!
                }
            }
            var withInFlight = expected
            if let (op, s, keys) = inFlight { withInFlight.apply(op, s, keys) }
            #expect(actual == expected.rows || actual == withInFlight.rows,
                    "kill \(kill): state matches neither the acknowledged calls nor them plus the call in flight")
            try db.close()
            // Continue after what the database holds: the in-flight call counts if it landed.
            model = actual == expected.rows ? expected : withInFlight
            seq = max(acked.last?.1 ?? 0, inFlight?.1 ?? 0) + 1
            // Record the outcome of the in-flight call so the next round's model agrees.
            if let (_, s, _) = inFlight {
                let handle = FileHandle(forWritingAtPath: logPath)!
                handle.seekToEndOfFile()
                handle.write(Data((model.rows == expected.rows ? "X \(s)\n" : "A \(s)\n").utf8))
                try handle.close()
            }
        }
        _ = model
    }
}
