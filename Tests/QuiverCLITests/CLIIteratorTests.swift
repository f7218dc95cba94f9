import Foundation
import Quiver
import QuiverTestSupport
import Testing

/// `quiver query --iterate` and `quiver search --iterate`: every row past the 16,384 limit, once
/// each, in order, as JSON Lines (issue 19's iterators in the CLI).
@Suite struct CLIIteratorTests {
    static let hasQuiver = QuiverExecutable.path != nil

    /// The JSON value of each non-empty line of `quiver args`'s standard output.
    static func lines(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [Value] {
        let r = try QuiverExecutable.run(args)
        #expect(r.status == 0, "quiver \(args.joined(separator: " ")): \(r.stderr)", sourceLocation: sourceLocation)
        return try r.stdout.split(separator: "\n").map { try Value(json: String($0)) }
    }

    @Test(.enabled(if: hasQuiver, "needs the quiver executable (swift build)"))
    func iterateWalksPastTheLimitInOrder() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-cli-iterate-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: base) }
        let rows = 20_000
        do {
            let db = try Database.open(at: base)
            try db.createCollection("c", dimension: 2, metric: .l2)
            // Ids in a shuffled order over two segments; row id i has the vector [i, 0].
            var g = SystemRandomNumberGenerator()
            let ids = (0..<Int64(rows)).shuffled(using: &g)
            for part in [ids[..<12_000], ids[12_000...]] {
                _ = try db.insert("c", columns: ColumnBatch([
                    "id": .int64(Array(part)), "vector": .floatVectors(part.flatMap { [Float($0), 0] }, dimension: 2),
                ]))
                try db.flush("c")
            }
            try db.close()
        }
        let all = try Self.lines(["query", base, "c", "--iterate", "--batch-size", "7000"])
        let allIDs: [Int64?] = all.map { $0.objectValue?["id"]?.intValue }
        #expect(allIDs == Array(0..<Int64(rows)))
        let some = try Self.lines(["query", base, "c", "--iterate", "--filter", "id % 2 == 1", "--limit", "9000"])
        let someIDs: [Int64?] = some.map { $0.objectValue?["id"]?.intValue }
        let odd: [Int64?] = (0..<Int64(9_000)).map { 2 * $0 + 1 }
        #expect(someIDs == odd)

        let hits = try Self.lines(["search", base, "c", "--iterate", "--vector", "[100.2, 0]", "--batch-size", "4096", "--limit", "17000"])
        #expect(hits.count == 17_000)
        let ids = hits.compactMap { $0.objectValue?["id"]?.intValue }
        #expect(Set(ids).count == 17_000)
        // Nearest first: 100, 101, 99, 102, 98, … (each distance is (i − 100.2)², all distinct).
        let byDistance: [Int64] = (0..<Int64(rows)).sorted { abs(Double($0) - 100.2) < abs(Double($1) - 100.2) }
        #expect(ids == Array(byDistance.prefix(17_000)))

        let bad = try QuiverExecutable.run(["query", base, "c", "--iterate", "--ids", "1"])
        #expect(bad.status != 0 && bad.stderr.contains("--iterate takes no --ids"))
    }

    /// The same walks on a server's URL (`quiver serve`, paged as pymilvus pages) as on a path.
    @Test(.enabled(if: hasQuiver, "needs the quiver executable (swift build)"))
    func iterateOnAURLGivesWhatAPathGives() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-cli-iterate-url-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        // 18,000 rows with ids in a shuffled order; row id i has the vector [i, 0].
        var g = SystemRandomNumberGenerator()
        let ids = (0..<18_000).shuffled(using: &g)
        let file = base + "/rows.jsonl"
        try ids.map { "{\"id\": \($0), \"vector\": [\($0), 0], \"odd\": \($0 % 2 == 1)}" }.joined(separator: "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let server = try ServerProcess.quiver()
        defer { server.stop() }
        func walks(_ db: String) throws -> [[Value]] {
            for args in [["create", db, "c", "--dimension", "2", "--metric", "l2"], ["insert", db, "c", "--file", file]] {
                let r = try QuiverExecutable.run(args)
                #expect(r.status == 0, "quiver \(args.joined(separator: " ")): \(r.stderr)")
            }
            return [
                try Self.lines(["query", db, "c", "--iterate", "--batch-size", "7000", "--output-fields", "odd"]),
                try Self.lines(["query", db, "c", "--iterate", "--filter", "odd == true", "--limit", "5000"]),
                try Self.lines(["search", db, "c", "--iterate", "--vector", "[100.2, 0]", "--batch-size", "4096", "--limit", "17000"]),
            ]
        }
        let local = try walks(base + "/local.quiver")
        let remote = try walks(server.uri)
        #expect(local[0].map { $0.objectValue?["id"]?.intValue } == (0..<18_000).map { Int64($0) })
        #expect(local[1].count == 5000 && local[2].count == 17_000)
        #expect(remote == local)
    }
}
