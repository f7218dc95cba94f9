import Foundation
import Testing
import Quiver
import QuiverTestSupport

/// The sparse vector type through the CLI: `create --schema` with a `sparse_float_vector` field,
/// JSON rows whose sparse values are objects of index → weight, `get` printing them back, and
/// `search --vector` with a sparse query object.
@Suite struct SparseCLITests {
    func json(_ args: [String]) throws -> Value {
        let r = try QuiverExecutable.run(args)
        #expect(r.status == 0, "quiver \(args.joined(separator: " ")): \(r.stderr)")
        return try Value(json: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func createInsertGetAndSearchASparseField() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-cli-sparse-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let db = base + "/db"
        let schema = base + "/schema.json"
        try #"""
        {"fields": [{"name": "id", "type": "int64", "is_primary": true},
                    {"name": "sparse", "type": "sparse_float_vector"}]}
        """#.write(toFile: schema, atomically: true, encoding: .utf8)
        _ = try json(["create", db, "docs", "--schema", schema])
        let rows = base + "/rows.jsonl"
        try """
        {"id": 1, "sparse": {"3": 0.5, "17": 2}}
        {"id": 2, "sparse": {"3": 1.5}}
        {"id": 3, "sparse": {"40": 1}}
        """.write(toFile: rows, atomically: true, encoding: .utf8)
        #expect(try json(["insert", db, "docs", "--file", rows]) == ["insert_count": 3, "ids": [1, 2, 3]])
        #expect(try json(["get", db, "docs", "--ids", "1", "--output-fields", "sparse"]) == [["id": 1, "sparse": ["3": 0.5, "17": 2.0]]])
        let hits = try json(["search", db, "docs", "--vector", #"{"3": 2, "17": 1}"#, "--limit", "5"])
        let list = try #require(hits.arrayValue?.first?.arrayValue)
        // Row 1: 0.5·2 + 2·1 = 3; row 2: 1.5·2 = 3 (tie: stored first wins); row 3 shares no index.
        #expect(list.map { $0.objectValue!["id"]! } == [1, 2])
        #expect(list.map { $0.objectValue!["distance"]!.doubleValue! } == [3, 3])
        let negative = base + "/negative.jsonl"
        try #"{"id": 9, "sparse": {"3": -1}}"#.write(toFile: negative, atomically: true, encoding: .utf8)
        let refused = try QuiverExecutable.run(["insert", db, "docs", "--file", negative])
        #expect(refused.status != 0 && refused.stderr.contains("must not be negative"))
    }
}
