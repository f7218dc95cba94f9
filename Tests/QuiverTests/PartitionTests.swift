import Foundation
import Testing
@testable import Quiver

/// Partitions and partition keys through the public API: create, drop, has, list; every data
/// call scoped to partitions, on growing and sealed rows and after reopen; a drop that removes
/// rows durably (close and reopen, and a crash); compaction that never mixes partitions; a
/// partition key that routes rows and prunes filtered reads; and bad input, each a typed error
/// with nothing changed.
@Suite struct PartitionTests {
    /// AliasTests' schema (`id`, a 2-d `vector`, an int64 `v`) and rows (`vector` = `[id, 0]`, `v` = tag).
    static let schema = AliasTests.schema

    static func row(_ id: Int64, tag: Int64) -> Row { AliasTests.row(id, tag: tag) }

    /// The ids of collection "c" (of `partitions`, all when empty), by query.
    static func ids(_ db: Database, _ partitions: [String] = []) throws -> Set<Int64> {
        Set(try db.query("c", limit: 16_384, partitions: partitions).compactMap { $0["id"]?.intValue })
    }

    static func expectError(
        _ code: QuiverError.Code, mentioning: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) {
        AliasTests.expectError(code, mentioning: mentioning, sourceLocation: sourceLocation, body)
    }

    /// "c" with rows 0..<10 in `_default` (tag 0), 10..<20 in "a" (tag 1), 20..<30 in "b" (tag 2).
    static func filled(_ dir: TemporaryDirectory, options: DatabaseOptions = manualCompactionOptions()) throws -> Database {
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", schema: schema, metric: .l2)
        try db.createPartition("c", partition: "a")
        try db.createPartition("c", partition: "b")
        _ = try db.insert("c", rows: (0..<10).map { row($0, tag: 0) })
        _ = try db.insert("c", rows: (10..<20).map { row($0, tag: 1) }, partition: "a")
        _ = try db.insert("c", rows: (20..<30).map { row($0, tag: 2) }, partition: "b")
        return db
    }

