import Foundation
import Testing
@testable import Quiver

/// `export` / `importDump` / `importJSONL`: exact round trips, snapshots, and bad input that
/// changes nothing.
@Suite struct DumpTests {
    static let schema = try! CollectionSchema(
        fields: [
            FieldSchema(name: "id", dataType: .varchar(maxLength: 16), isPrimaryKey: true),
            FieldSchema(name: "f32", dataType: .floatVector(dimension: 3)),
            FieldSchema(name: "f16", dataType: .float16Vector(dimension: 2)),
            FieldSchema(name: "bf16", dataType: .bfloat16Vector(dimension: 2)),
            FieldSchema(name: "title", dataType: .varchar(maxLength: 32), nullable: true),
            FieldSchema(name: "score", dataType: .float),
            FieldSchema(name: "weight", dataType: .double, nullable: true),
            FieldSchema(name: "small", dataType: .int16),
            FieldSchema(name: "flag", dataType: .bool),
            FieldSchema(name: "meta", dataType: .json, nullable: true),
            FieldSchema(name: "tags", dataType: .array(elementType: .varchar(maxLength: 8), maxCapacity: 3)),
        ],
        enableDynamicField: true)

    static func rows(_ n: Int, seed: UInt64 = 3) -> [Row] {
        var g = SeededGenerator(seed: seed)
        return (0..<n).map { i in
            var row: Row = [
                "id": .string("k\(i)"),
                "f32": .vector([Float.random(in: -1...1, using: &g), .pi * Float(i), -0.0]),
                "f16": .vector([Float.random(in: -4...4, using: &g), 1e-3]),
                "bf16": .vector([Float.random(in: -4...4, using: &g), 3e5]),
                "title": i % 4 == 0 ? .null : .string("título \(i) \"q\"\n"),
                "score": .double(Double(Float.random(in: -1e6...1e6, using: &g))),
                "weight": i % 5 == 0 ? .null : .double(Double.random(in: -1...1, using: &g)),
                "small": .int(Int64(i % 30_000) - 15_000),
                "flag": .bool(i % 2 == 0),
                "meta": i % 6 == 0 ? .null : .object(["a": .int(Int64(i)), "b": .array([.double(1.5), .string("x"), .null]), "c": .double(2.0)]),
                "tags": .array((0..<(i % 4)).map { .string("t\($0)") }),
            ]
            if i % 3 == 0 { row["dyn"] = .string("d\(i)") }
            if i % 7 == 0 { row["dyn2"] = .object(["nested": .bool(true)]) }
            return row
        }
    }

    static func all(_ db: Database, _ name: String) throws -> [Row] {
        var out = [Row]()
        let walk = try db.queryIterator(name, batchSize: 5_000, outputFields: ["*"])
        while let batch = walk.next() { out += batch }
        return out
    }

