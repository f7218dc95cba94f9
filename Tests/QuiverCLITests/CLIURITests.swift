import Foundation
import Testing
import Quiver
import QuiverTestSupport

/// The verbs that take a database path take a server's URL too (issue 15): the same commands
/// against a path and against `quiver serve` print the same JSON.
@Suite struct CLIURITests {
    static let hasQuiver = QuiverExecutable.path != nil

    func json(_ args: [String]) throws -> Value {
        let r = try QuiverExecutable.run(args)
        #expect(r.status == 0, "quiver \(args.joined(separator: " ")): \(r.stderr)")
        return try Value(json: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test(.enabled(if: hasQuiver, "needs the built quiver"))
    func theSameVerbsGiveTheSameOutputOnAPathAndAURL() throws {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-cli-uri-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let rows = base + "/rows.jsonl"
        try """
        {"id": 1, "vector": [0.1, 0.2, 0.3, 0.4], "text": "hello", "lang": "en"}
        {"id": 2, "vector": [0.4, 0.3, 0.2, 0.1], "text": "bonjour", "lang": "fr"}
        {"id": 3, "vector": [0.2, 0.2, 0.2, 0.2], "text": "hallo", "lang": "de"}
        """.write(toFile: rows, atomically: true, encoding: .utf8)
        let server = try ServerProcess.quiver()
        defer { server.stop() }

        func transcript(_ db: String) throws -> [Value] {
            [
                try json(["create", db, "items", "--dimension", "4", "--metric", "l2"]),
                try json(["insert", db, "items", "--file", rows]),
                try json(["search", db, "items", "--vector", "[0.1, 0.2, 0.3, 0.5]", "--limit", "2", "--output-fields", "text"]),
                try json(["search", db, "items", "--vector", "[0.1, 0.2, 0.3, 0.5]", "--filter", "lang != 'en'", "--output-fields", "lang"]),
                try json(["query", db, "items", "--output-fields", "count(*)"]),
                try json(["get", db, "items", "--ids", "2,3", "--output-fields", "text"]),
                try json(["delete", db, "items", "--ids", "1"]),
                try json(["query", db, "items", "--filter", "id > 0", "--output-fields", "lang"]),
                try json(["list", db]),
                try json(["alias", "create", db, "items", "live"]),
                try json(["alias", "list", db, "items"]),
                try json(["alias", "describe", db, "live"]),
                try json(["query", db, "live", "--filter", "id > 0", "--output-fields", "lang"]),
                try json(["alias", "drop", db, "live"]),
                try json(["alias", "list", db]),
            ]
        }
        let local = try transcript(base + "/local.quiver")
        let remote = try transcript(server.uri)
        #expect(local.count == remote.count)
        for (step, (l, r)) in zip(local, remote).enumerated() {
            #expect(l == r, "step \(step): path \(l.jsonString), URL \(r.jsonString)")
        }
        // A verb the protocol has no call for is refused by name, not run on something else.
        let compact = try QuiverExecutable.run(["compact", server.uri, "items"])
        #expect(compact.status != 0)
        #expect(compact.stderr.contains("unsupported"))
        // Another scheme is refused rather than taken for a directory.
        let other = try QuiverExecutable.run(["list", "grpc://127.0.0.1:1"])
        #expect(other.status != 0)
        #expect(other.stderr.contains("invalidArgument"))
    }

    /// `--token`, `--user/--password`, `--db-name` and `--timeout` reach the server through
    /// `connect`'s options on every verb (one option group); with a path they are refused.
    @Test(.enabled(if: hasQuiver, "needs the built quiver"))
    func credentialsAndOptionsReachTheServerAndAreRefusedWithAPath() throws {
        let server = try ServerProcess.quiver(token: "root:secret")
        defer { server.stop() }
        let url = server.uri
        func fails(_ args: [String], with code: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try QuiverExecutable.run(args)
            #expect(r.status != 0, "quiver \(args.joined(separator: " ")) succeeded", sourceLocation: sourceLocation)
            #expect(r.stderr.contains(code), "quiver \(args.joined(separator: " ")): \(r.stderr)", sourceLocation: sourceLocation)
        }
        // No token, a wrong one, a wrong password: the server refuses, the CLI says so.
        try fails(["list", url], with: "permissionDenied")
        try fails(["list", url, "--token", "root:wrong"], with: "permissionDenied")
        try fails(["list", url, "--user", "root", "--password", "wrong"], with: "permissionDenied")
        // The right token works on a collection verb, and user/password are the same credential.
        #expect(try json(["create", url, "items", "--dimension", "2", "--token", "root:secret", "--timeout", "30"])
            == ["collection": "items", "created": true])
        #expect(try json(["list", url, "--user", "root", "--password", "secret"]) == ["items"])
        #expect(try json(["list", url, "--token", "root:secret", "--db-name", "default"]) == ["items"])
        // quiver serve has only the default database: another name is the server's "not found".
        try fails(["list", url, "--token", "root:secret", "--db-name", "other"], with: "notFound")
        // The RAG verbs take the same options (their HTTP deadline is --http-timeout).
        try fails(["retrieve", url, "question", "--collection", "missing", "--timeout", "30"], with: "permissionDenied")

        // With a path, every server option is an error naming it, and nothing is created.
        let path = FileManager.default.temporaryDirectory.path + "/quiver-cli-uri-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (flag, name) in [(["--token", "t"], "token"), (["--user", "u", "--password", "p"], "user"),
                             (["--db-name", "d"], "databaseName"), (["--timeout", "5"], "timeout")] {
            try fails(["list", path] + flag, with: "invalidArgument")
            try fails(["list", path] + flag, with: name)
        }
        try fails(["search", path, "items", "--vector", "[1, 0]", "--token", "t"], with: "invalidArgument")
        #expect(!FileManager.default.fileExists(atPath: path))
        // Bad values are refused before anything is opened.
        try fails(["list", url, "--timeout", "0"], with: "--timeout")
        try fails(["list", url, "--user", "root"], with: "--password")
    }
}
