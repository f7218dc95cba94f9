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
}
