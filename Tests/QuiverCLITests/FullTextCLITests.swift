import Foundation
import Testing
import Quiver
import QuiverTestSupport

/// `quiver search --text`: full-text (BM25) search of a BM25 function's output field, on a
/// database path and on `quiver serve`'s URL, with the same JSON from both.
@Suite struct FullTextCLITests {
    static let hasQuiver = QuiverExecutable.path != nil

    func json(_ args: [String]) throws -> Value {
        let r = try QuiverExecutable.run(args)
        #expect(r.status == 0, "quiver \(args.joined(separator: " ")): \(r.stderr)")
        return try Value(json: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test(.enabled(if: hasQuiver, "needs the built quiver"))
    func textSearchOnAPathAndAURL() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-fulltext-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let schema = base + "/schema.json"
        try #"""
        {"fields": [{"name": "id", "type": "int64", "is_primary": true},
          {"name": "vector", "type": "float_vector", "dim": 2},
          {"name": "text", "type": "varchar", "max_length": 200, "enable_analyzer": true},
          {"name": "sparse", "type": "sparse_float_vector"}],
         "functions": [{"name": "bm25", "type": "BM25", "input_field_names": ["text"], "output_field_names": ["sparse"]}]}
        """#.write(toFile: schema, atomically: true, encoding: .utf8)
        let rows = base + "/rows.jsonl"
        try """
        {"id": 1, "vector": [1, 0], "text": "the quick brown fox"}
        {"id": 2, "vector": [0, 1], "text": "a lazy dog sleeps"}
        {"id": 3, "vector": [1, 1], "text": "fox and dog, fox and cat"}
        """.write(toFile: rows, atomically: true, encoding: .utf8)
        let server = try ServerProcess.quiver()
        defer { server.stop() }

        func transcript(_ db: String) throws -> [Value] {
            [
                try json(["create", db, "docs", "--schema", schema, "--metric", "l2"]),
                try json(["insert", db, "docs", "--file", rows]),
                try json(["search", db, "docs", "--text", "fox", "--output-fields", "text"]),
                try json(["search", db, "docs", "--text", "dog", "--text", "cat fox", "--field", "sparse", "--limit", "2"]),
                try json(["search", db, "docs", "--text", "fox", "--filter", "id > 1"]),
            ]
        }
        let local = try transcript(base + "/local.quiver")
        let remote = try transcript(server.uri)
        for (step, (l, r)) in zip(local, remote).enumerated() {
            #expect(l == r, "step \(step): path \(l.jsonString), URL \(r.jsonString)")
        }
        // "fox": row 3 has it twice, row 1 once; row 2 not at all.
        let fox = try #require(local[2].arrayValue?.first?.arrayValue)
        #expect(fox.map { $0.objectValue!["id"]! } == [3, 1])
        #expect(fox[0].objectValue?["entity"] == ["text": "fox and dog, fox and cat"])
        #expect(fox.allSatisfy { ($0.objectValue?["distance"]?.doubleValue ?? 0) > 0 })
        let two = try #require(local[3].arrayValue)
        #expect(two.count == 2 && two[0].arrayValue?.first?.objectValue?["id"] == 2 && two[1].arrayValue?.first?.objectValue?["id"] == 3)
        #expect(local[4].arrayValue?.first?.arrayValue?.map { $0.objectValue!["id"]! } == [3])

        // Texts on a field that is not a BM25 output, and texts with a vector, are refused.
        for (db, args) in [
            (base + "/local.quiver", ["--text", "fox", "--field", "vector"]),
            (server.uri, ["--text", "fox", "--field", "vector"]),
            (base + "/local.quiver", ["--text", "fox", "--vector", "[1, 0]"]),
        ] {
            let r = try QuiverExecutable.run(["search", db, "docs"] + args)
            #expect(r.status != 0, "search \(args) succeeded")
        }
    }
}
