import Foundation
import Quiver
import QuiverTestSupport
import Testing

/// `quiver export` and `quiver import`, including an import killed with SIGKILL and run again.
@Suite struct DumpCLITests {
    @Test(.enabled(if: QuiverExecutable.path != nil, "needs the quiver executable (swift build)"))
    func importKilledMidwayAndRunAgainHoldsEveryRowOnce() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-dump-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let rows = 120_000
        var expected = [Row]()
        do {
            let db = try Database.open(at: base + "/a")
            try db.createCollection("c", dimension: 8, metric: .l2)
            for first in stride(from: 0, to: rows, by: 20_000) {
                _ = try db.insert("c", columns: ColumnBatch([
                    "id": .int64((first..<first + 20_000).map { Int64($0) * 7 }),
                    "vector": .floatVectors((0..<20_000 * 8).map { Float(first * 8 + $0) / 3 }, dimension: 8),
                    "label": .strings((first..<first + 20_000).map { "row \($0)" }),
                ]))
            }
            let walk = try db.queryIterator("c", batchSize: 16_384, outputFields: ["*"])
            while let batch = walk.next() { expected += batch }
            try db.close()
        }
        let exported = try QuiverExecutable.run(["export", base + "/a", "c", base + "/dump"])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(try Value(json: exported.stdout).objectValue?["exported"] == .int(Int64(rows)))

        // Kill the import once it has written some batches (its progress lines), not all.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: QuiverExecutable.path!)
        process.arguments = ["import", base + "/b", base + "/dump", "--batch-size", "1000"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n10000/\(rows) rows") {
            guard let data = PipeReading.readSome(err.fileHandleForReading) else { break }
            text += String(decoding: data, as: UTF8.self)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the import ended before it was killed: \(text.suffix(300))")
        let again = try QuiverExecutable.run(["import", base + "/b", base + "/dump", "--batch-size", "5000"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Value(json: again.stdout) == ["imported": .int(Int64(rows))])

        let db = try Database.open(at: base + "/b")
        defer { try? db.close() }
        var got = [Row]()
        let walk = try db.queryIterator("c", batchSize: 16_384, outputFields: ["*"])
        while let batch = walk.next() { got += batch }
        #expect(got.count == rows)
        #expect(got == expected)
    }

    @Test(.enabled(if: QuiverExecutable.path != nil, "needs the quiver executable (swift build)"))
    func importOfAWrongDimensionFileIsRefused() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-dump-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        do {
            let db = try Database.open(at: base + "/db")
            try db.createCollection("c", dimension: 3, metric: .l2)
            try db.close()
        }
        try "{\"id\": 1, \"vector\": [1, 2, 3]}\n{\"id\": 2, \"vector\": [1, 2]}\n".write(toFile: base + "/rows.jsonl", atomically: true, encoding: .utf8)
        let r = try QuiverExecutable.run(["import", base + "/db", base + "/rows.jsonl", "--collection", "c"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("dimension"), "\(r.stderr)")
        let db = try Database.open(at: base + "/db")
        defer { try? db.close() }
        #expect(try db.query("c", filter: "id >= 0", outputFields: ["count(*)"]) == [["count(*)": 0]])
    }
}
