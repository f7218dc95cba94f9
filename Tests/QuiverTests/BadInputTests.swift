import Testing
@testable import Quiver

/// Bad calls through every public entry point: each a typed error whose message says what to
/// fix, and the stored data unchanged afterwards.
@Suite struct BadInputTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var code: QuiverError.Code
        var mentions: String
        var call: @Sendable (Database) throws -> Void
        var description: String { name }
    }

    static let v: Value = .vector([0.1, 0.2, 0.3])

    static let cases: [Case] = [
        Case(name: "wrong dimension", code: .dimensionMismatch, mentions: "dimensions") {
            _ = try $0.insert("c", rows: [["id": 100, "vector": [1, 2]]])
        },
        Case(name: "NaN component", code: .invalidArgument, mentions: "NaN") {
            _ = try $0.insert("c", rows: [["id": 100, "vector": .vector([1, .nan, 2])]])
        },
        Case(name: "infinite component", code: .invalidArgument, mentions: "infinite") {
            _ = try $0.insert("c", rows: [["id": 100, "vector": .vector([1, .infinity, 2])]])
        },
        Case(name: "wrong type", code: .invalidArgument, mentions: "expected an integer") {
            _ = try $0.insert("c", rows: [["id": 100, "vector": v, "n": "seven"]])
        },
        Case(name: "oversized string", code: .invalidArgument, mentions: "max_length 8") {
            _ = try $0.insert("c", rows: [["id": 100, "vector": v, "s": "much too long"]])
        },
        Case(name: "oversized array", code: .invalidArgument, mentions: "max_capacity 2") {
            _ = try $0.insert("c", rows: [["id": 100, "vector": v, "tags": [1, 2, 3]]])
        },
        Case(name: "unknown field", code: .invalidArgument, mentions: "unknown field 'zzz'") {
            _ = try $0.insert("c", rows: [["id": 100, "vector": v, "zzz": 1]])
        },
        Case(name: "missing field", code: .invalidArgument, mentions: "missing field 'vector'") {
            _ = try $0.insert("c", rows: [["id": 100]])
        },
        Case(name: "duplicate keys in one call", code: .invalidArgument, mentions: "more than once") {
            _ = try $0.insert("c", rows: [["id": 100, "vector": v], ["id": 100, "vector": v]])
        },
        Case(name: "duplicate keys in one upsert", code: .invalidArgument, mentions: "more than once") {
            _ = try $0.upsert("c", rows: [["id": 1, "vector": v], ["id": 1, "vector": v]])
        },
        Case(name: "existing key", code: .alreadyExists, mentions: "primary key 1") {
            _ = try $0.insert("c", rows: [["id": 100, "vector": v], ["id": 1, "vector": v]])
        },
        Case(name: "wrong key type", code: .invalidArgument, mentions: "int64") {
            _ = try $0.get("c", ids: ["one"])
        },
        Case(name: "empty collection name", code: .invalidArgument, mentions: "empty") {
            try $0.createCollection("", dimension: 3)
        },
        Case(name: "malformed collection name", code: .invalidArgument, mentions: "letters, digits") {
            try $0.createCollection("my collection", dimension: 3)
        },
        Case(name: "existing collection", code: .alreadyExists, mentions: "already exists") {
            try $0.createCollection("c", dimension: 3)
        },
        Case(name: "zero dimension", code: .invalidArgument, mentions: "dimension") {
            try $0.createCollection("d", dimension: 0)
        },
        Case(name: "limit 0", code: .invalidArgument, mentions: "limit") {
            _ = try $0.search("c", vectors: [[1, 2, 3]], limit: 0)
        },
        Case(name: "limit over 16384", code: .invalidArgument, mentions: "16384") {
            _ = try $0.search("c", vectors: [[1, 2, 3]], limit: 16_385)
        },
        Case(name: "query limit over 16384", code: .invalidArgument, mentions: "16384") {
            _ = try $0.query("c", limit: 20_000)
        },
        Case(name: "query without filter, ids or limit", code: .invalidArgument, mentions: "needs a filter") {
            _ = try $0.query("c")
        },
        Case(name: "unknown output field", code: .invalidArgument, mentions: "unknown output field 'nope'") {
            _ = try $0.query("c", limit: 1, outputFields: ["nope"])
        },
        Case(name: "query vector dimension", code: .dimensionMismatch, mentions: "dimensions") {
            _ = try $0.search("c", vectors: [[1, 2]], limit: 1)
        },
        Case(name: "query vector NaN", code: .invalidArgument, mentions: "NaN") {
            _ = try $0.search("c", vectors: [[1, .nan, 2]], limit: 1)
        },
        Case(name: "metric mismatch", code: .invalidArgument, mentions: "differs") {
            _ = try $0.search("c", vectors: [[1, 2, 3]], limit: 1, metric: .ip)
        },
        Case(name: "unknown collection", code: .notFound, mentions: "'nope' does not exist") {
            _ = try $0.insert("nope", rows: [["id": 1, "vector": v]])
        },
        Case(name: "delete without ids or filter", code: .invalidArgument, mentions: "ids or a filter") {
            _ = try $0.delete("c")
        },
        Case(name: "rename to an invalid name", code: .invalidArgument, mentions: "must start") {
            try $0.renameCollection("c", to: "9lives")
        },
    ]

    func makeDatabase(_ dir: TemporaryDirectory) throws -> Database {
        let db = try Database.open(at: dir.path, options: quietOptions())
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "vector", dataType: .floatVector(dimension: 3)),
            FieldSchema(name: "n", dataType: .int32, nullable: true),
            FieldSchema(name: "s", dataType: .varchar(maxLength: 8), nullable: true),
            FieldSchema(name: "tags", dataType: .array(elementType: .int64, maxCapacity: 2), nullable: true),
        ])
        try db.createCollection("c", schema: schema, metric: .l2)
        _ = try db.insert("c", rows: (1...5).map { ["id": .int(Int64($0)), "vector": .vector([1, 2, Float($0)])] })
        try db.flush("c")
        _ = try db.insert("c", rows: [["id": 6, "vector": [0, 0, 0], "s": "six"]])
        return db
    }

    @Test(arguments: cases)
    func badCallIsATypedErrorAndChangesNothing(_ c: Case) throws {
        let dir = TemporaryDirectory()
        let db = try makeDatabase(dir)
        let before = try db.query("c", limit: 100, outputFields: ["*"])
        #expect {
            try c.call(db)
        } throws: { error in
            guard let e = error as? QuiverError else { return false }
            return e.code == c.code && e.message.contains(c.mentions)
        }
        #expect(try db.query("c", limit: 100, outputFields: ["*"]) == before)
        #expect(try db.listCollections() == ["c"])
        try db.close()
    }

    @Test func closedDatabaseAndDroppedCollection() throws {
        let dir = TemporaryDirectory()
        let db = try makeDatabase(dir)
        try db.dropCollection("c")
        #expect { try db.insert("c", rows: [["id": 1, "vector": Self.v]]) } throws: {
            ($0 as? QuiverError)?.code == .notFound
        }
        try db.close()
        #expect { try db.listCollections() } throws: { ($0 as? QuiverError)?.code == .closed }
        #expect { try db.search("c", vectors: [[1, 2, 3]]) } throws: { ($0 as? QuiverError)?.code == .closed }
    }
}
