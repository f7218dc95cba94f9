import Foundation
import Testing
@testable import Quiver

/// Index names (stored in the manifest, kept across reopen; manifests from before names were
/// stored still open) and closing a database while an index builds (the build is cancelled,
/// not waited for, and redone at the next open).
@Suite struct IndexLifecycleTests {
    func twoVectorCollection(_ db: Database) throws {
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "a", dataType: .floatVector(dimension: 4)),
            FieldSchema(name: "b", dataType: .floatVector(dimension: 4)),
        ])
        try db.createCollection("c", schema: schema, metric: .l2)
        var g = SeededGenerator(seed: 11)
        _ = try db.insert("c", rows: (0..<300).map {
            ["id": .int(Int64($0)), "a": .vector(randomVector(4, using: &g)), "b": .vector(randomVector(4, using: &g))]
        })
        try db.flush("c")
    }

    @Test func namesAreStoredAndSurviveReopen() throws {
        let dir = TemporaryDirectory()
        var db = try Database.open(at: dir.path, options: quietOptions())
        try twoVectorCollection(db)
        try db.createIndex("c", field: "a", type: .hnsw, params: ["M": 8], name: "a_graph")
        try db.createIndex("c", field: "a", type: .hnsw, params: ["M": 8], name: "a_graph")  // the same: a no-op
        try db.createIndex("c", field: "b", type: .ivfFlat)
        #expect(try db.describeIndex("c", field: "a").name == "a_graph")
        #expect(try db.describeIndex("c", field: "b").name == "b", "without a name, an index is named after its field")
        #expect(try db.listIndexes("c") == ["a", "b"])

        func code(_ body: () throws -> Void) -> QuiverError.Code? {
            do { try body() } catch let e as QuiverError { return e.code } catch { return nil }
            return nil
        }
        // The same definition under another name, a name another field's index has, bad names.
        #expect(code { try db.createIndex("c", field: "a", type: .hnsw, params: ["M": 8], name: "other") } == .alreadyExists)
        try db.dropIndex("c", field: "b")
        #expect(code { try db.createIndex("c", field: "b", type: .ivfFlat, name: "a_graph") } == .alreadyExists)
        #expect(code { try db.createIndex("c", field: "b", type: .ivfFlat, name: "") } == .invalidArgument)
        #expect(code { try db.createIndex("c", field: "b", type: .ivfFlat, name: "9lives") } == .invalidArgument)
        #expect(code { try db.createIndex("c", field: "b", type: .ivfFlat, name: "has space") } == .invalidArgument)
        #expect(try db.listIndexes("c") == ["a"], "a refused definition leaves nothing behind")
        try db.createIndex("c", field: "b", type: .ivfFlat, name: "b_lists")
        try db.waitForIndexBuilds("c")
        try db.close()

        db = try Database.open(at: dir.path, options: quietOptions())
        #expect(try db.describeIndex("c", field: "a").name == "a_graph")
        #expect(try db.describeIndex("c", field: "b").name == "b_lists")
        #expect(try db.describeIndex("c", field: "b").state == .finished)
        // Renaming the collection keeps the names (they live in its manifest).
        try db.renameCollection("c", to: "d")
        #expect(try db.describeIndex("d", field: "a").name == "a_graph")
        try db.close()
    }

    /// A manifest written before index names were stored has no "name" in its index
    /// definitions: it opens, each index named after its field, and the index files are used.
    @Test func manifestWithoutIndexNamesOpens() throws {
        let dir = TemporaryDirectory()
        var db = try Database.open(at: dir.path, options: quietOptions())
        try twoVectorCollection(db)
        try db.createIndex("c", field: "a", type: .hnsw, params: ["M": 8], name: "renamed")
        try db.createIndex("c", field: "b", type: .hnsw, params: ["M": 8])
        try db.waitForIndexBuilds("c")
        let directory = try db.engine("c").directory
        try db.close()

        // Rewrite the manifest as the earlier writer did: the same payload without "name".
        let path = directory + "/" + FileNames.manifest
        let payload = try Envelope.unwrap(try FileSystem.readFile(path), magic: Manifest.magic, version: Manifest.formatVersion, path: path)
        guard case .object(var object) = payload, case .array(let definitions)? = object["indexes"] else {
            Issue.record("unexpected manifest payload \(payload)")
            return
        }
        #expect(definitions.count == 2 && definitions.allSatisfy { $0.objectValue?["name"] != nil })
        object["indexes"] = .array(definitions.map { definition in
            var d = definition.objectValue!
            d["name"] = nil
            return .object(d)
        })
        try FileSystem.replaceAtomically(path, Envelope.wrap(magic: Manifest.magic, version: Manifest.formatVersion, payload: .object(object)))

        db = try Database.open(at: dir.path, options: quietOptions())
        #expect(try db.describeIndex("c", field: "a").name == "a")
        #expect(try db.describeIndex("c", field: "b").name == "b")
        #expect(try db.engine("c").snapshot().indexes.values.first?.count == 2, "the index files are loaded, not rebuilt")
        // The next manifest this version writes records the names again.
        try db.dropIndex("c", field: "b")
        try db.createIndex("c", field: "b", type: .hnsw, params: ["M": 8], name: "b2")
        try db.close()
        db = try Database.open(at: dir.path, options: quietOptions())
        #expect(try db.describeIndex("c", field: "a").name == "a")
        #expect(try db.describeIndex("c", field: "b").name == "b2")
        try db.close()
    }

    @Test func badIndexNamesInAManifestAreCorruption() throws {
        for bad: Value in [.string(""), .string("1x"), .int(3)] {
            var m = Manifest()
            m.indexes = [IndexDefinition(field: "v", name: "v", type: .hnsw, metric: .l2, params: try IndexBuildParams(type: .hnsw, params: [:]), generation: 1)]
            m.nextIndexNumber = 2
            let good = m.encode()
            var payload = try Envelope.unwrap(good, magic: Manifest.magic, version: Manifest.formatVersion, path: "m").objectValue!
            var definition = payload["indexes"]!.arrayValue![0].objectValue!
            definition["name"] = bad
            payload["indexes"] = .array([.object(definition)])
            let bytes = Envelope.wrap(magic: Manifest.magic, version: Manifest.formatVersion, payload: .object(payload))
            #expect(throws: QuiverError.self) { _ = try Manifest.decode(bytes, path: "m") }
            do { _ = try Manifest.decode(bytes, path: "m") } catch let e as QuiverError { #expect(e.code == .corruption) }
        }
    }

    /// `close` does not wait for a running index build: it cancels it. Nothing of the build is
    /// kept; the next open schedules it again (that a build scheduled at open completes is
    /// `IndexDatabaseTests`' concern).
    @Test func closeCancelsARunningBuild() throws {
        let dir = TemporaryDirectory()
        var options = quietOptions()
        options.indexBuildThreads = 1
        var db = try Database.open(at: dir.path, options: options)
        let d = 32, n = 20_000
        try db.createCollection("c", dimension: d, metric: .l2)
        var g = SeededGenerator(seed: 17)
        for start in stride(from: 0, to: n, by: 5_000) {
            _ = try db.insert("c", rows: (start..<start + 5_000).map { ["id": .int(Int64($0)), "vector": .vector(randomVector(d, using: &g))] })
        }
        try db.flush("c")
        // efConstruction 2000 over 20 000 rows on one thread: far longer than the wait below
        // (minutes in a debug build), so the build is running when close is called.
        try db.createIndex("c", field: "vector", type: .hnsw, params: ["M": 16, "efConstruction": 2000])
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try db.describeIndex("c", field: "vector").state == .inProgress)
        let directory = try db.engine("c").directory
        try db.close()
        #expect(try FileSystem.listDirectory(directory).filter { $0.hasSuffix(".qidx") }.isEmpty,
                "a cancelled build writes no index file")

        db = try Database.open(at: dir.path, options: options)
        #expect(try db.collectionStats("c").rowCount == n)
        #expect(try db.describeIndex("c", field: "vector").pendingRows == n)
        #expect(try db.engine("c").state.withLock { !$0.building.isEmpty }, "the build is scheduled again at open")
        try db.close()  // cancels it again
    }
}
