import Foundation
import Testing
@testable import Quiver

/// Sparse float vector fields: the value type and its checks, row and column inserts, and the
/// rows surviving WAL replay, flush, compaction and reopen exactly as inserted.
@Suite struct SparseStorageTests {
    static func schema(dynamic: Bool = false) throws -> CollectionSchema {
        try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "sparse", dataType: .sparseFloatVector),
            FieldSchema(name: "tag", dataType: .int64),
        ], enableDynamicField: dynamic)
    }

    /// A random sparse vector over `vocabulary` indices (sometimes empty), from the generator.
    static func randomSparse(_ g: inout SeededGenerator, vocabulary: UInt32 = 200, maxTerms: Int = 12) -> [UInt32: Float] {
        var out = [UInt32: Float]()
        for _ in 0..<Int.random(in: 0...maxTerms, using: &g) {
            out[UInt32.random(in: 0..<vocabulary, using: &g)] = Float(Int.random(in: 0...40, using: &g)) / 8
        }
        return out
    }

    @Test func valueTypeSortsAndChecksPairs() throws {
        let a = try SparseVector([17: 1.25, 3: 0.5])
        let b = try SparseVector(indices: [17, 3], values: [1.25, 0.5])
        #expect(a == b)
        #expect(a.indices == [3, 17] && a.values == [0.5, 1.25])
        #expect(a[17] == 1.25 && a[4] == 0)
        #expect(a.dot(try SparseVector([3: 2, 5: 9])) == 1)
        #expect(SparseVector().isEmpty)
        let bad: [() throws -> SparseVector] = [
            { try SparseVector(indices: [1, 1], values: [1, 2]) },
            { try SparseVector(indices: [UInt32.max], values: [1]) },
            { try SparseVector([2: -0.5]) },
            { try SparseVector([2: .nan]) },
            { try SparseVector([2: .infinity]) },
            { try SparseVector(indices: [1, 2], values: [1]) },
        ]
        for make in bad {
            #expect { _ = try make() } throws: { ($0 as? QuiverError)?.code == .invalidArgument }
        }
        #expect(try SparseVector(indices: [SparseVector.maxIndex, 0], values: [0, 3]).indices == [0, SparseVector.maxIndex])
    }

    @Test func schemaRulesAndJSON() throws {
        #expect(throws: QuiverError.self) {
            _ = try CollectionSchema(fields: [
                FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
                FieldSchema(name: "s", dataType: .sparseFloatVector, nullable: true),
            ])
        }
        // A sparse field alone is a vector field.
        let schema = try Self.schema()
        #expect(schema.sparseVectorFields.map(\.name) == ["sparse"] && schema.vectorFields.isEmpty)
        let json = schema.jsonValue
        #expect(try CollectionSchema(json: json) == schema)
        #expect(json.jsonString.contains("\"sparse_float_vector\""))
        // A collection's metric does not apply to sparse fields (always IP).
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("c", schema: schema, metric: .l2)
        try db.close()
    }

    @Test func rowsInEveryShapeAreStoredAndReadBack() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("c", schema: try Self.schema(dynamic: true))
        _ = try db.insert("c", rows: [
            ["id": 1, "sparse": .sparse(try SparseVector([5: 0.25, 2: 1])), "tag": 1],
            ["id": 2, "sparse": ["7": 0.5, "1": 2], "tag": 2],                       // a JSON object
            ["id": 3, "sparse": [[9, 1.5], [4, 0.75]], "tag": 3],                      // [index, weight] pairs
            ["id": 4, "sparse": [:], "tag": 4, "extra": .sparse(try SparseVector([1: 1]))],  // empty; a dynamic field
        ])
        let json = try Value(json: #"{"id": 5, "sparse": {"4294967294": 1.0, "0": 0}, "tag": 5}"#)
        _ = try db.insert("c", rows: [json.objectValue!])
        let expected: [Int64: SparseVector] = [
            1: try SparseVector([2: 1, 5: 0.25]), 2: try SparseVector([1: 2, 7: 0.5]), 3: try SparseVector([4: 0.75, 9: 1.5]),
            4: SparseVector(), 5: try SparseVector([0: 0, SparseVector.maxIndex: 1]),
        ]
        func check(_ label: String) throws {
            let rows = try db.get("c", ids: [1, 2, 3, 4, 5], outputFields: ["*"])
            #expect(rows.count == 5, "\(label)")
            for row in rows {
                #expect(row["sparse"] == .sparse(expected[row["id"]!.intValue!]!), "\(label) row \(row["id"]!)")
            }
            // A sparse value in a dynamic field is JSON: an object of index → weight.
            #expect(rows.first { $0["id"] == 4 }?["extra"] == .object(["1": 1.0]), "\(label)")
            #expect(try db.query("c", filter: "tag >= 3", outputFields: ["sparse"]).count == 3)
        }
        try check("growing")
        try db.flush("c")
        try check("sealed")
        #expect(Value.sparse(expected[1]!).jsonString == #"{"2":1.0,"5":0.25}"#)
        try db.close()
    }

    @Test func badValuesAreRefusedNamingRowAndField() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("c", schema: try Self.schema())
        let bad: [Value] = [
            ["x": 1.0], ["-1": 1.0], ["4294967295": 1.0], ["3": -1.0], ["3": "a"], [[1, 2, 3]], [[1, 1.0], [1, 2.0]],
            .vector([1, 2]), 7, .null,
        ]
        for value in bad {
            #expect {
                _ = try db.insert("c", rows: [["id": 1, "sparse": ["1": 1.0], "tag": 0], ["id": 2, "sparse": value, "tag": 0]])
            } throws: { error in
                let e = error as? QuiverError
                return e?.code == .invalidArgument && e!.message.contains("'sparse'") && e!.message.contains("row 1")
            }
        }
        #expect(throws: QuiverError.self) { _ = try db.insert("c", rows: [["id": 1, "tag": 0]]) }  // missing, not nullable
        #expect(try db.query("c", filter: "", limit: 10).isEmpty)
        // Filters cannot read a sparse field.
        #expect(throws: QuiverError.self) { _ = try db.query("c", filter: "sparse == 1", limit: 10) }
        try db.close()
    }

    @Test func columnInsertsMatchRowInserts() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("c", schema: try Self.schema())
        let vectors = [try SparseVector([1: 1]), SparseVector(), try SparseVector([3: 2, 9: 0.5])]
        _ = try db.insert("c", columns: ColumnBatch([
            "id": .int64([1, 2, 3]), "sparse": .sparseVectors(vectors), "tag": .int64([0, 0, 0]),
        ]))
        // Boxed values go cell by cell through the row checks.
        _ = try db.insert("c", columns: ColumnBatch([
            "id": .int64([4]), "sparse": .values([["2": 0.5]]), "tag": .int64([0]),
        ]))
        #expect {
            _ = try db.insert("c", columns: ColumnBatch(["id": .int64([5]), "sparse": .values([["2": -0.5]]), "tag": .int64([0])]))
        } throws: { ($0 as? QuiverError)?.message.contains("must not be negative") == true }
        let rows = try db.get("c", ids: [1, 2, 3, 4], outputFields: ["sparse"])
        #expect(rows.map { $0["sparse"]! } == (vectors + [try SparseVector([2: 0.5])]).map { .sparse($0) })
        try db.close()
    }

    /// Seeded random inserts, upserts and deletes against a dictionary model, through flushes,
    /// compaction and reopen (WAL replay and sealed segments).
    @Test(arguments: [UInt64(1), 2, 3])
    func randomWorkloadMatchesModel(seed: UInt64) throws {
        let dir = TemporaryDirectory()
        var g = SeededGenerator(seed: seed)
        var options = manualCompactionOptions()
        options.flushRowThreshold = 97
        var db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", schema: try Self.schema())
        var model = [Int64: SparseVector]()
        for step in 0..<40 {
            switch Int.random(in: 0..<10, using: &g) {
            case 0..<5:
                let rows: [Row] = try (0..<Int.random(in: 1...30, using: &g)).map { _ in
                    let id = Int64.random(in: 0..<400, using: &g)
                    let v = try SparseVector(Self.randomSparse(&g))
                    model[id] = v
                    return ["id": .int(id), "sparse": .sparse(v), "tag": .int(id % 7)]
                }
                // Duplicate keys in one call are refused; keep the last of each.
                var seen = Set<Int64>()
                let unique = rows.reversed().filter { seen.insert($0["id"]!.intValue!).inserted }
                _ = try db.upsert("c", rows: unique)
            case 5..<7:
                let ids = (0..<Int.random(in: 1...20, using: &g)).map { _ in Int64.random(in: 0..<400, using: &g) }
                for id in ids { model[id] = nil }
                _ = try db.delete("c", ids: ids.map { .int($0) })
            case 7: try db.flush("c")
            case 8: _ = try db.compact("c")
            default:
                try db.close()
                db = try Database.open(at: dir.path, options: options)
            }
            let rows = try db.query("c", filter: "id >= 0", limit: 1000, outputFields: ["sparse"])
            let observed = Dictionary(uniqueKeysWithValues: rows.map { ($0["id"]!.intValue!, $0["sparse"]!) })
            #expect(observed == model.mapValues { .sparse($0) }, "seed \(seed) step \(step)")
            if observed != model.mapValues({ .sparse($0) }) { break }
        }
        try db.close()
    }

    /// A database in `dir` with collection "c" of `rows` random sparse rows, flushed; `then`
    /// runs on it before it is closed.
    static func filledDatabase(_ dir: TemporaryDirectory, rows: Int, seed: UInt64, then: (Database) throws -> Void = { _ in }) throws {
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("c", schema: try schema())
        var g = SeededGenerator(seed: seed)
        _ = try db.insert("c", rows: try (0..<rows).map { ["id": .int(Int64($0)), "sparse": .sparse(try SparseVector(randomSparse(&g))), "tag": 0] })
        try db.flush("c")
        try then(db)
        try db.close()
    }

    /// `export` and `importDump` carry sparse rows (as JSON objects of index → weight) and the
    /// sparse index definition over unchanged.
    @Test func dumpRoundTripKeepsSparseRows() throws {
        let dir = TemporaryDirectory()
        try Self.filledDatabase(dir, rows: 120, seed: 12) { db in
            try db.createIndex("c", field: "sparse", type: .sparseInvertedIndex)
            let dump = dir.path + "-dump"
            defer { try? FileManager.default.removeItem(atPath: dump) }
            #expect(try db.export("c", to: dump) == 120)
            #expect(try db.importDump(from: dump, into: "copy") == 120)
            let all = { (name: String) in try db.query(name, filter: "id >= 0", limit: 1000, outputFields: ["*"]) }
            #expect(try all("copy") == all("c"))
            #expect(try db.describeIndex("copy", field: "sparse").type == .sparseInvertedIndex)
        }
    }

    /// A flipped byte in a sealed segment's sparse column is `.corruption` when the collection loads.
    @Test func damagedSparseColumnIsCorruption() throws {
        let dir = TemporaryDirectory()
        try Self.filledDatabase(dir, rows: 50, seed: 9)
        let collection = dir.path + "/c1"
        let segment = try #require(try FileSystem.listDirectory(collection).first { $0.hasPrefix("seg-") && $0.hasSuffix(".qseg") })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: collection + "/" + segment)))
        bytes[SegmentFormat.headerSize + 20] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: collection + "/" + segment))
        #expect { try openAndUse(dir.path) } throws: { ($0 as? QuiverError)?.code == .corruption }
    }

    /// Checksum-valid but malformed sparse rows in a WAL record or a segment block are refused.
    @Test func malformedSparseRowsAreCorruption() throws {
        var w = ByteWriter()
        w.writeVarint(2)
        w.writeArray([UInt32(5), 3])  // descending
        w.writeFloats([1, 1])
        let bytes = w.bytes
        #expect {
            try bytes.withUnsafeBytes { raw in
                var r = ByteReader(raw, context: "test")
                _ = try r.readSparse()
            }
        } throws: { ($0 as? QuiverError)?.code == .corruption }
        var negative = ByteWriter()
        negative.writeVarint(1)
        negative.writeArray([UInt32(5)])
        negative.writeFloats([-1])
        let nb = negative.bytes
        #expect {
            try nb.withUnsafeBytes { raw in
                var r = ByteReader(raw, context: "test")
                _ = try r.readSparseRows(1)
            }
        } throws: { ($0 as? QuiverError)?.code == .corruption }
    }
}
