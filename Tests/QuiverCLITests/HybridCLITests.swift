import Foundation
import Testing
import Quiver
import QuiverTestSupport

/// `quiver hybrid`: requests as JSON objects, the ranker flag, and its errors.
@Suite struct HybridCLITests {
    func json(_ args: [String]) throws -> Value {
        let r = try QuiverExecutable.run(args)
        #expect(r.status == 0, "quiver \(args.joined(separator: " ")): \(r.stderr)")
        return try Value(json: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func fusesTwoFieldsWithEachRanker() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-hybrid-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let db = base + "/db"
        let schema = base + "/schema.json"
        try #"""
        {"fields": [{"name": "id", "type": "int64", "is_primary": true},
          {"name": "x", "type": "float_vector", "dim": 2}, {"name": "y", "type": "float_vector", "dim": 2},
          {"name": "tag", "type": "varchar", "max_length": 8}]}
        """#.write(toFile: schema, atomically: true, encoding: .utf8)
        _ = try json(["create", db, "items", "--schema", schema, "--metric", "l2"])
        let rows = base + "/rows.jsonl"
        // For the query (0, 0): x ranks 1, 2, 3; y ranks 3, 2, 1.
        try """
        {"id": 1, "x": [1, 0], "y": [3, 0], "tag": "a"}
        {"id": 2, "x": [2, 0], "y": [2, 0], "tag": "b"}
        {"id": 3, "x": [3, 0], "y": [1, 0], "tag": "a"}
        """.write(toFile: rows, atomically: true, encoding: .utf8)
        _ = try json(["insert", db, "items", "--file", rows])
        let x = #"{"field": "x", "vector": [0, 0], "limit": 3}"#
        let y = #"{"field": "y", "vector": [0, 0], "limit": 3}"#
        // RRF: 1 and 3 tie at 1/61 + 1/63 and 2 has 2/62, which is less: 1, 3 (smaller key first), 2.
        let rrf = try json(["hybrid", db, "items", "--req", x, "--req", y, "--output-fields", "tag"])
        let hits = try #require(rrf.arrayValue?.first?.arrayValue)
        #expect(hits.map { $0.objectValue!["id"]! } == [1, 3, 2])
        #expect(hits.map { $0.objectValue!["entity"]! } == [["tag": "a"], ["tag": "a"], ["tag": "b"]])
        let score = try #require(hits[0].objectValue?["distance"]?.doubleValue)
        #expect(abs(score - (1.0 / 61 + 1.0 / 63)) < 1e-6)
        // Weighted on y alone: 3 (distance 1) first; the filter in a request applies to it only.
        let yOnly = #"{"field": "y", "vector": [0, 0], "limit": 3, "filter": "tag == 'a'"}"#
        let weighted = try json(["hybrid", db, "items", "--req", x, "--req", yOnly, "--ranker", "weighted:0,1", "--limit", "2"])
        #expect(weighted.arrayValue?.first?.arrayValue?.map { $0.objectValue!["id"]! } == [3, 1])
        // Bad input: the weight count, an unknown key, a missing vector.
        for (args, words) in [
            (["--req", x, "--req", y, "--ranker", "weighted:1"], "1 weights for 2"),
            (["--req", #"{"field": "x", "vector": [0, 0], "lmit": 3}"#], "unknown key 'lmit'"),
            (["--req", #"{"field": "x"}"#], "exactly one of"),
            (["--req", x, "--ranker", "max"], "--ranker must be"),
        ] {
            let r = try QuiverExecutable.run(["hybrid", db, "items"] + args)
            #expect(r.status != 0)
            #expect(r.stderr.contains(words), "\(r.stderr)")
        }
    }
}
