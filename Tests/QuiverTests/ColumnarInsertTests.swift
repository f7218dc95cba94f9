import Foundation
import Testing
@testable import Quiver

/// `insert(_:columns:partition:)` and `upsert(_:columns:partition:)` against the row insert of the same rows: the
/// same rows back, the same errors (code and message) with nothing applied, WAL replay.
@Suite struct ColumnarInsertTests {
    /// Every scalar type, nullable and defaulted fields, a 4-d float vector, dynamic fields on.
    static let schema = try! CollectionSchema(
        fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "vector", dataType: .floatVector(dimension: 4)),
            FieldSchema(name: "title", dataType: .varchar(maxLength: 8), nullable: true),
            FieldSchema(name: "small", dataType: .int8),
            FieldSchema(name: "score", dataType: .float, nullable: true),
            FieldSchema(name: "weight", dataType: .double, defaultValue: .double(0.5)),
            FieldSchema(name: "flag", dataType: .bool),
            FieldSchema(name: "meta", dataType: .json, nullable: true),
            FieldSchema(name: "tags", dataType: .array(elementType: .int64, maxCapacity: 4)),
        ],
        enableDynamicField: true)

    /// `n` rows as columns, ids from `first`, with nulls and dynamic fields.
    static func batch(_ n: Int, first: Int64 = 0, seed: UInt64 = 1) -> ColumnBatch {
        var g = SeededGenerator(seed: seed)
        let ids = (0..<Int64(n)).map { first + $0 }
        return ColumnBatch([
            "id": .int64(ids),
            "vector": .floatVectors((0..<n * 4).map { _ in Float.random(in: -1...1, using: &g) }, dimension: 4),
            "title": .strings(ids.map { "t\($0 % 1000)" }, nulls: ids.map { $0 % 3 == 0 }),
            "small": .int64(ids.map { $0 % 100 - 50 }),
            "score": .floats(ids.map { Float($0) / 7 }, nulls: ids.map { $0 % 5 == 0 }),
            "weight": .doubles(ids.map { Double($0) * 1.5 }, nulls: ids.map { $0 % 4 == 0 }),
            "flag": .bools(ids.map { $0 % 2 == 0 }),
            "meta": .values(ids.map { $0 % 6 == 0 ? .null : .object(["k": .int($0), "s": .string("x\($0)")]) }),
            "tags": .values(ids.map { .array([.int($0), .int($0 + 1)]) }),
            "extra": .int64(ids.map { $0 * 10 }),
        ])
    }

    static func open(_ dir: TemporaryDirectory, _ durability: Durability = .none) throws -> Database {
        try Database.open(at: dir.path, options: quietOptions(durability))
    }

    static func all(_ db: Database, _ name: String) throws -> [Row] {
        try db.query(name, limit: maxTopK, outputFields: ["*"]).sorted { ($0["id"]?.intValue ?? 0) < ($1["id"]?.intValue ?? 0) }
    }

    @Test func columnsGiveTheRowsARowInsertGives() throws {
        let dir = TemporaryDirectory()
        let db = try Self.open(dir)
        defer { try? db.close() }
        try db.createCollection("rows", schema: Self.schema, metric: .l2)
        try db.createCollection("cols", schema: Self.schema, metric: .l2)
        let batch = Self.batch(500)
        let byRows = try db.insert("rows", rows: try batch.rows())
        let byColumns = try db.insert("cols", columns: batch)
        #expect(byRows == byColumns)
        let expected = try Self.all(db, "rows")
        #expect(expected.count == 500)
        #expect(try Self.all(db, "cols") == expected)
        // A null weight took the default; a null title stayed null; the dynamic field is there.
        #expect(expected[0]["weight"] == .double(0.5) && expected[0]["title"] == .null && expected[0]["extra"] == .int(0))
        let q: [[Float]] = [[0.1, 0.2, -0.3, 0.4], [1, 0, 0, 0]]
        #expect(try db.search("cols", vectors: q, limit: 20, filter: "flag and small > -20", outputFields: ["*"])
            == db.search("rows", vectors: q, limit: 20, filter: "flag and small > -20", outputFields: ["*"]))
        // After a flush the sealed segments agree too.
        try db.flush("rows")
        try db.flush("cols")
        #expect(try Self.all(db, "cols") == expected)
    }

    @Test func halfAndBinaryVectorsAndAutoID() throws {
        let dir = TemporaryDirectory()
        let db = try Self.open(dir)
        defer { try? db.close() }
        for type in [DataType.float16Vector(dimension: 3), .bfloat16Vector(dimension: 3), .binaryVector(dimension: 16)] {
            let schema = try CollectionSchema(fields: [
                FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true, autoID: true),
                FieldSchema(name: "v", dataType: type),
            ])
            let metric: MetricType = type.isBinaryVector ? .hamming : .l2
            try db.createCollection("rows", schema: schema, metric: metric)
            try db.createCollection("cols", schema: schema, metric: metric)
            let batch = ColumnBatch([
                "v": type.isBinaryVector
                    ? .binaryVectors([0xFF, 0x01, 0x80, 0x00], dimension: 16)
                    : .floatVectors([0.1, 0.2, 0.3, 1e-3, 2.5, -7.125], dimension: 3),
            ])
            #expect(try db.insert("cols", columns: batch).ids == [.int(1), .int(2)])
            _ = try db.insert("rows", rows: try batch.rows())
            #expect(try Self.all(db, "cols") == Self.all(db, "rows"))
            if type.isBinaryVector {
                #expect(try db.search("cols", binaryVectors: [[0xFF, 0]], limit: 2) == db.search("rows", binaryVectors: [[0xFF, 0]], limit: 2))
            } else {
                #expect(try db.search("cols", vectors: [[0, 0, 1]], limit: 2) == db.search("rows", vectors: [[0, 0, 1]], limit: 2))
            }
            try db.dropCollection("rows")
            try db.dropCollection("cols")
        }
    }

    /// Bad batches: each throws what the same rows throw in a row insert (code and message, or
    /// for a batch that is not rows at all, `.invalidArgument`), and nothing is applied.
    @Test func badColumnsAreTypedErrorsAndApplyNothing() throws {
        let dir = TemporaryDirectory()
        let db = try Self.open(dir)
        defer { try? db.close() }
        try db.createCollection("c", schema: Self.schema, metric: .l2)
        _ = try db.insert("c", columns: Self.batch(10, first: 1000))
        func with(_ name: String, _ column: FieldColumn?) -> ColumnBatch {
            var b = Self.batch(10)
            b[name] = column
            return b
        }
        let asRows: [(String, ColumnBatch, QuiverError.Code)] = [
            ("wrong dimension", with("vector", .floatVectors([Float](repeating: 0, count: 30), dimension: 3)), .dimensionMismatch),
            ("NaN", with("vector", .floatVectors([Float](repeating: .nan, count: 40), dimension: 4)), .invalidArgument),
            ("infinity", with("vector", .floatVectors((0..<40).map { $0 == 37 ? .infinity : 0 }, dimension: 4)), .invalidArgument),
            ("int8 out of range", with("small", .int64((0..<10).map { $0 == 7 ? 300 : 0 })), .invalidArgument),
            ("varchar too long", with("title", .strings((0..<10).map { $0 == 2 ? "much too long" : "a" })), .invalidArgument),
            ("null in a non-nullable field", with("flag", .bools([Bool](repeating: true, count: 10), nulls: (0..<10).map { $0 == 4 })), .invalidArgument),
            ("float overflow", with("score", .doubles([Double](repeating: 1e300, count: 10))), .invalidArgument),
            ("wrong type", with("flag", .strings([String](repeating: "yes", count: 10))), .invalidArgument),
            ("json bytes", with("meta", .values([Value](repeating: .bytes([1]), count: 10))), .invalidArgument),
            ("array over capacity", with("tags", .values([Value](repeating: .array([1, 2, 3, 4, 5]), count: 10))), .invalidArgument),
            ("missing required field", with("flag", nil), .invalidArgument),
            ("reserved $meta", with("$meta", .values([Value](repeating: .object([:]), count: 10))), .invalidArgument),
            ("dynamic bytes", with("extra", .values([Value](repeating: .bytes([1]), count: 10))), .invalidArgument),
            ("key repeated", with("id", .int64([1, 2, 3, 4, 5, 6, 7, 8, 9, 1])), .invalidArgument),
            ("key taken", with("id", .int64((0..<10).map { 1005 + $0 })), .alreadyExists),
        ]
        for (label, batch, code) in asRows {
            let fromColumns = Self.error { _ = try db.insert("c", columns: batch) }
            let fromRows = Self.error { _ = try db.insert("c", rows: try batch.rows()) }
            #expect(fromColumns?.code == code, "\(label): \(String(describing: fromColumns))")
            #expect(fromColumns?.message == fromRows?.message, "\(label)")
        }
        let notRows: [(String, ColumnBatch)] = [
            ("lengths differ", with("small", .int64([1, 2]))),
            ("vector column not whole vectors", with("vector", .floatVectors([Float](repeating: 0, count: 41), dimension: 4))),
            ("null mask of another length", with("title", .strings([String](repeating: "a", count: 10), nulls: [true]))),
        ]
        for (label, batch) in notRows {
            #expect(Self.error { _ = try db.insert("c", columns: batch) }?.code == .invalidArgument, "\(label)")
            #expect(Self.error { _ = try db.upsert("c", columns: batch) }?.code == .invalidArgument, "\(label)")
        }
        #expect(try db.query("c", filter: "id >= 0", outputFields: ["count(*)"]) == [["count(*)": 10]])
        // Unknown fields when dynamic fields are off; a generated key given.
        let strict = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true, autoID: true),
            FieldSchema(name: "v", dataType: .floatVector(dimension: 2)),
        ])
        try db.createCollection("s", schema: strict, metric: .l2)
        let unknown = ColumnBatch(["v": .floatVectors([1, 2], dimension: 2), "zzz": .int64([1])])
        let keyGiven = ColumnBatch(["id": .int64([5]), "v": .floatVectors([1, 2], dimension: 2)])
        for batch in [unknown, keyGiven] {
            let e = Self.error { _ = try db.insert("s", columns: batch) }
            #expect(e?.code == .invalidArgument && e?.message == Self.error { _ = try db.insert("s", rows: try batch.rows()) }?.message)
        }
        #expect(try db.query("s", filter: "id >= 0", outputFields: ["count(*)"]) == [["count(*)": 0]])
    }

    static func error(_ body: () throws -> Void) -> QuiverError? {
        do { try body() } catch let e as QuiverError { return e } catch { Issue.record("\(error)") }
        return nil
    }

    @Test func upsertColumnsReplaces() throws {
        let dir = TemporaryDirectory()
        let db = try Self.open(dir)
        defer { try? db.close() }
        try db.createCollection("c", schema: Self.schema, metric: .l2)
        try db.createCollection("r", schema: Self.schema, metric: .l2)
        _ = try db.insert("c", columns: Self.batch(100))
        _ = try db.insert("r", columns: Self.batch(100))
        try db.flush("c")
        try db.flush("r")
        let second = Self.batch(100, first: 50, seed: 2)
        #expect(try db.upsert("c", columns: second).upsertCount == 100)
        _ = try db.upsert("r", rows: try second.rows())
        let rows = try Self.all(db, "c")
        #expect(rows.count == 150)
        #expect(rows == (try Self.all(db, "r")))
        #expect(rows[60]["vector"] == second.columns["vector"]!.value(at: 10))
    }

    /// Columns go to the partition given, as rows do: an upsert moves a row to its partition,
    /// an unknown partition is `.notFound` and a partition given to a collection with a
    /// partition key is `.invalidArgument`, with nothing applied; the routing survives a reopen.
    @Test func columnsGoToTheirPartition() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Self.open(dir, .always)
            try db.createCollection("c", schema: Self.schema, metric: .l2)
            try db.createPartition("c", partition: "p")
            _ = try db.collection("c").insert(columns: Self.batch(10), partition: "p")
            _ = try db.insert("c", columns: Self.batch(5, first: 10))
            _ = try db.upsert("c", columns: Self.batch(2, first: 10, seed: 3), partition: "p")
            #expect(Self.error { _ = try db.insert("c", columns: Self.batch(1, first: 99), partition: "nope") }?.code == .notFound)
            let keyed = try CollectionSchema(fields: [
                FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
                FieldSchema(name: "v", dataType: .floatVector(dimension: 2)),
                FieldSchema(name: "tenant", dataType: .varchar(maxLength: 8), isPartitionKey: true),
            ], numPartitions: 4)
            try db.createCollection("k", schema: keyed, metric: .l2)
            let one = ColumnBatch(["id": .int64([1]), "v": .floatVectors([1, 2], dimension: 2), "tenant": .strings(["a"])])
            #expect(Self.error { _ = try db.insert("k", columns: one, partition: "_default_0") }?.code == .invalidArgument)
            #expect(try db.query("k", filter: "id >= 0", outputFields: ["count(*)"]) == [["count(*)": 0]])
            db.abandonForTesting()
        }
        let db = try Self.open(dir)
        defer { try? db.close() }
        func ids(_ partitions: [String]) throws -> [Int64] {
            try db.query("c", limit: 100, partitions: partitions).compactMap { $0["id"]?.intValue }.sorted()
        }
        #expect(try ids(["p"]) == Array(0...11))
        #expect(try ids(["_default"]) == Array(12...14))
        #expect(try db.query("c", filter: "id >= 0", outputFields: ["count(*)"]) == [["count(*)": 15]])
    }

    /// Rows inserted as columns and never flushed come back from the WAL after a crash, with
    /// `.always` and `.batched` (the crash is of the process: what was written is in the files).
    @Test(arguments: [Durability.always, .batched])
    func columnsSurviveACrash(_ durability: Durability) throws {
        let dir = TemporaryDirectory()
        var expected = [Row]()
        do {
            let db = try Self.open(dir, durability)
            try db.createCollection("c", schema: Self.schema, metric: .l2)
            _ = try db.insert("c", columns: Self.batch(300))
            _ = try db.upsert("c", columns: Self.batch(20, first: 290, seed: 9))
            _ = try db.delete("c", ids: [1, 2])
            expected = try Self.all(db, "c")
            db.abandonForTesting()
        }
        let db = try Self.open(dir)
        #expect(expected.count == 308)
        #expect(try Self.all(db, "c") == expected)
        // The generated keys continue after replay.
        let auto = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true, autoID: true),
            FieldSchema(name: "v", dataType: .floatVector(dimension: 2)),
        ])
        try db.createCollection("a", schema: auto, metric: .l2)
        _ = try db.insert("a", columns: ColumnBatch(["v": .floatVectors([1, 2, 3, 4], dimension: 2)]))
        db.abandonForTesting()
        let again = try Self.open(dir)
        defer { try? again.close() }
        #expect(try again.insert("a", columns: ColumnBatch(["v": .floatVectors([5, 6], dimension: 2)])).ids == [.int(3)])
    }
}