    @Test func roundTripIsExact() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { try? db.close() }
        try db.createCollection("c", schema: Self.schema, metric: .l2)
        _ = try db.insert("c", rows: Self.rows(2_500))
        try db.flush("c")
        _ = try db.delete("c", ids: ["k1", "k2"])
        try db.createIndex("c", field: "f32", type: .hnsw, params: ["M": 8, "efConstruction": 40])
        let dump = dir.path + "-dump"
        defer { try? FileManager.default.removeItem(atPath: dump) }
        var seen = [TransferProgress]()
        #expect(try db.export("c", to: dump, batchSize: 1_000) { seen.append($0) } == 2_498)
        #expect(seen.map(\.rows) == [1_000, 2_000, 2_498] && seen.allSatisfy { $0.totalRows == 2_498 })
        #expect(try db.importDump(from: dump, into: "copy", batchSize: 700) == 2_498)
        let original = try Self.all(db, "c")
        #expect(original.count == 2_498)
        #expect(try Self.all(db, "copy") == original)
        #expect(try db.describeCollection("copy").schema == Self.schema)
        #expect(try db.describeIndex("copy", field: "f32").type == .hnsw)
        #expect(try db.describeIndex("copy", field: "f32").params == db.describeIndex("c", field: "f32").params)
        // The vector files read back bit for bit: float32 through numpy's layout.
        let f32 = try NPYReader(path: dump + "/f32.npy")
        #expect(f32.descr == "<f4" && f32.rows == 2_498 && f32.columns == 3)
        let first = try f32.read(rows: 1, type: .floatVector(dimension: 3))[0]
        #expect(first.floatVector!.map(\.bitPattern) == original[0]["f32"]!.floatVector!.map(\.bitPattern))
        // Importing again (a resumed import) leaves every row once.
        _ = try db.importDump(from: dump, into: "copy")
        #expect(try Self.all(db, "copy") == original)
        // Into a collection with another schema: refused, nothing written.
        try db.createCollection("other", dimension: 3)
        #expect(throws: QuiverError.self) { try db.importDump(from: dump, into: "other") }
        #expect(try db.query("other", filter: "id >= 0", outputFields: ["count(*)"]) == [["count(*)": 0]])
    }

    @Test func binaryVectorsRoundTrip() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { try? db.close() }
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true, autoID: true),
            FieldSchema(name: "bits", dataType: .binaryVector(dimension: 24)),
        ])
        try db.createCollection("b", schema: schema, metric: .hamming)
        var g = SeededGenerator(seed: 4)
        _ = try db.insert("b", columns: ColumnBatch(["bits": .binaryVectors((0..<3_000).map { _ in UInt8.random(in: 0...255, using: &g) }, dimension: 24)]))
        let dump = dir.path + "-dump"
        defer { try? FileManager.default.removeItem(atPath: dump) }
        try db.export("b", to: dump)
        let npy = try NPYReader(path: dump + "/bits.npy")
        #expect(npy.descr == "|u1" && npy.rows == 1_000 && npy.columns == 3)
        try db.importDump(from: dump, into: "copy")
        #expect(try Self.all(db, "copy") == Self.all(db, "b"))
        // The keys were kept (upserted), and the copy's auto ids continue after them.
        #expect(try db.insert("copy", columns: ColumnBatch(["bits": .binaryVectors([1, 2, 3], dimension: 24)])).ids == [.int(1_001)])
    }

    @Test func exportIsASnapshotWhileWritesGoOn() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { try? db.close() }
        try db.createCollection("c", schema: Self.schema, metric: .l2)
        _ = try db.insert("c", rows: Self.rows(3_000))
        let before = try Self.all(db, "c")
        let dump = dir.path + "-dump"
        defer { try? FileManager.default.removeItem(atPath: dump) }
        var batches = 0
        try db.export("c", to: dump, batchSize: 500) { _ in
            batches += 1
            // Inserts, upserts, deletes and a flush between the batches.
            _ = try db.upsert("c", rows: [Self.rows(1, seed: UInt64(batches + 10))[0].merging(["id": .string("new\(batches)")]) { $1 }])
            _ = try db.delete("c", ids: [.string("k\(2_999 - batches)")])
            _ = try db.upsert("c", rows: [Self.rows(1, seed: 99)[0].merging(["id": .string("k\(batches * 10)")]) { $1 }])
            if batches == 3 { try db.flush("c") }
        }
        #expect(batches == 6)
        #expect(try db.importDump(from: dump, into: "copy") == 3_000)
        #expect(try Self.all(db, "copy") == before)
    }

    @Test func badInputChangesNothing() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { try? db.close() }
        try db.createCollection("v", dimension: 4, metric: .l2)
        _ = try db.insert("v", rows: [["id": 1_000_000, "vector": [1, 1, 1, 1]]])
        let base = dir.path + "-in"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        // 3 000 lines, vectors in a .npy of the wrong width: refused before any row is written.
        let lines = (0..<3_000).map { "{\"id\": \($0), \"text\": \"t\($0)\"}" }.joined(separator: "\n") + "\n"
        try lines.write(toFile: base + "/rows.jsonl", atomically: true, encoding: .utf8)
        func npy(_ name: String, rows: Int, columns: Int) throws {
            var bytes = NPYFormat.header(descr: "<f4", rows: rows, columns: columns)
            for i in 0..<(rows * columns) { withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            try Data(bytes).write(to: URL(fileURLWithPath: base + "/" + name))
        }
        try npy("wide.npy", rows: 3_000, columns: 5)
        try npy("short.npy", rows: 2_999, columns: 4)
        try npy("good.npy", rows: 3_000, columns: 4)
        func count() throws -> Value? { try db.query("v", filter: "id >= 0", outputFields: ["count(*)"])[0]["count(*)"] }
        let wide = #expect(throws: QuiverError.self) {
            try db.importJSONL(base + "/rows.jsonl", into: "v", vectors: ["vector": base + "/wide.npy"], batchSize: 1_000)
        }
        #expect(wide?.code == .dimensionMismatch)
        let short = #expect(throws: QuiverError.self) {
            try db.importJSONL(base + "/rows.jsonl", into: "v", vectors: ["vector": base + "/short.npy"], batchSize: 1_000)
        }
        #expect(short?.code == .invalidArgument)
        // A bad value in the last batch: nothing of the earlier batches is written either.
        try (lines + "{\"id\": \"not an int\"}\n").write(toFile: base + "/bad.jsonl", atomically: true, encoding: .utf8)
        try npy("good3001.npy", rows: 3_001, columns: 4)
        let bad = #expect(throws: QuiverError.self) {
            try db.importJSONL(base + "/bad.jsonl", into: "v", vectors: ["vector": base + "/good3001.npy"], batchSize: 1_000)
        }
        #expect(bad?.code == .invalidArgument && bad?.message.contains("line 3001") == true)
        try ("{\"id\": 1, \"vector\": [1, 2, 3, 4]}\n{\"id\": 2, \"vector\": [1, 2, 3]}\n")
            .write(toFile: base + "/dim.jsonl", atomically: true, encoding: .utf8)
        let dim = #expect(throws: QuiverError.self) { try db.importJSONL(base + "/dim.jsonl", into: "v", batchSize: 1) }
        #expect(dim?.code == .dimensionMismatch && dim?.message.contains("line 2") == true)
        #expect(try count() == 1)
        // The good pair goes in, dynamic fields and all.
        #expect(try db.importJSONL(base + "/rows.jsonl", into: "v", vectors: ["vector": base + "/good.npy"], batchSize: 1_000) == 3_000)
        #expect(try count() == 3_001)
        #expect(try db.get("v", ids: [2], outputFields: ["*"]) == [["id": 2, "vector": .vector([8, 9, 10, 11]), "text": "t2"]])
    }
}
