import Foundation
import Testing
@testable import Quiver

/// `text_match` and `phrase_match` in filters: the phrase rule on hand-made token lists, and the
/// filters through query, search and delete over growing and sealed rows, with expected ids
/// typed in from reading the texts.
@Suite struct TextMatchTests {
    static func tokens(_ words: [String?]) -> [AnalyzerToken] {
        words.enumerated().compactMap { i, w in w.map { AnalyzerToken(text: $0, position: i, startOffset: 0, endOffset: 0) } }
    }

    @Test func phraseSlopFollowsLucene() {
        func occurs(_ phrase: [String], _ slop: Int, _ words: [String?], offsets: [Int]? = nil) -> Bool {
            TextMatcher.phraseOccurs(terms: phrase, offsets: offsets ?? Array(phrase.indices), slop: slop, in: Self.tokens(words))
        }
        let ml = ["machine", "learning"]
        #expect(occurs(ml, 0, ["machine", "learning", "boosts"]))
        #expect(!occurs(ml, 0, ["machine", "deep", "learning"]))
        #expect(occurs(ml, 1, ["machine", "deep", "learning"]))
        #expect(!occurs(ml, 1, ["learning", "machine"]))
        #expect(occurs(ml, 2, ["learning", "machine"]))
        #expect(occurs(ml, 2, ["x", "learning", "machine"]))
        #expect(!occurs(ml, 5, ["machine", "machine"]))
        // A repeated term needs two occurrences.
        #expect(!occurs(["new", "new"], 3, ["new", "york"]))
        #expect(occurs(["new", "new"], 0, ["a", "new", "new"]))
        // A stop word's gap in the phrase is kept: "speed _ light" needs one word between.
        #expect(occurs(["speed", "light"], 0, ["speed", nil, "light"], offsets: [0, 2]))
        #expect(!occurs(["speed", "light"], 0, ["speed", "light"], offsets: [0, 2]))
        #expect(occurs(["a", "b", "c"], 1, ["a", "b", "x", "c"]))
        #expect(!occurs(["a", "b", "c"], 1, ["a", "x", "b", "x", "c"]))
    }

    static let schema = try! CollectionSchema(fields: [
        FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
        FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)),
        FieldSchema(name: "text", dataType: .varchar(maxLength: 1000), nullable: true, enableAnalyzer: true,
                    analyzerParams: ["type": "english"], enableMatch: true),
        FieldSchema(name: "plain", dataType: .varchar(maxLength: 1000), nullable: true),
    ])

    static let texts: [Int64: String?] = [
        1: "Machine learning boosts efficiency",
        2: "Machine deep learning models",
        3: "Learning machines in robotics",
        4: "HNSW indexes are built per segment",
        5: "The IVF index probes nprobe lists",
        6: nil,
        7: "The speed of light",
    ]

    static func ids(_ db: Database, _ filter: String) throws -> [Int64] {
        try db.query("docs", filter: filter, outputFields: ["id"]).compactMap { $0["id"]?.intValue }.sorted()
    }

    @Test(arguments: [false, true])
    func filtersMatchAnalyzedTerms(sealed: Bool) throws {
        let dir = try TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { try? db.close() }
        try db.createCollection("docs", schema: Self.schema, metric: .l2)
        _ = try db.insert("docs", rows: Self.texts.map { id, text in
            ["id": .int(id), "vector": .vector([Float(id), 0]), "text": text.map(Value.string) ?? .null, "plain": text.map(Value.string) ?? .null]
        })
        if sealed { try db.flush("docs") }

        // Any term, after the English analyzer: "indexing" and "index" and "indexes" share a stem.
        #expect(try Self.ids(db, #"text_match(text, "indexing")"#) == [4, 5])
        #expect(try Self.ids(db, #"text_match(text, "robotics efficiency")"#) == [1, 3])
        #expect(try Self.ids(db, #"TEXT_MATCH(text, "MACHINE")"#) == [1, 2, 3])
        #expect(try Self.ids(db, #"text_match(text, "the of")"#) == [])  // only stop words: no terms
        // Null text is unknown: neither matched nor matched by its negation.
        #expect(try Self.ids(db, #"not text_match(text, "machine")"#) == [4, 5, 7])
        #expect(try Self.ids(db, #"text_match(text, "machine") and id > 1"#) == [2, 3])

        #expect(try Self.ids(db, #"phrase_match(text, "machine learning")"#) == [1])
        #expect(try Self.ids(db, #"phrase_match(text, "machine learning", 1)"#) == [1, 2])
        #expect(try Self.ids(db, #"phrase_match(text, "machine learning", 2)"#) == [1, 2, 3])
        #expect(try Self.ids(db, #"phrase_match(text, "speed of light")"#) == [7])
        #expect(try Self.ids(db, #"phrase_match(text, "speed light")"#) == [])

        let hits = try db.search("docs", vectors: [[5, 0]], limit: 3, filter: #"text_match(text, "index")"#)
        #expect(hits[0].map(\.id) == [.int(5), .int(4)])
        let params: [String: Value] = ["q": "segment"]
        #expect(try db.query("docs", filter: "text_match(text, {q})", filterParams: params, outputFields: ["id"]).map { $0["id"] } == [.int(4)])
        #expect(try db.delete("docs", filter: #"phrase_match(text, "deep learning")"#).deleteCount == 1)
        #expect(try Self.ids(db, #"text_match(text, "learning")"#) == [1, 3])
    }

    @Test func badCallsAreTypedErrors() throws {
        let dir = try TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { try? db.close() }
        try db.createCollection("docs", schema: Self.schema, metric: .l2)
        let cases: [(String, QuiverError.Code)] = [
            (#"text_match(plain, "x")"#, .invalidArgument),
            (#"text_match(nope, "x")"#, .filterSyntax),
            (#"text_match(text)"#, .filterSyntax),
            (#"text_match(text, 3)"#, .filterSyntax),
            (#"text_match(text, "a", 1)"#, .filterSyntax),
            (#"phrase_match(text, "a", -1)"#, .filterSyntax),
            (#"phrase_match(text, "a", "b")"#, .filterSyntax),
        ]
        for (filter, code) in cases {
            do {
                _ = try db.query("docs", filter: filter)
                Issue.record("accepted \(filter)")
            } catch let e as QuiverError {
                #expect(e.code == code, "\(filter): \(e)")
            }
        }
    }
}
