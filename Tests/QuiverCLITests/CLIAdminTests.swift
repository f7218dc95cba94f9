import Foundation
import Testing
import Quiver
import QuiverTestSupport

/// The administration verbs (`index …`, `rename`, `drop`, `load`, `release`) and `search`'s
/// `--range`, `--group-by` and `--params` (issue 19), on a database path and on `quiver serve`.
@Suite struct CLIAdminTests {
    static let hasQuiver = QuiverExecutable.path != nil

    func json(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Value {
        let r = try QuiverExecutable.run(args)
        #expect(r.status == 0, "quiver \(args.joined(separator: " ")): \(r.stderr)", sourceLocation: sourceLocation)
        return try Value(json: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Expects `quiver args` to fail with `text` in its standard error.
    func fails(_ args: [String], with text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try QuiverExecutable.run(args)
        #expect(r.status != 0, "quiver \(args.joined(separator: " ")) succeeded: \(r.stdout)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(text), "quiver \(args.joined(separator: " ")): \(r.stderr)", sourceLocation: sourceLocation)
    }

    static func temporaryDirectory() throws -> String {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-cli-admin-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        return base
    }

    /// Rows 0..<12: vector [i, 0, 0, 1] (L2 distance to [0, 0, 0, 1] is i²), `cat` = i % 3.
    static func writeRows(_ base: String) throws -> String {
        let path = base + "/rows.jsonl"
        try (0..<12).map { #"{"id": \#($0), "vector": [\#($0), 0, 0, 1], "cat": \#($0 % 3)}"# }.joined(separator: "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A schema file: `id`, a 4-d `vector`, an int64 `cat` (group-by needs a schema field).
    static func writeSchema(_ base: String) throws -> String {
        let path = base + "/schema.json"
        try #"""
        {"fields": [{"name": "id", "type": "int64", "is_primary": true}, {"name": "vector", "type": "float_vector", "dim": 4},
                    {"name": "cat", "type": "int64"}]}
        """#.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The same transcript on a path and a URL: each verb's output, in order.
    func transcript(_ db: String, rows: String, schema: String) throws -> [Value] {
        let query = ["--vector", "[0, 0, 0, 1]"]
        var out = [Value]()
        out.append(try json(["create", db, "items", "--schema", schema, "--metric", "l2"]))
        out.append(try json(["insert", db, "items", "--file", rows]))
        out.append(try json(["flush", db, "items"]))
        let created = try json(["index", "create", db, "items", "--type", "HNSW", "--params", #"{"M": 8, "efConstruction": 64}"#])
        out.append(created)
        out.append(try json(["index", "list", db, "items"]))
        out.append(try json(["index", "describe", db, "items", "vector"]))
        // Search parameters reach the index; range and grouping shape the hits.
        out.append(try json(["search", db, "items"] + query + ["--limit", "3", "--params", #"{"ef": 32}"#]))
        out.append(try json(["search", db, "items"] + query + ["--limit", "10", "--range", "10"]))
        out.append(try json(["search", db, "items"] + query + ["--limit", "10", "--range", "30,3"]))
        out.append(try json(["search", db, "items"] + query + ["--limit", "3", "--group-by", "cat", "--output-fields", "cat"]))
        out.append(try json(["search", db, "items"] + query + ["--limit", "2", "--group-by", "cat", "--group-size", "2", "--output-fields", "cat"]))
        out.append(try json(["index", "drop", db, "items", "vector"]))
        out.append(try json(["index", "list", db, "items"]))
        out.append(try json(["load", db, "items"]))
        out.append(try json(["release", db, "items"]))
        out.append(try json(["load", db, "items"]))
        out.append(try json(["rename", db, "items", "things"]))
        out.append(try json(["list", db]))
        out.append(try json(["query", db, "things", "--output-fields", "count(*)"]))
        out.append(try json(["drop", db, "things"]))
        out.append(try json(["list", db]))
        return out
    }

    @Test(.enabled(if: hasQuiver, "needs the built quiver"))
    func adminVerbsGiveTheSameOutputOnAPathAndAURL() throws {
        let base = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let rows = try Self.writeRows(base)
        let schema = try Self.writeSchema(base)
        let local = try transcript(base + "/local.quiver", rows: rows, schema: schema)

        // What each step printed on the path, checked against what the rows make true.
        let index = try #require(local[3].objectValue)
        #expect(index["index_type"] == "HNSW" && index["metric_type"] == "L2" && index["state"] == "Finished", "\(index)")
        #expect(index["params"] == ["M": 8, "efConstruction": 64])
        #expect(index["indexed_rows"] == 12)
        #expect(local[4] == ["vector"])
        #expect(local[5] == local[3])
        func ids(_ v: Value) -> [Value] { v.arrayValue?.first?.arrayValue?.compactMap { $0.objectValue?["id"] } ?? [] }
        #expect(ids(local[6]) == [0, 1, 2])
        #expect(ids(local[7]) == [0, 1, 2, 3], "radius 10: distances 0, 1, 4, 9")
        #expect(ids(local[8]) == [2, 3, 4, 5], "range_filter 3 < distance < 30: 4, 9, 16, 25")
        #expect(ids(local[9]) == [0, 1, 2], "the best of each cat")
        #expect(Set(ids(local[10]).compactMap(\.intValue)) == [0, 3, 1, 4], "two groups of two: cat 0 (0, 3) and cat 1 (1, 4)")
        #expect(local[11] == ["field": "vector", "dropped": true])
        #expect(local[12] == [])
        #expect(local[13] == ["collection": "items", "load_state": "Loaded"])
        #expect(local[14] == ["collection": "items", "load_state": "NotLoad"])
        #expect(local[16] == ["collection": "things", "renamed_from": "items"])
        #expect(local[17] == ["things"])
        #expect(local[18] == [["count(*)": 12]])
        #expect(local[19] == ["collection": "things", "dropped": true])
        #expect(local[20] == [])

        let server = try ServerProcess.quiver()
        defer { server.stop() }
        let remote = try transcript(server.uri, rows: rows, schema: schema)
        #expect(local.count == remote.count)
        for (step, (l, r)) in zip(local, remote).enumerated() {
            #expect(l == r, "step \(step): path \(l.jsonString), URL \(r.jsonString)")
        }
    }

    /// On a server a release lasts until `load`: reads fail with `notLoaded`, writes go on. On a
    /// path each command opens the database anew, and the first use loads the collection.
    @Test(.enabled(if: hasQuiver, "needs the built quiver"))
    func releaseOnAServerRefusesReadsUntilLoad() throws {
        let base = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let rows = try Self.writeRows(base)
        let server = try ServerProcess.quiver()
        defer { server.stop() }
        _ = try json(["create", server.uri, "items", "--dimension", "4", "--metric", "l2"])
        _ = try json(["insert", server.uri, "items", "--file", rows])
        #expect(try json(["release", server.uri, "items"]) == ["collection": "items", "load_state": "NotLoad"])
        try fails(["search", server.uri, "items", "--vector", "[0, 0, 0, 1]"], with: "notLoaded")
        try fails(["get", server.uri, "items", "--ids", "1"], with: "notLoaded")
        #expect(try json(["delete", server.uri, "items", "--ids", "1"]) == ["delete_count": 1])
        #expect(try json(["load", server.uri, "items"]) == ["collection": "items", "load_state": "Loaded"])
        #expect(try json(["query", server.uri, "items", "--output-fields", "count(*)"]) == [["count(*)": 11]])

        let path = base + "/db"
        _ = try json(["create", path, "items", "--dimension", "4"])
        _ = try json(["release", path, "items"])
        #expect(try json(["query", path, "items", "--output-fields", "count(*)"]) == [["count(*)": 0]])
    }

    @Test(.enabled(if: hasQuiver, "needs the built quiver"))
    func badArgumentsAndUnknownNamesAreErrors() throws {
        let base = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let db = base + "/db"
        _ = try json(["create", db, "items", "--dimension", "4", "--metric", "l2"])
        _ = try json(["create", db, "other", "--dimension", "4"])
        let search = ["search", db, "items", "--vector", "[0, 0, 0, 1]"]
        try fails(search + ["--range", "x"], with: "--range")
        try fails(search + ["--range", "1,2,3"], with: "--range")
        try fails(search + ["--range", "1,5"], with: "range_filter")  // L2 needs range_filter < radius
        try fails(search + ["--params", "[1]"], with: "--params must be a JSON object")
        try fails(search + ["--group-size", "2"], with: "--group-size needs --group-by")
        try fails(search + ["--group-by", "nope"], with: "nope")
        try fails(["index", "create", db, "items", "--type", "BTREE9"], with: "BTREE9")
        try fails(["index", "create", db, "items", "--type", "HNSW", "--params", "3"], with: "--params must be a JSON object")
        try fails(["index", "describe", db, "items", "vector"], with: "notFound")
        try fails(["index", "drop", db, "items", "vector"], with: "notFound")
        try fails(["index", "list", db, "nope"], with: "notFound")
        try fails(["load", db, "nope"], with: "notFound")
        try fails(["release", db, "nope"], with: "notFound")
        try fails(["drop", db, "nope"], with: "notFound")
        try fails(["rename", db, "nope", "x"], with: "notFound")
        try fails(["rename", db, "items", "other"], with: "alreadyExists")
        _ = try json(["alias", "create", db, "items", "live"])
        try fails(["drop", db, "items"], with: "alias")
        #expect(try json(["list", db]) == ["items", "other"])
    }
}
