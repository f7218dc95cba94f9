import Foundation
import Quiver
import QuiverTestSupport
import Testing

/// `quiver analyze`: the standard analyzer, given parameters, and a field's analyzer.
@Suite struct AnalyzeCLITests {
    func json(_ args: [String]) throws -> Value {
        let r = try QuiverExecutable.run(args)
        #expect(r.status == 0, "quiver \(args.joined(separator: " ")): \(r.stderr)")
        return try Value(json: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func analyzesWithParamsAndFields() throws {
        #expect(try json(["analyze", "Hello, World!", "It's 3.14"]) == [["hello", "world"], ["it's", "3.14"]])
        #expect(try json(["analyze", "--params", #"{"type": "english"}"#, "The runners ran"]) == [["runner", "ran"]])
        #expect(try json(["analyze", "--detail", "--params", #"{"tokenizer": "whitespace"}"#, "a  B"])
            == [[["token": "a", "position": 0, "start_offset": 0, "end_offset": 1],
                 ["token": "B", "position": 1, "start_offset": 3, "end_offset": 4]]])

        let base = FileManager.default.temporaryDirectory.path + "/quiver-analyze-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let schema = base + "/schema.json"
        try #"""
        {"fields": [{"name": "id", "type": "int64", "is_primary": true}, {"name": "vector", "type": "float_vector", "dim": 2},
          {"name": "text", "type": "varchar", "max_length": 100, "enable_analyzer": true, "analyzer_params": {"type": "english"}}]}
        """#.write(toFile: schema, atomically: true, encoding: .utf8)
        _ = try json(["create", base + "/db", "docs", "--schema", schema])
        #expect(try json(["analyze", "--db", base + "/db", "--collection", "docs", "--field", "text", "Indexes are rebuilt"])
            == [["index", "rebuilt"]])

        let bad = try QuiverExecutable.run(["analyze", "--params", #"{"type": "klingon"}"#, "x"])
        #expect(bad.status != 0 && bad.stderr.contains("klingon"))
        let partial = try QuiverExecutable.run(["analyze", "--db", base + "/db", "x"])
        #expect(partial.status != 0 && partial.stderr.contains("go together"))
    }
}
