import Foundation
import Testing
@testable import Quiver

/// BM25 full-text search against an independent BM25 computed here from the raw texts (words
/// split at spaces: the texts are lower-case ASCII words, which the standard analyzer keeps as
/// they are), with collection-wide statistics over the live rows: the same scores before and
/// after flush, compaction and reopen, and with deletes, upserts, filters and k1/b set.
@Suite struct BM25Tests {
    static let vocabulary = (0..<40).map { "w\($0)" } + ["alpha", "beta", "gamma", "delta", "index", "segment"]

    /// The model: live documents by id, their words.
    struct Model {
        var docs: [Int64: [String]] = [:]
        var k1 = 1.2
        var b = 0.75

        /// The top `k` (id, score) for `query` among rows passing `allowed`, best first (ties by id).
        func top(_ query: String, k: Int, allowed: (Int64) -> Bool = { _ in true }) -> [(Int64, Double)] {
            let withTerms = docs.filter { !$0.value.isEmpty }
            let n = Double(withTerms.count)
            let avgdl = Double(withTerms.values.reduce(0) { $0 + $1.count }) / n
            var counts: [String: Double] = [:]
            var order: [String] = []
            for w in query.split(separator: " ").map(String.init) {
                if counts[w] == nil { order.append(w) }
                counts[w, default: 0] += 1
            }
            let df = Dictionary(uniqueKeysWithValues: order.map { term in (term, Double(withTerms.values.filter { $0.contains(term) }.count)) })
            var scores: [(Int64, Double)] = []
            for (id, words) in docs where allowed(id) {
                var score = 0.0
                var matched = false
                for term in order {
                    let tf = Double(words.filter { $0 == term }.count)
                    guard tf > 0 else { continue }
                    matched = true
                    let df = df[term]!
                    let idf = log(1 + (n - df + 0.5) / (df + 0.5))
                    score += counts[term]! * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * Double(words.count) / avgdl))
                }
                if matched { scores.append((id, score)) }
            }
            scores.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            return Array(scores.prefix(k))
        }
    }

    static func schema(functions: [FunctionSchema]? = nil, params: Value? = nil) throws -> CollectionSchema {
        try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)),
            FieldSchema(name: "text", dataType: .varchar(maxLength: 2000), nullable: true, enableAnalyzer: true, analyzerParams: params),
            FieldSchema(name: "sparse", dataType: .sparseFloatVector),
        ], functions: functions ?? [FunctionSchema(name: "bm25", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"])])
    }

    /// Seeded texts: 0–14 words, skewed toward the first words of the vocabulary.
    struct Texts {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func text() -> String {
            let n = Int(next() % 15)
            return (0..<n).map { _ in
                let r = Double(next() % 10_000) / 10_000
                return BM25Tests.vocabulary[Int(r * r * Double(BM25Tests.vocabulary.count))]
            }.joined(separator: " ")
        }
    }

    static let queries = ["w0", "w1 w5 index", "alpha beta gamma", "w3 w3 segment", "w17 w30 w2 delta", "nothing"]

    /// Each query's hits as (id, score).
    static func search(_ db: Database, _ filter: String = "", limit: Int = 10) throws -> [[(Int64, Float)]] {
        try db.search("docs", texts: queries, limit: limit, filter: filter, annsField: "sparse").map { hits in
            hits.map { ($0.id.intValue!, $0.distance) }
        }
    }

    /// The engine's hits equal the model's: the same ids in the same order (ties broken by
    /// storage order there, by id in the model, so tied scores are compared as sets) and scores
    /// within Float rounding.
    static func expectMatches(_ got: [[(Int64, Float)]], _ model: Model, allowed: (Int64) -> Bool = { _ in true }, limit: Int = 10,
                              queries: [String] = queries, sourceLocation: SourceLocation = #_sourceLocation) {
        for (q, hits) in got.enumerated() {
            let want = model.top(queries[q], k: limit, allowed: allowed)
            #expect(hits.count == want.count, "query \(queries[q])", sourceLocation: sourceLocation)
            for (h, w) in zip(hits, want) {
                #expect(abs(Double(h.1) - w.1) <= 1e-5 * max(1, w.1), "query \(queries[q]): \(h) vs \(w)", sourceLocation: sourceLocation)
            }
            // Same ids, compared by score groups (equal model scores may come in either order).
            let gotIDs = Set(hits.map(\.0)), wantIDs = Set(want.map(\.0))
            let boundary = want.last?.1
            let strict = Set(want.filter { $0.1 != boundary }.map(\.0))
            #expect(strict.isSubset(of: gotIDs), "query \(queries[q]): \(hits) vs \(want)", sourceLocation: sourceLocation)
            #expect(gotIDs.count == wantIDs.count, sourceLocation: sourceLocation)
        }
    }

    /// The same scores to the bit, in the same order, and the same rows for each score (rows with
    /// equal scores come in storage order, which a flush or compaction changes; at the cut-off
    /// score, which of the tied rows made the list may change too).
    static func same(_ a: [[(Int64, Float)]], _ b: [[(Int64, Float)]]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            guard x.map(\.1) == y.map(\.1) else { return false }
            let cut = x.last?.1
            return Set(x.filter { $0.1 != cut }.map(\.0)) == Set(y.filter { $0.1 != cut }.map(\.0))
        }
    }

    static func row(_ id: Int64, _ text: String?) -> Row {
        ["id": .int(id), "vector": .vector([Float(id), 0]), "text": text.map(Value.string) ?? .null]
    }

    /// A dump leaves the BM25 output out (an insert refuses it) and its import computes it again:
    /// the imported collection answers with the same scores.
    @Test func exportAndImportKeepTheScores() throws {
        var texts = Texts(state: 29)
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let db = try Database.open(at: dir.path + "/a", options: quietOptions())
        try db.createCollection("docs", schema: try Self.schema(), metric: .l2)
        _ = try db.insert("docs", rows: (0..<300).map { Self.row($0, $0 % 17 == 0 ? nil : texts.text()) })
        try db.flush("docs")
        _ = try db.insert("docs", rows: (300..<400).map { Self.row($0, texts.text()) })
        let want = try Self.search(db)
        try db.export("docs", to: dir.path + "/dump")
        let rows = try String(contentsOfFile: dir.path + "/dump/rows.jsonl", encoding: .utf8)
        #expect(!rows.contains("\"sparse\"") && rows.contains("\"text\""))
        let other = try Database.open(at: dir.path + "/b", options: quietOptions())
        #expect(try other.importDump(from: dir.path + "/dump") == 400)
        #expect(Self.same(try Self.search(other), want))
        try db.close()
        try other.close()
    }

    @Test func scoresMatchAnIndependentBM25AndSurviveFlushCompactionAndReopen() throws {
        var texts = Texts(state: 18)
        var model = Model()
        let dir = try TemporaryDirectory()
        var db = try Database.open(at: dir.path, options: manualCompactionOptions())
        try db.createCollection("docs", schema: try Self.schema(), metric: .l2)

        var rows: [Row] = []
        for id in Int64(0)..<200 {
            let text = id % 37 == 0 ? nil : texts.text()
            rows.append(Self.row(id, text))
            model.docs[id] = (text ?? "").split(separator: " ").map(String.init)
        }
        _ = try db.insert("docs", rows: Array(rows[..<120]))
        try db.flush("docs")
        _ = try db.insert("docs", rows: Array(rows[120...]))
        let first = try Self.search(db)
        Self.expectMatches(first, model)
        // A flush moves the growing rows into a segment: every score stays the same, to the bit.
        try db.flush("docs")
        #expect(Self.same(try Self.search(db), first))

        // Deletes and upserts change the statistics (deleted rows leave N, df and avgdl).
        _ = try db.delete("docs", ids: (0..<200).filter { $0 % 5 == 0 }.map { .int(Int64($0)) })
        for id in Int64(0)..<200 where id % 5 == 0 { model.docs[id] = nil }
        var upserts: [Row] = []
        for id in Int64(1)..<200 where id % 7 == 1 {
            let text = texts.text()
            upserts.append(Self.row(id, text))
            model.docs[id] = text.split(separator: " ").map(String.init)
        }
        _ = try db.upsert("docs", rows: upserts)
        let second = try Self.search(db)
        Self.expectMatches(second, model)
        // A filter narrows the rows ranked, not the statistics.
        Self.expectMatches(try Self.search(db, "id < 100"), model, allowed: { $0 < 100 })
        Self.expectMatches(try Self.search(db, "id >= 50", limit: 30), model, allowed: { $0 >= 50 }, limit: 30)

        try db.flush("docs")
        #expect(try db.compact("docs"))
        #expect(Self.same(try Self.search(db), second))
        try db.close()
        db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { try? db.close() }
        #expect(try db.collectionStats("docs").segmentCount == 1)
        #expect(Self.same(try Self.search(db), second))
        #expect(try db.describeCollection("docs").schema == (try Self.schema()))
    }

    @Test func k1AndBComeFromTheIndexParameters() throws {
        var texts = Texts(state: 7)
        var model = Model()
        let dir = try TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { try? db.close() }
        try db.createCollection("docs", schema: try Self.schema(), metric: .l2)
        let rows = (Int64(0)..<80).map { id -> Row in
            let text = texts.text()
            model.docs[id] = text.split(separator: " ").map(String.init)
            return Self.row(id, text)
        }
        _ = try db.insert("docs", rows: rows)
        try db.flush("docs")
        #expect(throws: QuiverError.self) {
            try db.createIndex("docs", field: "sparse", type: .sparseInvertedIndex, params: ["bm25_b": 1.5])
        }
        try db.createIndex("docs", field: "sparse", type: .sparseInvertedIndex, params: ["bm25_k1": 1.6, "bm25_b": 0.4])
        try db.waitForIndexBuilds("docs")
        model.k1 = 1.6
        model.b = 0.4
        Self.expectMatches(try Self.search(db), model)

        // A sparse field without a BM25 function takes no BM25 parameters.
        try db.createCollection("plain", schema: try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true), FieldSchema(name: "sparse", dataType: .sparseFloatVector),
        ]), metric: .ip)
        #expect(throws: QuiverError.self) {
            try db.createIndex("plain", field: "sparse", type: .sparseInvertedIndex, params: ["bm25_k1": 1.6])
        }
    }

    @Test func theOutputFieldIsComputedFromTheText() throws {
        let dir = try TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { try? db.close() }
        try db.createCollection("docs", schema: try Self.schema(params: ["type": "english"]), metric: .l2)
        do {
            _ = try db.insert("docs", rows: [Self.row(1, "x").merging(["sparse": .sparse(try SparseVector([1: 1]))]) { a, _ in a }])
            Issue.record("a row carrying the function's output was accepted")
        } catch let e as QuiverError {
            #expect(e.code == .invalidArgument && e.message.contains("computed by BM25 function 'bm25'"))
        }
        _ = try db.insert("docs", rows: [Self.row(1, "Running runners run; the index indexes"), Self.row(2, nil)])
        _ = try db.insert("docs", columns: ColumnBatch([
            "id": .int64([3, 4]), "vector": .floatVectors([3, 0, 4, 0], dimension: 2),
            "text": .strings(["Running runners run; the index indexes", ""]),
        ]))
        let stored = try db.get("docs", ids: [1, 2, 3, 4], outputFields: ["sparse"])
        func weights(_ row: Row) -> [Float] {
            guard case .sparse(let v)? = row["sparse"] else { return [-1] }
            return v.values.sorted()
        }
        // english: run ×2 (running, run), runner, index ×2 (index, indexes); "the" is a stop word.
        #expect(stored.map(weights) == [[1, 2, 2], [], [1, 2, 2], []])
        let hits = try db.search("docs", texts: ["runs", "the"], limit: 5)  // the BM25 field, though the schema has two
        #expect(Set(hits[0].map(\.id)) == [.int(1), .int(3)] && hits[0][0].distance == hits[0][1].distance && hits[0][0].distance > 0)
        #expect(hits[1].isEmpty)  // only a stop word: no terms, no matches

        #expect(throws: QuiverError.self) { try db.search("docs", sparseVectors: [try SparseVector([1: 1])], annsField: "sparse") }
        #expect(throws: QuiverError.self) { try db.search("docs", texts: ["x"], annsField: "vector") }
        var range = SearchOptions()
        range.radius = 0.5
        #expect(throws: QuiverError.self) { try db.search("docs", texts: ["x"], annsField: "sparse", options: range) }
    }

    @Test func functionsAreValidatedAndPersisted() throws {
        let schema = try Self.schema()
        #expect(try CollectionSchema(json: schema.jsonValue) == schema)
        let bad: [[FunctionSchema]] = [
            [FunctionSchema(name: "f", type: .bm25, inputFieldNames: ["vector"], outputFieldNames: ["sparse"])],
            [FunctionSchema(name: "f", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["vector"])],
            [FunctionSchema(name: "f", type: .bm25, inputFieldNames: ["text", "text"], outputFieldNames: ["sparse"])],
            [FunctionSchema(name: "f", type: .bm25, inputFieldNames: ["nope"], outputFieldNames: ["sparse"])],
            [FunctionSchema(name: "f", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"], params: ["k": 1])],
            [FunctionSchema(name: "f", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"]),
             FunctionSchema(name: "g", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"])],
            [FunctionSchema(name: "9f", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"])],
        ]
        for functions in bad {
            #expect(throws: QuiverError.self, "\(functions)") { try Self.schema(functions: functions) }
        }
        // The input must be analyzed.
        #expect(throws: QuiverError.self) {
            try CollectionSchema(fields: [
                FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
                FieldSchema(name: "text", dataType: .varchar(maxLength: 10)),
                FieldSchema(name: "sparse", dataType: .sparseFloatVector),
            ], functions: [FunctionSchema(name: "f", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"])])
        }
    }

    /// Many rows over a skewed vocabulary, so that frequent terms have long lists with repeated
    /// frequencies and MaxScore prunes most rows: the top `k` still equals the model's for small
    /// and large `k` and for a query of 70 terms, over several segments (one growing), with deletes and a filter, and again
    /// after reopening with a `SPARSE_INVERTED_INDEX` (whose lists the search then reads).
    @Test func prunedSearchEqualsTheModelOnALargerCorpus() throws {
        var g = Texts(state: 1818)
        let words = (0..<300).map { "t\($0)" }
        // Zipf-like: word i with probability ∝ 1 / (i + 1), by inverting the cumulative weights.
        let cumulative = (0..<words.count).reduce(into: [Double]()) { c, i in c.append((c.last ?? 0) + 1 / Double(i + 1)) }
        func word() -> String {
            let r = Double(g.next() % 1_000_000) / 1_000_000 * cumulative.last!
            return words[cumulative.firstIndex { $0 >= r } ?? words.count - 1]
        }
        var model = Model()
        let rows = (Int64(0)..<2_000).map { id -> Row in
            let text = (0..<(1 + Int(g.next() % 30))).map { _ in word() }.joined(separator: " ")
            model.docs[id] = text.split(separator: " ").map(String.init)
            return Self.row(id, text)
        }
        let queries = (0..<24).map { q -> String in
            // Frequent words, rare words and mixes; a repeated word weighs twice.
            let n = 1 + q % 6
            return (0..<n).map { i in i % 2 == 0 ? word() : words[Int(g.next() % UInt64(words.count))] }.joined(separator: " ")
        } + ["t0 t1 t2", "t0 t299", "t5 t5 t7", words[100..<170].joined(separator: " ")]  // the last: 70 terms
        let dir = try TemporaryDirectory()
        var db = try Database.open(at: dir.path, options: manualCompactionOptions())
        try db.createCollection("docs", schema: try Self.schema(), metric: .l2)
        _ = try db.insert("docs", rows: Array(rows[..<900]))
        try db.flush("docs")
        _ = try db.insert("docs", rows: Array(rows[900..<1_700]))
        try db.flush("docs")
        _ = try db.insert("docs", rows: Array(rows[1_700...]))
        _ = try db.delete("docs", ids: (0..<2_000).filter { $0 % 11 == 3 }.map { .int(Int64($0)) })
        for id in Int64(0)..<2_000 where id % 11 == 3 { model.docs[id] = nil }

        func check(_ db: Database, sourceLocation: SourceLocation = #_sourceLocation) throws {
            for limit in [1, 10, 100] {
                let got = try db.search("docs", texts: queries, limit: limit, annsField: "sparse").map { $0.map { ($0.id.intValue!, $0.distance) } }
                Self.expectMatches(got, model, limit: limit, queries: queries, sourceLocation: sourceLocation)
            }
            let filtered = try db.search("docs", texts: queries, limit: 10, filter: "id % 3 == 0", annsField: "sparse")
            Self.expectMatches(filtered.map { $0.map { ($0.id.intValue!, $0.distance) } }, model, allowed: { $0 % 3 == 0 }, queries: queries,
                               sourceLocation: sourceLocation)
        }
        try check(db)
        try db.flush("docs")
        try db.createIndex("docs", field: "sparse", type: .sparseInvertedIndex)
        try db.waitForIndexBuilds("docs")
        try db.close()
        db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { try? db.close() }
        try check(db)
    }
}
