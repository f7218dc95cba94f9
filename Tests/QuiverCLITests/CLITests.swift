import Foundation
import Testing
import Quiver
import QuiverTestSupport

/// Runs the built `quiver` executable the way a user would.
@Suite struct CLITests {
    func run(_ args: [String]) throws -> QuiverExecutable.Output {
        try QuiverExecutable.run(args)
    }

    func json(_ args: [String]) throws -> Value {
        let r = try run(args)
        #expect(r.status == 0, "quiver \(args.joined(separator: " ")): \(r.stderr)")
        return try Value(json: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func walkThroughEveryVerb() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let db = base + "/db"
        let schema = base + "/schema.json"
        try #"""
        {"enable_dynamic_field": true, "fields": [
          {"name": "id", "type": "int64", "is_primary": true, "auto_id": false},
          {"name": "vector", "type": "float_vector", "dim": 2},
          {"name": "price", "type": "int64", "nullable": true}, {"name": "title", "type": "varchar", "max_length": 64},
          {"name": "tags", "type": "array", "element_type": "int64", "max_capacity": 10}, {"name": "meta", "type": "json"}]}
        """#.write(toFile: schema, atomically: true, encoding: .utf8)
        _ = try json(["create", db, "items", "--schema", schema, "--metric", "l2"])
        let rows = base + "/rows.jsonl"
        try """
        {"id": 1, "vector": [0, 0], "price": 10, "title": "a", "tags": [1], "meta": {"k": 1}, "extra": "x"}
        {"id": 2, "vector": [1, 0], "title": "b", "tags": [], "meta": {}}
        {"id": 3, "vector": [5, 5], "price": 30, "title": "c", "tags": [2, 3], "meta": [1, 2]}
        """.write(toFile: rows, atomically: true, encoding: .utf8)
        #expect(try json(["insert", db, "items", "--file", rows]) == ["insert_count": 3, "ids": [1, 2, 3]])
        // A duplicate key fails with a message on stderr and a non-zero status.
        let dup = try run(["insert", db, "items", "--file", rows])
        #expect(dup.status != 0)
        #expect(dup.stderr.contains("already exists"))
        let hits = try json(["search", db, "items", "--vector", "[0.9, 0.1]", "--limit", "2", "--output-fields", "title,extra"])
        let list = try #require(hits.arrayValue?.first?.arrayValue)
        #expect(list.map { $0.objectValue!["id"]! } == [2, 1])
        #expect(list.map { $0.objectValue!["entity"]! } == [["title": "b"], ["title": "a", "extra": "x"]])
        let distances = list.map { $0.objectValue!["distance"]!.doubleValue! }
        #expect(abs(distances[0] - 0.02) < 1e-6 && abs(distances[1] - 0.82) < 1e-6)
        #expect(try json(["get", db, "items", "--ids", "3,1", "--output-fields", "price"]) == [["id": 3, "price": 30], ["id": 1, "price": 10]])
        #expect(try json(["query", db, "items", "--output-fields", "count(*)"]) == [["count(*)": 3]])
        // Filters and templates on query, search and delete.
        #expect(try json(["query", db, "items", "--filter", "price >= 10 and title in ['a', 'c']", "--output-fields", "title"])
            == [["id": 1, "title": "a"], ["id": 3, "title": "c"]])
        #expect(try json(["query", db, "items", "--filter", "price > {p}", "--filter-params", #"{"p": 15}"#, "--output-fields", "count(*)"])
            == [["count(*)": 1]])
        let filtered = try json(["search", db, "items", "--vector", "[0, 0]", "--limit", "5", "--filter", "array_contains(tags, 3) or extra == 'x'"])
        #expect(filtered.arrayValue?.first?.arrayValue?.map { $0.objectValue!["id"]! } == [1, 3])
        let badFilter = try run(["query", db, "items", "--filter", "price >", "--limit", "1"])
        #expect(badFilter.status != 0)
        #expect(badFilter.stderr.contains("price >"))
        #expect(try json(["delete", db, "items", "--filter", "meta['k'] == 1"]) == ["delete_count": 1])
        #expect(try json(["get", db, "items", "--ids", "1"]) == [])
        let readd = base + "/readd.jsonl"
        try #"{"id": 1, "vector": [0, 0], "price": 10, "title": "a", "tags": [1], "meta": {"k": 1}, "extra": "x"}"#
            .write(toFile: readd, atomically: true, encoding: .utf8)
        _ = try json(["insert", db, "items", "--file", readd])
        #expect(try json(["delete", db, "items", "--ids", "2,9"]) == ["delete_count": 1])
        #expect(try json(["flush", db, "items"]) == ["flushed": true])
        let upserts = base + "/up.jsonl"
        try #"{"id": 1, "vector": [2, 2], "title": "z", "tags": [], "meta": {}}"#.write(toFile: upserts, atomically: true, encoding: .utf8)
        #expect(try json(["upsert", db, "items", "--file", upserts]) == ["upsert_count": 1])
        #expect(try json(["query", db, "items", "--limit", "10", "--output-fields", "title"]) == [["id": 3, "title": "c"], ["id": 1, "title": "z"]])
        let stats = try json(["stats", db, "items"]).objectValue
        #expect(stats?["row_count"] == 2)
        #expect(stats?["growing_row_count"] == 0)  // every command closes, and close flushes
        #expect(try json(["compact", db, "items"]) == ["compacted": true])
        #expect(try json(["stats", db, "items"]).objectValue?["segment_count"] == 1)
        #expect(try json(["list", db]) == ["items"])
        let described = try json(["describe", db, "items"])
        #expect(described.objectValue?["metric"] == "L2")
        let quick = try json(["create", db, "quick", "--dimension", "3", "--id-type", "varchar", "--metric", "ip"])
        #expect(quick == ["collection": "quick", "created": true])
        let bad = try run(["search", db, "items", "--vector", "[1, 2, 3]", "--limit", "1"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("dimension"))
    }

    /// `quiver alias …`: the blue/green switch through the CLI, every data verb through an alias,
    /// and bad input (a non-zero status, the error's code on stderr, nothing changed).
    @Test func aliasVerbs() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let db = base + "/db"
        for (name, first) in [("blue", 0), ("green", 10)] {
            _ = try json(["create", db, name, "--dimension", "2", "--metric", "l2"])
            let rows = base + "/\(name).jsonl"
            try (first..<first + 3).map { #"{"id": \#($0), "vector": [\#($0), 0]}"# }.joined(separator: "\n")
                .write(toFile: rows, atomically: true, encoding: .utf8)
            _ = try json(["insert", db, name, "--file", rows])
        }
        func searched() throws -> [Value] {
            try json(["search", db, "live", "--vector", "[0, 0]", "--limit", "10"]).arrayValue?.first?.arrayValue?
                .compactMap { $0.objectValue?["id"] } ?? []
        }
        #expect(try json(["alias", "create", db, "blue", "live"]) == ["alias": "live", "collection": "blue"])
        #expect(try searched() == [0, 1, 2])
        #expect(try json(["alias", "alter", db, "green", "live"]) == ["alias": "live", "collection": "green"])
        #expect(try searched() == [10, 11, 12])
        #expect(try json(["alias", "describe", db, "live"]) == ["alias": "live", "collection": "green"])
        #expect(try json(["alias", "create", db, "live", "current"]) == ["alias": "current", "collection": "green"])
        #expect(try json(["alias", "list", db, "green"]) == ["current", "live"])
        #expect(try json(["alias", "list", db, "blue"]) == [])
        #expect(try json(["alias", "list", db]) == ["current", "live"])
        let described = try json(["describe", db, "live"]).objectValue
        #expect(described?["collection"] == "green")
        #expect(described?["aliases"] == ["current", "live"])
        #expect(try json(["list", db]) == ["blue", "green"])
        // The data verbs through an alias.
        #expect(try json(["get", db, "live", "--ids", "11"]) == [["id": 11]])
        #expect(try json(["delete", db, "live", "--ids", "11"]) == ["delete_count": 1])
        #expect(try json(["query", db, "live", "--output-fields", "count(*)"]) == [["count(*)": 2]])
        #expect(try json(["stats", db, "live"]).objectValue?["row_count"] == 2)
        #expect(try json(["flush", db, "live"]) == ["flushed": true])

        // Bad input.
        for (args, code) in [
            (["alias", "create", db, "blue", "live"], "alreadyExists"),     // the alias exists
            (["alias", "create", db, "blue", "green"], "alreadyExists"),    // a collection's name
            (["alias", "create", db, "missing", "x"], "notFound"),
            (["alias", "alter", db, "blue", "nope"], "notFound"),
            (["alias", "drop", db, "nope"], "notFound"),
            (["alias", "describe", db, "nope"], "notFound"),
            (["alias", "create", db, "blue", "1bad"], "invalidArgument"),
            (["create", db, "live", "--dimension", "2"], "alreadyExists"),
        ] {
            let r = try run(args)
            #expect(r.status != 0 && r.stderr.contains(code), "\(args): \(r.status) \(r.stderr)")
        }
        #expect(try json(["alias", "list", db]) == ["current", "live"])
        #expect(try json(["alias", "describe", db, "live"]) == ["alias": "live", "collection": "green"])

        #expect(try json(["alias", "drop", db, "current"]) == ["alias": "current", "dropped": true])
        #expect(try json(["alias", "list", db]) == ["live"])
    }

    /// `quiver partition …`: create, has, list, drop; `--partition` on insert, upsert, get,
    /// query, search and delete; a drop that survives reopening; bad input (a non-zero status,
    /// the error's code on stderr, nothing changed).
    @Test func partitionVerbs() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let db = base + "/db"
        _ = try json(["create", db, "c", "--dimension", "2", "--metric", "l2"])
        #expect(try json(["partition", "list", db, "c"]) == ["_default"])
        #expect(try json(["partition", "create", db, "c", "a"]) == ["partition": "a", "created": true])
        #expect(try json(["partition", "has", db, "c", "a"]) == ["partition": "a", "exists": true])
        #expect(try json(["partition", "has", db, "c", "z"]) == ["partition": "z", "exists": false])
        #expect(try json(["partition", "list", db, "c"]) == ["_default", "a"])
        func rows(_ name: String, _ ids: Range<Int>) throws -> String {
            let path = base + "/\(name).jsonl"
            try ids.map { #"{"id": \#($0), "vector": [\#($0), 0]}"# }.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        _ = try json(["insert", db, "c", "--file", rows("d", 0..<3)])
        #expect(try json(["insert", db, "c", "--file", rows("a", 10..<13), "--partition", "a"]).objectValue?["insert_count"] == 3)
        #expect(try json(["upsert", db, "c", "--file", rows("u", 2..<3), "--partition", "a"]) == ["upsert_count": 1])
        /// The ids of the rows a verb prints, sorted (a query returns storage order).
        func ids(_ args: [String]) throws -> [Value] {
            (try json(args).arrayValue?.compactMap { $0.objectValue?["id"]?.intValue } ?? []).sorted().map { .int($0) }
        }
        #expect(try ids(["query", db, "c", "--filter", "id >= 0", "--partition", "a"]) == [2, 10, 11, 12])
        #expect(try ids(["query", db, "c", "--filter", "id >= 0", "--partition", "_default"]) == [0, 1])
        #expect(try json(["query", db, "c", "--output-fields", "count(*)", "--partition", "a", "--partition", "_default"]) == [["count(*)": 6]])
        #expect(try ids(["get", db, "c", "--ids", "0,10", "--partition", "a"]) == [10])
        let hits = try json(["search", db, "c", "--vector", "[0, 0]", "--limit", "2", "--partition", "a"])
        #expect(hits.arrayValue?.first?.arrayValue?.compactMap { $0.objectValue?["id"] } == [2, 10])
        #expect(try json(["delete", db, "c", "--ids", "0,10", "--partition", "a"]) == ["delete_count": 1])
        #expect(try json(["partition", "drop", db, "c", "a"]) == ["partition": "a", "dropped": true])
        #expect(try json(["partition", "list", db, "c"]) == ["_default"])
        #expect(try ids(["query", db, "c", "--filter", "id >= 0"]) == [0, 1])

        // Bad input.
        for (args, code) in [
            (["partition", "drop", db, "c", "_default"], "invalidArgument"),
            (["partition", "drop", db, "c", "a"], "notFound"),
            (["partition", "create", db, "c", "_default"], "alreadyExists"),
            (["partition", "create", db, "c", "1bad"], "invalidArgument"),
            (["partition", "list", db, "missing"], "notFound"),
            (["insert", db, "c", "--file", try rows("z", 20..<21), "--partition", "z"], "notFound"),
            (["search", db, "c", "--vector", "[0, 0]", "--partition", "z"], "notFound"),
            (["query", db, "c", "--filter", "id >= 0", "--partition", "z"], "notFound"),
        ] {
            let r = try run(args)
            #expect(r.status != 0 && r.stderr.contains(code), "\(args): \(r.status) \(r.stderr)")
        }
        #expect(try json(["partition", "list", db, "c"]) == ["_default"])
        #expect(try ids(["query", db, "c", "--filter", "id >= 0"]) == [0, 1])
    }

    /// Values at the edge of Int64 fail with a message and leave the database usable. Before the
    /// fix the upsert trapped after logging its record, so every later open trapped too, and the
    /// query's `limit + offset` trapped.
    @Test func overflowingValuesAreRefused() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let db = base + "/db"
        _ = try json(["create", db, "a", "--dimension", "2", "--auto-id"])
        let rows = base + "/rows.jsonl"
        try #"{"id": 9223372036854775807, "vector": [1, 2]}"#.write(toFile: rows, atomically: true, encoding: .utf8)
        let upsert = try run(["upsert", db, "a", "--file", rows])
        #expect(upsert.status != 0 && upsert.stderr.contains("too large"), "\(upsert.status): \(upsert.stderr)")
        let query = try run(["query", db, "a", "--limit", "1", "--offset", "9223372036854775807"])
        #expect(query.status != 0 && query.stderr.contains("offset"), "\(query.status): \(query.stderr)")
        #expect(try json(["query", db, "a", "--output-fields", "count(*)"]) == [["count(*)": 0]])
    }
}
