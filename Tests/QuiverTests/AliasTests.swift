import Foundation
import Synchronization
import Testing
@testable import Quiver

/// Aliases through the public API: create, alter, drop, list, describe; every call that takes a
/// collection name, through an alias; the blue/green switch; reopen, crash and a failed catalog
/// write; and bad input, each a typed error with nothing changed (in memory and on disk).
@Suite struct AliasTests {
    /// A database with collections "blue" (ids 0..<10, `v` = 1) and "green" (ids 100..<105,
    /// `v` = 2), 2-d L2 vectors `[id, 0]`.
    static func blueGreen(_ dir: TemporaryDirectory, options: DatabaseOptions = quietOptions()) throws -> Database {
        let db = try Database.open(at: dir.path, options: options)
        for (name, ids, tag) in [("blue", 0..<10, 1), ("green", 100..<105, 2)] {
            try db.createCollection(name, schema: schema, metric: .l2)
            _ = try db.insert(name, rows: ids.map { row(Int64($0), tag: Int64(tag)) })
        }
        return db
    }

    static let schema = try! CollectionSchema(fields: [
        FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
        FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)),
        FieldSchema(name: "v", dataType: .int64),
    ])

    static func row(_ id: Int64, tag: Int64) -> Row {
        ["id": .int(id), "vector": .vector([Float(id), 0]), "v": .int(tag)]
    }

    /// The primary keys of every row of `name` (a collection or an alias).
    static func ids(_ db: Database, _ name: String) throws -> Set<Int64> {
        Set(try db.query(name, limit: 16_384).compactMap { $0["id"]?.intValue })
    }

    /// What the catalog says about aliases, as the public API reports it.
    static func aliasState(_ db: Database) throws -> [String: String] {
        var out = [String: String]()
        for alias in try db.listAliases() { out[alias] = try db.describeAlias(alias) }
        return out
    }

    /// `body` throws a `QuiverError` with `code` whose message contains `mentioning`.
    static func expectError(
        _ code: QuiverError.Code, mentioning: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) {
        #expect(sourceLocation: sourceLocation) { try body() } throws: { error in
            guard let e = error as? QuiverError else { return false }
            return e.code == code && e.message.contains(mentioning)
        }
    }

    @Test func createDescribeListAlterDrop() throws {
        let dir = TemporaryDirectory()
        let db = try Self.blueGreen(dir)
        defer { try? db.close() }
        #expect(try db.listAliases().isEmpty)
        try db.createAlias("blue", alias: "live")
        try db.createAlias("live", alias: "previous")  // through an alias: names blue too
        try db.createAlias("green", alias: "staging")
        #expect(try db.describeAlias("live") == "blue")
        #expect(try db.describeAlias("previous") == "blue")
        #expect(try db.listAliases("blue") == ["live", "previous"])
        #expect(try db.listAliases("live") == ["live", "previous"])
        #expect(try db.listAliases("green") == ["staging"])
        #expect(try db.listAliases() == ["live", "previous", "staging"])
        // Aliases are not collections, but name them.
        #expect(try db.listCollections() == ["blue", "green"])
        #expect(db.hasCollection("live"))
        #expect(try db.loadState("live") == .loaded)
        let description = try db.describeCollection("live")
        #expect(description.name == "blue")
        #expect(description.aliases == ["live", "previous"])
        #expect(try db.describeCollection("green").aliases == ["staging"])

        try db.alterAlias("green", alias: "live")
        #expect(try db.describeAlias("live") == "green")
        #expect(try db.listAliases("blue") == ["previous"])
        #expect(try db.listAliases("green") == ["live", "staging"])
        try db.alterAlias("previous", alias: "staging")  // the target given by an alias
        #expect(try db.describeAlias("staging") == "blue")

        try db.dropAlias("previous")
        try db.dropAlias("staging")
        #expect(try db.listAliases("blue").isEmpty)
        #expect(try db.listAliases() == ["live"])
        #expect(!db.hasCollection("previous"))
        #expect(try db.loadState("previous") == .notExist)
        // The name is free again: for a collection or an alias.
        try db.createCollection("previous", dimension: 2)
        #expect(try db.listCollections() == ["blue", "green", "previous"])
    }

    /// Each call that takes a collection name gives, through an alias, what it gives through the
    /// collection's name (the rows are checked against the name's answers, and against the model).
    @Test func everyCallThroughAnAlias() throws {
        let dir = TemporaryDirectory()
        let db = try Self.blueGreen(dir, options: manualCompactionOptions())
        defer { try? db.close() }
        try db.createAlias("blue", alias: "a")

        #expect(try db.insert("a", rows: [Self.row(10, tag: 3), Self.row(11, tag: 3)]).ids == [10, 11])
        #expect(try db.upsert("a", rows: [Self.row(0, tag: 4)]).upsertCount == 1)
        #expect(try db.delete("a", ids: [1]).deleteCount == 1)
        #expect(try db.delete("a", filter: "id == 2").deleteCount == 1)
        let expected: Set<Int64> = Set(0..<12).subtracting([1, 2])
        #expect(try Self.ids(db, "a") == expected)
        #expect(try Self.ids(db, "blue") == expected)
        #expect(try Self.ids(db, "green") == Set(100..<105))
        #expect(try db.get("a", ids: [0, 10], outputFields: ["v"]) == db.get("blue", ids: [0, 10], outputFields: ["v"]))
        #expect(try db.get("a", ids: [0], outputFields: ["v"]).first?["v"] == .int(4))
        #expect(try db.query("a", filter: "v == 3", outputFields: ["count(*)"]) == [["count(*)": .int(2)]])
        #expect(try db.collectionStats("a").rowCount == expected.count)
        let hits = try db.search("a", vectors: [[10.2, 0]], limit: 3, outputFields: ["v"])
        #expect(hits[0].map(\.id) == [10, 11, 9])
        #expect(try db.search("a", ids: [.int(11)], limit: 2)[0].map(\.id) == [11, 10])
        #expect(hits == (try db.search("blue", vectors: [[10.2, 0]], limit: 3, outputFields: ["v"])))

        try db.flush("a")
        #expect(try db.collectionStats("blue").segmentCount == 1)
        try db.createIndex("a", field: "vector", type: .hnsw)
        try db.waitForIndexBuilds("a")
        #expect(try db.listIndexes("a") == ["vector"])
        #expect(try db.describeIndex("a", field: "vector").type == .hnsw)
        #expect(try db.listIndexes("blue") == ["vector"])
        #expect(try db.listIndexes("green").isEmpty)
        _ = try db.insert("a", rows: [Self.row(12, tag: 5)])
        try db.flush("a")
        #expect(try db.compact("a"))
        #expect(try db.collectionStats("blue").segmentCount == 1)
        try db.dropIndex("a", field: "vector")
        #expect(try db.listIndexes("blue").isEmpty)
        try db.releaseCollection("a")
        #expect(try db.loadState("blue") == .notLoad)
        try db.loadCollection("a")
        #expect(try db.loadState("blue") == .loaded)

        // A handle resolves the alias the same way.
        let handle = try db.collection("a")
        #expect(try handle.get([12], outputFields: ["v"]).first?["v"] == .int(5))
        _ = try handle.insert([Self.row(13, tag: 6)])
        #expect(try Self.ids(db, "blue").contains(13))

        // Renaming through the alias renames the collection; the alias goes with it.
        try db.renameCollection("a", to: "blue2")
        #expect(try db.listCollections() == ["blue2", "green"])
        #expect(try db.describeAlias("a") == "blue2")
        #expect(try Self.ids(db, "a").contains(13))
        // Changing the metric through the alias (no index now).
        try db.changeMetric(of: "a", to: .ip)
        #expect(try db.describeCollection("blue2").metric == .ip)
    }

    /// The `async` API (``VectorDatabase``'s) resolves aliases the same way.
    @Test func asyncCallsThroughAnAlias() async throws {
        let dir = TemporaryDirectory()
        let db = try Self.blueGreen(dir)
        try await db.createAlias("green", alias: "live")
        _ = try await db.insert("live", rows: [Self.row(105, tag: 2)])
        #expect(try await db.search("live", vectors: [[105, 0]], limit: 2)[0].map(\.id) == [105, 104])
        #expect(try await db.query("live", filter: "id >= 104").count == 2)
        #expect(try await db.describeCollection("live").name == "green")
        #expect(try await db.collectionStats("live").rowCount == 6)
        try await db.close()
    }

    /// The blue/green switch: readers searching through the alias see the old collection, then
    /// the new one, each search wholly one or the other, never an error.
    @Test func blueGreenSwitchUnderConcurrentSearches() throws {
        let dir = TemporaryDirectory()
        let db = try Self.blueGreen(dir)
        defer { try? db.close() }
        try db.createAlias("blue", alias: "live")
        let blue = try Self.ids(db, "blue"), green = try Self.ids(db, "green")
        #expect(try Set(db.search("live", vectors: [[0, 0]], limit: 100)[0].compactMap { $0.id.intValue }) == blue)

        let stop = Atomic<Bool>(false)
        let seen = Mutex<(blue: Int, green: Int, bad: [String])>((0, 0, []))
        let reader = Thread {
            while !stop.load(ordering: .relaxed) {
                do {
                    let found = Set(try db.search("live", vectors: [[0, 0]], limit: 100)[0].compactMap { $0.id.intValue })
                    seen.withLock { s in
                        if found == blue { s.blue += 1 } else if found == green { s.green += 1 } else { s.bad.append("\(found.sorted())") }
                    }
                } catch {
                    seen.withLock { $0.bad.append("\(error)") }
                }
            }
        }
        reader.start()
        for i in 0..<40 {
            try db.alterAlias(i % 2 == 0 ? "green" : "blue", alias: "live")
            // After alterAlias returns, every new search reads the collection it names.
            let expected = i % 2 == 0 ? green : blue
            #expect(try Set(db.search("live", vectors: [[0, 0]], limit: 100)[0].compactMap { $0.id.intValue }) == expected)
            Thread.sleep(forTimeInterval: 0.002)
        }
        stop.store(true, ordering: .relaxed)
        while !reader.isFinished { Thread.sleep(forTimeInterval: 0.001) }
        let result = seen.withLock { $0 }
        #expect(result.bad.isEmpty, "searches through the switching alias saw: \(result.bad.prefix(5))")
        #expect(result.blue + result.green > 0)
        #expect(try db.describeAlias("live") == "blue")
    }

    @Test func aliasesSurviveCloseCrashAndRename() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Self.blueGreen(dir)
            try db.createAlias("blue", alias: "live")
            try db.createAlias("green", alias: "next")
            try db.close()
        }
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            #expect(try Self.aliasState(db) == ["live": "blue", "next": "green"])
            #expect(try Self.ids(db, "live") == Set(0..<10))
            // The switch, then a crash (no close, no flush): the catalog switch is already durable.
            try db.alterAlias("green", alias: "live")
            try db.dropAlias("next")
            db.abandonForTesting()
        }
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            #expect(try Self.aliasState(db) == ["live": "green"])
            #expect(try Self.ids(db, "live") == Set(100..<105))
            // Aliases follow their collection through a rename (they are kept by collection id).
            try db.renameCollection("green", to: "green_v2")
            db.abandonForTesting()
        }
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { try? db.close() }
        #expect(try Self.aliasState(db) == ["live": "green_v2"])
        #expect(try db.listAliases("green_v2") == ["live"])
        #expect(try Self.ids(db, "live") == Set(100..<105))
    }

    /// Bad input: each a typed error, naming what is wrong, and nothing changes (checked in
    /// memory after each call, and on disk after a reopen).
    @Test func badInputChangesNothing() throws {
        let dir = TemporaryDirectory()
        let db = try Self.blueGreen(dir)
        try db.createAlias("blue", alias: "live")
        let aliases = try Self.aliasState(db)
        let collections = try db.listCollections()
        func unchanged(sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(try Self.aliasState(db) == aliases, sourceLocation: sourceLocation)
            #expect(try db.listCollections() == collections, sourceLocation: sourceLocation)
            #expect(try Self.ids(db, "blue") == Set(0..<10), sourceLocation: sourceLocation)
        }

        // Unknown alias.
        Self.expectError(.notFound, mentioning: "alias 'nope' does not exist") { _ = try db.describeAlias("nope") }
        Self.expectError(.notFound, mentioning: "alias 'nope' does not exist") { try db.alterAlias("green", alias: "nope") }
        Self.expectError(.notFound, mentioning: "alias 'nope' does not exist") { try db.dropAlias("nope") }
        Self.expectError(.notFound, mentioning: "'nope' does not exist") { _ = try db.search("nope", vectors: [[0, 0]]) }
        Self.expectError(.notFound, mentioning: "'nope' does not exist") { _ = try db.listAliases("nope") }
        try unchanged()
        // An alias with a collection's name, and a collection with an alias's name.
        Self.expectError(.alreadyExists, mentioning: "collection 'green' already exists") { try db.createAlias("blue", alias: "green") }
        Self.expectError(.alreadyExists, mentioning: "'live' is an alias of collection 'blue'") { try db.createCollection("live", dimension: 2) }
        Self.expectError(.alreadyExists, mentioning: "'live' is an alias of collection 'blue'") { try db.renameCollection("green", to: "live") }
        Self.expectError(.invalidArgument, mentioning: "'green' is a collection, not an alias") { try db.alterAlias("blue", alias: "green") }
        Self.expectError(.invalidArgument, mentioning: "'green' is a collection, not an alias") { try db.dropAlias("green") }
        Self.expectError(.invalidArgument, mentioning: "'green' is a collection, not an alias") { _ = try db.describeAlias("green") }
        try unchanged()
        // Creating an alias that exists (even for the same collection): alterAlias moves it.
        Self.expectError(.alreadyExists, mentioning: "alias 'live' already exists (of collection 'blue')") { try db.createAlias("green", alias: "live") }
        Self.expectError(.alreadyExists, mentioning: "alias 'live' already exists") { try db.createAlias("blue", alias: "live") }
        try unchanged()
        // An alias to a missing collection.
        Self.expectError(.notFound, mentioning: "collection 'missing' does not exist") { try db.createAlias("missing", alias: "x") }
        Self.expectError(.notFound, mentioning: "collection 'missing' does not exist") { try db.alterAlias("missing", alias: "live") }
        try unchanged()
        // Bad names.
        Self.expectError(.invalidArgument, mentioning: "alias name '1bad' must start with a letter") { try db.createAlias("blue", alias: "1bad") }
        Self.expectError(.invalidArgument, mentioning: "alias name is empty") { try db.createAlias("blue", alias: "") }
        try unchanged()
        // Dropping a collection an alias names, or through an alias.
        Self.expectError(.invalidArgument, mentioning: "collection 'blue' has aliases [\"live\"]") { try db.dropCollection("blue") }
        Self.expectError(.invalidArgument, mentioning: "'live' is an alias of collection 'blue'") { try db.dropCollection("live") }
        try unchanged()
        try db.close()

        let again = try Database.open(at: dir.path, options: quietOptions())
        #expect(try Self.aliasState(again) == aliases)
        #expect(try again.listCollections() == collections)
        // Once its aliases are gone the collection drops.
        try again.dropAlias("live")
        try again.dropCollection("blue")
        #expect(try again.listCollections() == ["green"])
        try again.close()
    }

    @Test func failedCatalogWriteLeavesAliasesAsTheyWere() throws {
        let dir = TemporaryDirectory()
        let db = try Self.blueGreen(dir)
        try db.createAlias("blue", alias: "live")
        FaultInjector.shared.add(.init(pathPrefix: dir.path + "/CATALOG", operation: .rename, errno: EIO, times: 3))
        defer { FaultInjector.shared.removeAll(under: dir.path) }
        Self.expectError(.io, mentioning: "CATALOG") { try db.alterAlias("green", alias: "live") }
        Self.expectError(.io, mentioning: "CATALOG") { try db.createAlias("green", alias: "next") }
        Self.expectError(.io, mentioning: "CATALOG") { try db.dropAlias("live") }
        #expect(try Self.aliasState(db) == ["live": "blue"])
        #expect(try Self.ids(db, "live") == Set(0..<10))
        try db.alterAlias("green", alias: "live")
        try db.close()
        let again = try Database.open(at: dir.path, options: quietOptions())
        #expect(try Self.aliasState(again) == ["live": "green"])
        try again.close()
    }

    @Test func readOnlyDatabaseResolvesButDoesNotChangeAliases() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Self.blueGreen(dir)
            try db.createAlias("green", alias: "live")
            try db.close()
        }
        var options = quietOptions()
        options.readOnly = true
        let db = try Database.open(at: dir.path, options: options)
        defer { try? db.close() }
        #expect(try Self.ids(db, "live") == Set(100..<105))
        Self.expectError(.unsupported, mentioning: "read-only") { try db.alterAlias("blue", alias: "live") }
        Self.expectError(.unsupported, mentioning: "read-only") { try db.createAlias("blue", alias: "other") }
        #expect(try Self.aliasState(db) == ["live": "green"])
    }

    /// Rewrites the catalog's JSON payload (the envelope of *File formats*).
    static func editCatalog(_ dir: TemporaryDirectory, _ edit: (inout [String: Value]) -> Void) throws {
        let path = dir.path + "/" + FileNames.catalog
        guard case .object(var payload) = try Envelope.unwrap(
            try FileSystem.readFile(path), magic: Catalog.magic, version: Catalog.formatVersion, path: path)
        else { Issue.record("the catalog's payload is not an object"); return }
        edit(&payload)
        try FileSystem.replaceAtomically(path, Envelope.wrap(magic: Catalog.magic, version: Catalog.formatVersion, payload: .object(payload)))
    }

    /// A catalog written before aliases existed has no `aliases` key: it opens, with none.
    @Test func catalogWithoutAliasesOpens() throws {
        let dir = TemporaryDirectory()
        try Self.blueGreen(dir).close()
        try Self.editCatalog(dir) { #expect($0.removeValue(forKey: "aliases") != nil) }
        let db = try Database.open(at: dir.path, options: quietOptions())
        #expect(try db.listCollections() == ["blue", "green"])
        #expect(try db.listAliases().isEmpty)
        try db.createAlias("blue", alias: "live")
        try db.close()
        let again = try Database.open(at: dir.path, options: quietOptions())
        #expect(try Self.aliasState(again) == ["live": "blue"])
        try again.close()
    }

    /// Damaged alias entries are `.corruption` naming the catalog, never a crash or a dangling alias.
    @Test(arguments: [
        ("an alias naming no collection", Value.object(["live": .int(99)])),
        ("an alias with a collection's name", .object(["green": .int(1)])),
        ("a bad alias name", .object(["1bad": .int(1)])),
        ("a non-integer target", .object(["live": .string("blue")])),
        ("aliases not an object", .array([])),
    ])
    func damagedAliasesAreCorruption(_ label: String, aliases: Value) throws {
        let dir = TemporaryDirectory()
        try Self.blueGreen(dir).close()
        try Self.editCatalog(dir) { $0["aliases"] = aliases }
        Self.expectError(.corruption, mentioning: FileNames.catalog) { try Database.open(at: dir.path, options: quietOptions()).close() }
    }
}