    @Test func createDropHasList() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            defer { try? db.close() }
            try db.createCollection("c", dimension: 2)
            #expect(try db.listPartitions("c") == ["_default"])
            #expect(try db.hasPartition("c", partition: "_default"))
            #expect(try !db.hasPartition("c", partition: "a"))
            try db.createPartition("c", partition: "a")
            try db.createPartition("c", partition: "b")
            #expect(try db.listPartitions("c") == ["_default", "a", "b"])
            #expect(try db.hasPartition("c", partition: "a"))
            try db.dropPartition("c", partition: "a")
            #expect(try db.listPartitions("c") == ["_default", "b"])
            #expect(try !db.hasPartition("c", partition: "a"))
            // Through an alias and a handle too.
            try db.createAlias("c", alias: "al")
            #expect(try db.listPartitions("al") == ["_default", "b"])
            #expect(try db.collection("c").hasPartition("b"))
        }
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { try? db.close() }
        #expect(try db.listPartitions("c") == ["_default", "b"])
    }

    /// Each data call covers the partitions it names (all without names), on growing rows,
    /// sealed rows, and after reopen (rows replayed from the WAL, then from segments).
    @Test func dataCallsAreScoped() throws {
        let dir = TemporaryDirectory()
        func check(_ db: Database, _ when: String) throws {
            let c = Comment(rawValue: when)
            #expect(try Self.ids(db) == Set(0..<30), c)
            #expect(try Self.ids(db, ["_default"]) == Set(0..<10), c)
            #expect(try Self.ids(db, ["a"]) == Set(10..<20), c)
            #expect(try Self.ids(db, ["a", "b"]) == Set(10..<30), c)
            #expect(try db.query("c", filter: "v >= 1", outputFields: ["count(*)"], partitions: ["b"]) == [["count(*)": 10]], c)
            #expect(try db.query("c", outputFields: ["count(*)"], partitions: ["a"]) == [["count(*)": 10]], c)
            #expect(try db.get("c", ids: [5, 15, 25], partitions: ["a"]).map { $0["id"] } == [15], c)
            #expect(try db.get("c", ids: [5, 15, 25]).count == 3, c)
            let hits = try db.search("c", vectors: [[0, 0]], limit: 3, partitions: ["b"])[0].map(\.id)
            #expect(hits == [20, 21, 22], c)
            let both = try db.search("c", vectors: [[19.6, 0]], limit: 2, outputFields: ["v"], partitions: ["_default", "b"])[0]
            #expect(both.map(\.id) == [20, 21], c)
            #expect(try db.search("c", vectors: [[19.6, 0]], limit: 1)[0].map(\.id) == [20], c)
            #expect(try db.search("c", vectors: [[19.6, 0]], limit: 1, partitions: ["_default"])[0].map(\.id) == [9], c)
            #expect(try db.collection("c").search([[0, 0]], limit: 1, partitions: ["a"])[0].map(\.id) == [10], c)
        }
        do {
            let db = try Self.filled(dir)
            defer { try? db.close() }
            try check(db, "growing")
            try db.flush("c")
            #expect(try db.collectionStats("c").segmentCount == 3)  // one per partition
            try check(db, "sealed")
            _ = try db.insert("c", rows: [Self.row(30, tag: 1)], partition: "a")
            db.abandonForTesting()  // row 30 is only in the WAL
        }
        do {
            let db = try Database.open(at: dir.path, options: manualCompactionOptions())
            defer { try? db.close() }
            let inA = try Self.ids(db, ["a"]), all = try Self.ids(db)
            #expect(inA == Set(10..<20).union([30]), "\(inA.sorted()) of \(all.sorted())")  // replayed into its partition
            #expect(try db.delete("c", ids: [30]).deleteCount == 1)
            try check(db, "reopened")
        }
        // Deletes: by ids and by filter, only in the partitions named.
        let db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { try? db.close() }
        #expect(try db.delete("c", ids: [1, 11, 21], partitions: ["a"]).deleteCount == 1)
        #expect(try db.delete("c", filter: "id % 2 == 0", partitions: ["b", "_default"]).deleteCount == 10)
        #expect(try Self.ids(db) == Set(0..<30).subtracting([11]).subtracting(stride(from: 0, to: 10, by: 2)).subtracting(stride(from: 20, to: 30, by: 2)))
        #expect(try Self.ids(db, ["a"]) == Set(10..<20).subtracting([11]))
        // An upsert replaces the row of its key wherever it is; the new row is in the partition named.
        _ = try db.upsert("c", rows: [Self.row(13, tag: 9)], partition: "b")
        #expect(try Self.ids(db, ["a"]) == Set(10..<20).subtracting([11, 13]))
        #expect(try Self.ids(db, ["b"]).contains(13))
        // An insert of a key live in another partition is refused: keys are unique in the collection.
        Self.expectError(.alreadyExists, mentioning: "13") { _ = try db.insert("c", rows: [Self.row(13, tag: 0)]) }
    }

    /// Dropping a partition removes its rows (sealed and growing) and they stay gone after a
    /// close and reopen and after a crash; a new partition of the same name starts empty.
    @Test func dropRemovesRowsDurably() throws {
        for crash in [false, true] {
            let dir = TemporaryDirectory()
            do {
                let db = try Self.filled(dir, options: quietOptions())
                try db.flush("c")  // a's first rows sealed
                _ = try db.insert("c", rows: (40..<45).map { Self.row($0, tag: 1) }, partition: "a")  // and growing
                try db.createIndex("c", field: "vector", type: .hnsw)
                try db.waitForIndexBuilds("c")
                try db.dropPartition("c", partition: "a")
                #expect(try Self.ids(db) == Set(0..<10).union(20..<30))
                #expect(try db.collectionStats("c").rowCount == 20)
                if crash { db.abandonForTesting() } else { try db.close() }
            }
            let db = try Database.open(at: dir.path, options: quietOptions())
            defer { try? db.close() }
            let c = Comment(rawValue: crash ? "after a crash" : "after close")
            #expect(try db.listPartitions("c") == ["_default", "b"], c)
            #expect(try Self.ids(db) == Set(0..<10).union(20..<30), c)
            #expect(try db.search("c", vectors: [[12, 0]], limit: 1)[0].map(\.id) == [9], c)
            // The keys of the dropped rows are free again.
            try db.createPartition("c", partition: "a")
            #expect(try Self.ids(db, ["a"]).isEmpty, c)
            _ = try db.insert("c", rows: [Self.row(10, tag: 5)], partition: "a")
            #expect(try Self.ids(db, ["a"]) == [10], c)
            // No file of the dropped partition's segments is left.
            let names = try FileSystem.listDirectory(dir.path + "/" + FileNames.collectionDirectory(1))
            #expect(names.filter { $0.hasSuffix(".qseg") }.count == 2, c)
        }
    }

    /// `compact` and background compaction merge segments of one partition only: after many
    /// flushes of every partition, each segment's rows are of its manifest partition.
    @Test func compactionNeverMixesPartitions() throws {
        for automatic in [false, true] {
            let dir = TemporaryDirectory()
            var options = automatic ? quietOptions() : manualCompactionOptions()
            options.segmentTargetBytes = 1 << 20
            let db = try Database.open(at: dir.path, options: options)
            defer { try? db.close() }
            try db.createCollection("c", schema: Self.schema, metric: .l2)
            try db.createPartition("c", partition: "a")
            for round in 0..<6 {
                let base = Int64(round * 100)
                _ = try db.insert("c", rows: (base..<(base + 10)).map { Self.row($0, tag: 0) })
                _ = try db.insert("c", rows: ((base + 50)..<(base + 60)).map { Self.row($0, tag: 1) }, partition: "a")
                _ = try db.delete("c", ids: [.int(base), .int(base + 50)])
                try db.flush("c")
            }
            if automatic { try db.waitForIndexBuilds("c") } else { #expect(try db.compact("c")) }
            let engine = try db.engine("c")
            let manifest = engine.state.withLock { $0.manifest }
            let comment = Comment(rawValue: "automatic: \(automatic), segments: \(manifest.segments.map { ($0.id, $0.partition) })")
            if automatic {
                // Background compaction merged (12 flushed segments before), each partition apart;
                // the packing's two-thirds rule may leave a small segment beside a large one.
                #expect(manifest.segments.count < 6, comment)
            } else {
                #expect(manifest.segments.count == 2, comment)  // one per partition
            }
            #expect(Set(manifest.segments.map(\.partition)) == [0, 1], comment)
            // Every row of a segment has the tag of the segment's partition.
            let snapshot = try engine.snapshot()
            for (segment, partition) in zip(snapshot.sealed, snapshot.sealedPartitions) {
                let tags = (0..<segment.rowCount).map { segment.columns["v"]!.value(at: $0) }
                #expect(tags.allSatisfy { $0 == .int(Int64(partition)) }, comment)
            }
            #expect(try Self.ids(db, ["a"]).count == 6 * 9, comment)
            #expect(try Self.ids(db, ["_default"]).count == 6 * 9, comment)
        }
    }

    static let keySchema = try! CollectionSchema(fields: [
        FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
        FieldSchema(name: "vector", dataType: .floatVector(dimension: 4)),
        FieldSchema(name: "tenant", dataType: .varchar(maxLength: 16), isPartitionKey: true),
        FieldSchema(name: "n", dataType: .int64),
    ], numPartitions: 8)

    /// Rows are routed by their key's hash, a filter on the key reads only the partitions of its
    /// values, and every search and query answers what the same rows give without a partition key.
    @Test func partitionKeyRoutesAndPrunes() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { try? db.close() }
        let plain = try CollectionSchema(
            fields: Self.keySchema.fields.map { f in var f = f; f.isPartitionKey = false; return f })
        try db.createCollection("k", schema: Self.keySchema, metric: .l2)
        try db.createCollection("plain", schema: plain, metric: .l2)
        #expect(try db.listPartitions("k") == (0..<8).map { "_default_\($0)" })
        #expect(try db.describeCollection("k").schema.partitionKeyField?.name == "tenant")
        var g = SeededGenerator(seed: 19)
        let tenants = (0..<12).map { "t\($0)" }
        for batch in 0..<3 {
            let rows: [Row] = (0..<200).map { i in
                let id = Int64(batch * 200 + i)
                return ["id": .int(id), "vector": .vector(randomVector(4, using: &g)),
                        "tenant": .string(tenants[Int(id) % tenants.count]), "n": .int(id % 7)]
            }
            _ = try db.insert("k", rows: rows)
            _ = try db.insert("plain", rows: rows)
            if batch < 2 { try db.flush("k") }  // sealed and growing rows
        }
        let engine = try db.engine("k")
        // Routing: each sealed segment holds rows of the tenants hashing to its partition only.
        let snapshot = try engine.snapshot()
        for (segment, partition) in zip(snapshot.sealed, snapshot.sealedPartitions) {
            for row in 0..<segment.rowCount {
                let tenant = segment.columns["tenant"]!.value(at: row)
                #expect(UInt64(PartitionRouting.bucket(of: tenant, count: 8)) == partition)
            }
        }
        #expect(Set(snapshot.sealedPartitions).count > 1)
        let queries = (0..<3).map { _ in randomVector(4, using: &g) }
        for filter in ["tenant == \"t3\"", "tenant in [\"t1\", \"t5\"] and n > 2", "tenant == \"t2\" or tenant == \"t7\"",
                       "n == 3", "tenant != \"t4\"", "tenant == \"nobody\""] {
            let c = Comment(rawValue: filter)
            let expression = try FilterExpression.compile(filter, params: [:], schema: Self.keySchema)
            let scope = try engine.scope([], filter: expression)
            // The segments a search of this filter reads: only those of the scope's partitions.
            let searched = snapshot.searchable(expression, scope: scope).enumerated().filter { $0.element.count > 0 }
            if let scope {
                #expect(scope.count <= 2, c)
                for (i, _) in searched where i < snapshot.sealed.count {
                    #expect(scope.contains(snapshot.sealedPartitions[i]), c)
                }
                #expect(searched.count < snapshot.sealed.count + 1, c)
            } else {
                #expect(filter.hasPrefix("n ==") || filter.contains("!="), c)
            }
            let keyed = try db.search("k", vectors: queries, limit: 10, filter: filter, outputFields: ["tenant"])
            let reference = try db.search("plain", vectors: queries, limit: 10, filter: filter, outputFields: ["tenant"])
            #expect(keyed == reference, c)
            #expect(try db.query("k", filter: filter, outputFields: ["count(*)"]) == db.query("plain", filter: filter, outputFields: ["count(*)"]), c)
            #expect(try db.query("k", filter: filter, limit: 1000).count == db.query("plain", filter: filter, limit: 1000).count, c)
            #expect(try db.delete("k", filter: "(\(filter)) and id < 0").deleteCount == 0, c)
        }
        // After reopen the partitions and the routing are the same (the WAL rows re-routed).
        try db.close()
        let reopened = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { try? reopened.close() }
        #expect(try reopened.listPartitions("k").count == 8)
        #expect(try reopened.query("k", filter: "tenant == \"t3\"", outputFields: ["count(*)"]) == [["count(*)": 50]])
    }

    /// Bad input: each call fails with a typed error and changes nothing (partitions, rows).
    @Test func badInputChangesNothing() throws {
        let dir = TemporaryDirectory()
        let db = try Self.filled(dir)
        defer { try? db.close() }
        try db.createCollection("k", schema: Self.keySchema, metric: .l2)
        func unchanged(sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(try db.listPartitions("c") == ["_default", "a", "b"], sourceLocation: sourceLocation)
            #expect(try Self.ids(db) == Set(0..<30), sourceLocation: sourceLocation)
            #expect(try Self.ids(db, ["a"]) == Set(10..<20), sourceLocation: sourceLocation)
            #expect(try db.listPartitions("k").count == 8, sourceLocation: sourceLocation)
        }
        // Unknown partitions.
        Self.expectError(.notFound, mentioning: "'z'") { _ = try db.insert("c", rows: [Self.row(50, tag: 0)], partition: "z") }
        Self.expectError(.notFound, mentioning: "'z'") { _ = try db.upsert("c", rows: [Self.row(1, tag: 5)], partition: "z") }
        Self.expectError(.notFound, mentioning: "'z'") { _ = try db.search("c", vectors: [[0, 0]], partitions: ["a", "z"]) }
        Self.expectError(.notFound, mentioning: "'z'") { _ = try db.query("c", filter: "id >= 0", partitions: ["z"]) }
        Self.expectError(.notFound, mentioning: "'z'") { _ = try db.get("c", ids: [1], partitions: ["z"]) }
        Self.expectError(.notFound, mentioning: "'z'") { _ = try db.delete("c", ids: [1], partitions: ["z"]) }
        Self.expectError(.notFound, mentioning: "'z'") { try db.dropPartition("c", partition: "z") }
        Self.expectError(.notFound, mentioning: "'nope'") { try db.createPartition("nope", partition: "a") }
        #expect(try !db.hasPartition("c", partition: "z"))
        try unchanged()
        // `_default`, existing and badly named partitions.
        Self.expectError(.invalidArgument, mentioning: "_default") { try db.dropPartition("c", partition: "_default") }
        Self.expectError(.alreadyExists, mentioning: "'a'") { try db.createPartition("c", partition: "a") }
        Self.expectError(.alreadyExists, mentioning: "'_default'") { try db.createPartition("c", partition: "_default") }
        Self.expectError(.invalidArgument, mentioning: "1bad") { try db.createPartition("c", partition: "1bad") }
        Self.expectError(.invalidArgument, mentioning: "empty") { try db.createPartition("c", partition: "") }
        try unchanged()
        // Manual partitions of a partition-key collection, and partition names given to it.
        let keyRow: Row = ["id": 1, "vector": .vector([0, 0, 0, 0]), "tenant": "t1", "n": 1]
        Self.expectError(.invalidArgument, mentioning: "partition key") { try db.createPartition("k", partition: "x") }
        Self.expectError(.invalidArgument, mentioning: "partition key") { try db.dropPartition("k", partition: "_default_0") }
        Self.expectError(.invalidArgument, mentioning: "partition key") { _ = try db.insert("k", rows: [keyRow], partition: "_default_0") }
        Self.expectError(.invalidArgument, mentioning: "partition key") { _ = try db.search("k", vectors: [[0, 0, 0, 0]], partitions: ["_default_0"]) }
        Self.expectError(.invalidArgument, mentioning: "partition key") { _ = try db.query("k", filter: "n > 0", partitions: ["_default_0"]) }
        Self.expectError(.invalidArgument, mentioning: "partition key") { _ = try db.delete("k", ids: [1], partitions: ["_default_0"]) }
        #expect(try db.query("k", filter: "n >= 0", outputFields: ["count(*)"]) == [["count(*)": 0]])
        try unchanged()
        // Schemas: a partition key must be one int64/varchar field, not the primary key, with 1...1024 partitions.
        func schema(_ key: FieldSchema, partitions: Int = 16, second: Bool = false) throws -> CollectionSchema {
            var fields = [FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
                          FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)), key]
            if second { fields.append(FieldSchema(name: "other", dataType: .int64, isPartitionKey: true)) }
            return try CollectionSchema(fields: fields, numPartitions: partitions)
        }
        Self.expectError(.invalidArgument, mentioning: "int64 or varchar") {
            _ = try schema(FieldSchema(name: "f", dataType: .float, isPartitionKey: true))
        }
        Self.expectError(.invalidArgument, mentioning: "num_partitions") {
            _ = try schema(FieldSchema(name: "f", dataType: .int64, isPartitionKey: true), partitions: 0)
        }
        Self.expectError(.invalidArgument, mentioning: "num_partitions") {
            _ = try schema(FieldSchema(name: "f", dataType: .int64, isPartitionKey: true), partitions: 1025)
        }
        Self.expectError(.invalidArgument, mentioning: "one partition key") {
            _ = try schema(FieldSchema(name: "f", dataType: .int64, isPartitionKey: true), second: true)
        }
        Self.expectError(.invalidArgument, mentioning: "nullable") {
            _ = try schema(FieldSchema(name: "f", dataType: .int64, nullable: true, isPartitionKey: true))
        }
        // The schema's JSON keeps the key and the count; a schema without them reads as before.
        let json = Self.keySchema.jsonValue
        #expect(try CollectionSchema(json: json) == Self.keySchema)
        #expect(json.jsonString.contains("\"is_partition_key\":true") && json.jsonString.contains("\"num_partitions\":8"))
        #expect(!Self.schema.jsonValue.jsonString.contains("partition"))
    }

    /// A manifest written before partitions (no partition list, no segment partitions) reads as
    /// `_default` alone holding every segment; WAL records of `_default` keep their types.
    @Test func manifestWithoutPartitionsReadsAsDefault() throws {
        var m = Manifest()
        m.nextSegmentID = 3
        m.segments = [Manifest.SegmentEntry(id: 2, rowCount: 5, deleteFile: nil, deletedCount: 0)]
        var payload = try Envelope.unwrap(m.encode(), magic: Manifest.magic, version: Manifest.formatVersion, path: "m")
        guard case .object(var o) = payload else { Issue.record("not an object"); return }
        o["partitions"] = nil
        o["next_partition_id"] = nil
        payload = .object(o)
        let old = Envelope.wrap(magic: Manifest.magic, version: Manifest.formatVersion, payload: payload)
        let decoded = try Manifest.decode(old, path: "m", schema: Self.schema)
        #expect(decoded.partitions == [Manifest.Partition(id: 0, name: "_default")])
        #expect(decoded.segments.map(\.partition) == [0])
        #expect(try Manifest.decode(m.encode(), path: "m") == m)
        // A segment naming a partition the manifest does not list is damage.
        var bad = m
        bad.segments[0].partition = 7
        #expect(throws: QuiverError.self) { _ = try Manifest.decode(bad.encode(), path: "m") }
        // WAL: `_default` records keep type 4; a partition's records are type 7 and read back.
        let batch = StoredBatch(storedRows: [Self.row(1, tag: 0)], schema: Self.schema)
        let plain = WALOperation.insertColumns(sequence: 1, batch: batch).encode()
        #expect(plain[8] == WALFormat.RecordType.insertColumns.rawValue)
        let scoped = WALOperation.upsertColumns(sequence: 2, batch: batch, partition: 3)
        let encoded = scoped.encode()
        #expect(encoded[8] == WALFormat.RecordType.upsertColumnsIntoPartition.rawValue)
        let decodedOp = try encoded.withUnsafeBytes { raw in
            try WALOperation.decode(
                type: .upsertColumnsIntoPartition, payload: UnsafeRawBufferPointer(rebasing: raw[WALFormat.recordHeaderSize...]),
                context: "t")
        }
        #expect(decodedOp == scoped)
    }
}
