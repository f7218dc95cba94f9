import Testing
@testable import Quiver

/// The filter table through the public API: growing segment, sealed segment, after reopen.
@Suite struct FilterDatabaseTests {
    static func openWithData(_ dir: TemporaryDirectory) throws -> Database {
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("t", schema: FilterTestData.schema, metric: .l2)
        _ = try db.insert("t", rows: FilterTestData.rows)
        return db
    }

    static func ids(_ rows: [Row]) -> [Int64] {
        rows.compactMap { $0["id"]?.intValue }.sorted()
    }

    /// Runs every table case through `query` and `count(*)`; returns the failures.
    static func runTable(_ db: Database, stage: String) throws {
        for c in FilterTable.cases {
            let rows = try db.query("t", filter: c.expression, filterParams: c.params, outputFields: ["id"])
            #expect(ids(rows) == c.ids, "\(stage): \(c.expression)")
            let count = try db.query("t", filter: c.expression, filterParams: c.params, outputFields: ["count(*)"])
            #expect(count == [["count(*)": .int(Int64(c.ids.count))]], "\(stage) count(*): \(c.expression)")
        }
        for c in FilterTable.errors where !c.strict {
            do {
                _ = try db.query("t", filter: c.expression, filterParams: c.params, outputFields: ["id"])
                Issue.record("\(stage): expected an error for \(c.expression)")
            } catch let error as QuiverError {
                #expect(error.code == c.code && error.message.contains(c.message), "\(stage): \(c.expression): \(error)")
            }
        }
    }

    @Test func tableBeforeAndAfterFlushAndReopen() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Self.openWithData(dir)
            try Self.runTable(db, stage: "growing")
            try db.flush("t")
            try Self.runTable(db, stage: "sealed")
            try db.close()
        }
        let db = try Database.open(at: dir.path, options: quietOptions())
        try Self.runTable(db, stage: "reopened")
        try db.close()
    }

    @Test func tableAcrossSealedAndGrowingSegments() throws {
        // Rows 1-5 sealed, 6-10 growing: results must combine both.
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("t", schema: FilterTestData.schema, metric: .l2)
        _ = try db.insert("t", rows: Array(FilterTestData.rows[..<5]))
        try db.flush("t")
        _ = try db.insert("t", rows: Array(FilterTestData.rows[5...]))
        try Self.runTable(db, stage: "mixed")
        try db.close()
    }

    @Test func deleteAndSearchUseTheFilter() throws {
        let dir = TemporaryDirectory()
        let db = try Self.openWithData(dir)
        try db.flush("t")
        // Pre-filtered search: only matching rows, and as many as match.
        let hits = try db.search("t", vectors: [[0, 0]], limit: 10, filter: "color in {c}", filterParams: ["c": ["red", "blue"]])
        #expect(hits[0].compactMap { $0.id.intValue }.sorted() == [1, 2, 4, 6, 10])
        // Delete by filter (sealed rows), then the filter sees only live rows.
        let deleted = try db.delete("t", filter: #"meta["lang"] == "en""#)
        #expect(deleted.deleteCount == 3)
        #expect(Self.ids(try db.query("t", filter: "id > 0", outputFields: ["id"])) == [2, 4, 5, 6, 7, 8, 10])
        #expect(try db.query("t", filter: "age > 20", outputFields: ["count(*)"]) == [["count(*)": 5]])
        #expect(throws: QuiverError.self) { try db.delete("t", filter: "age >") }
        try db.close()
    }

    /// The examples of the Filtering DocC article, compiled and run.
    @Test func docExamplesRun() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("products", schema: try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "vector", dataType: .floatVector(dimension: 3)),
            FieldSchema(name: "title", dataType: .varchar(maxLength: 64)),
            FieldSchema(name: "name", dataType: .varchar(maxLength: 64)),
            FieldSchema(name: "price", dataType: .double),
            FieldSchema(name: "color", dataType: .varchar(maxLength: 16)),
            FieldSchema(name: "age", dataType: .int64, nullable: true),
            FieldSchema(name: "meta", dataType: .json),
            FieldSchema(name: "tags", dataType: .array(elementType: .varchar(maxLength: 8), maxCapacity: 4)),
        ]), metric: .l2)
        _ = try db.insert("products", rows: [
            ["id": 1, "vector": [0.1, 0.2, 0.3], "title": "a", "name": "tmp_1", "price": 150, "color": "red", "age": 20,
             "meta": ["lang": "en"], "tags": ["sale"]],
            ["id": 2, "vector": [0.3, 0.2, 0.1], "title": "b", "name": "tmpX", "price": 50, "color": "blue", "age": 40,
             "meta": ["lang": "en"], "tags": ["old"]],
        ])

        let rows = try db.query(
            "products",
            filter: #"price > {min} AND color IN {colors} AND meta["lang"] == "en""#,
            filterParams: ["min": 100, "colors": ["red", "blue"]],
            outputFields: ["title"])

        let count = try db.query("products", filter: "18 < age <= 30", outputFields: ["count(*)"])

        let hits = try db.search("products", vectors: [[0.1, 0.2, 0.3]], limit: 5,
                                 filter: #"array_contains_any(tags, ["sale", "new"])"#)

        _ = try db.delete("products", filter: #"name LIKE "tmp\_%""#)

        #expect(rows.compactMap { $0["id"]?.intValue } == [1])
        #expect(count == [["count(*)": 1]])
        #expect(hits[0].compactMap { $0.id.intValue } == [1])
        #expect(try db.query("products", filter: "id > 0", outputFields: ["id"]).compactMap { $0["id"]?.intValue } == [2])
        try db.close()
    }
}
