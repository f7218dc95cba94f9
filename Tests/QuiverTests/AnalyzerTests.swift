import Foundation
import Testing
@testable import Quiver

/// Analyzers: UAX #29 word segmentation, the Snowball English stemmer against the published
/// vocabulary, Milvus's `analyzer_params` shapes, the schema's analyzer settings (validated,
/// persisted) and `Database.analyze`.
@Suite struct AnalyzerTests {
    static func texts(_ analyzer: Analyzer, _ text: String) -> [String] { analyzer.analyze(text).map(\.text) }

    @Test func standardTokenizerFollowsWordBoundaries() throws {
        let standard = Analyzer.standard
        #expect(Self.texts(standard, "Hello, World! It's 3.14 or 1,000.") == ["hello", "world", "it's", "3.14", "or", "1,000"])
        // Letters and digits across '.', ':' and '_' (WB6/7, WB11/12, WB13a/b); a final period is punctuation.
        #expect(Self.texts(standard, "U.S.A. e.g. foo_bar x:y mmap.enabled efConstruction") ==
            ["u.s.a", "e.g", "foo_bar", "x:y", "mmap.enabled", "efconstruction"])
        // A hyphen, slash or two middle characters in a row break words.
        #expect(Self.texts(standard, "e-mail a/b 1..2 don''t") == ["e", "mail", "a", "b", "1", "2", "don", "t"])
        // Letters with combining marks stay whole (WB4); each ideograph is a token; Katakana runs join.
        #expect(Self.texts(standard, "cafe\u{301} naïve 東京 タワー ひらがな") == ["cafe\u{301}", "naïve", "東", "京", "タワー", "ひ", "ら", "が", "な"])
        // Punctuation-only and underscore-only segments are not tokens.
        #expect(Self.texts(standard, "--- ___ ... !?") == [])
        #expect(Self.texts(standard, "") == [])
    }

    @Test func tokensCarryPositionsAndByteOffsets() throws {
        let text = "Über the café"
        let tokens = try Analyzer(params: ["type": "english"]).analyze(text)
        // "the" is a stop word: dropped, but its position stays taken.
        #expect(tokens.map(\.text) == ["über", "café"])
        #expect(tokens.map(\.position) == [0, 2])
        let utf8 = Array(text.utf8)
        #expect(tokens.map { String(decoding: utf8[$0.startOffset..<$0.endOffset], as: UTF8.self) } == ["Über", "café"])
    }

    @Test func whitespaceTokenizerKeepsPunctuationAndCase() throws {
        let whitespace = try Analyzer(params: ["tokenizer": "whitespace"])
        #expect(Self.texts(whitespace, "  Hello,\tworld!\n\u{3000}x-y  ") == ["Hello,", "world!", "x-y"])
        let lowered = try Analyzer(params: ["tokenizer": ["type": "whitespace"], "filter": ["lowercase"]])
        #expect(Self.texts(lowered, "HNSW Index") == ["hnsw", "index"])
    }

    /// Word → stem pairs from the Snowball English vocabulary (snowballstem/snowball-data,
    /// `english/voc.txt` and `output.txt`), chosen to reach every step, and the algorithm's
    /// listed exceptions.
    static let stemPairs: [(String, String)] = [
        ("abandoned", "abandon"), ("abandonment", "abandon"), ("abasement", "abas"), ("abbreviation", "abbrevi"),
        ("abdominal", "abdomin"), ("abed", "abe"), ("abeyance", "abey"), ("abhorred", "abhor"), ("abhorrence", "abhorr"),
        ("abilities", "abil"), ("able", "abl"), ("ablutions", "ablut"), ("abnormally", "abnorm"), ("abolition", "abolit"),
        ("abominably", "abomin"), ("above", "abov"), ("absence", "absenc"), ("absolutely", "absolut"),
        ("absorption", "absorpt"), ("abstractedly", "abstract"), ("absurdities", "absurd"), ("abundantly", "abund"),
        ("abysses", "abyss"), ("academy", "academi"), ("accessories", "accessori"), ("accidental", "accident"),
        ("accidents", "accid"), ("accompanied", "accompani"), ("accountabilities", "account"), ("accuracy", "accuraci"),
        ("acknowledgement", "acknowledg"), ("acquittal", "acquitt"), ("acquitted", "acquit"), ("acrimoniously", "acrimoni"),
        ("actuated", "actuat"), ("adas", "ada"), ("added", "ad"), ("adding", "ad"), ("adds", "add"), ("addled", "addl"),
        ("administering", "administ"), ("administration", "administr"), ("admiralty", "admiralti"),
        ("admonitory", "admonitori"), ("advantageously", "advantag"), ("adios", "adio"), ("meekly", "meek"),
        ("meekness", "meek"), ("melancholy", "melancholi"), ("mellifluousness", "melliflu"), ("melodramatic", "melodramat"),
        ("memorable", "memor"), ("mercifully", "merci"), ("merrily", "merrili"), ("mesmerism", "mesmer"),
        ("metalliferous", "metallifer"), ("methodically", "method"), ("mews", "mew"), ("michell", "michel"),
        ("mightily", "mightili"), ("mindedness", "minded"), ("mining", "mine"), ("miscalled", "miscal"),
        ("misdeed", "misde"), ("misled", "misl"), ("mistakenly", "mistaken"), ("misrepresentations", "misrepresent"),
        ("misrepresenting", "misrepres"), ("mistrustfully", "mistrust"), ("ministration", "ministr"),
        // The algorithm's exceptions and region prefixes.
        ("skies", "sky"), ("dying", "die"), ("news", "news"), ("only", "onli"), ("andes", "andes"), ("succeed", "succeed"),
        ("inning", "inning"), ("generate", "generat"), ("ties", "tie"), ("cries", "cri"), ("gas", "gas"), ("gaps", "gap"), ("by", "by"),
    ]

    @Test func englishStemmerMatchesTheSnowballVocabulary() {
        for (word, stem) in Self.stemPairs {
            #expect(EnglishStemmer.stem(word) == stem, "stem(\(word))")
        }
    }

    @Test func milvusParameterShapes() throws {
        let english = try Analyzer(params: ["type": "english"])
        #expect(Self.texts(english, "The runners were RUNNING into the connections") == ["runner", "were", "run", "connect"])
        // The custom spelling of the same analyzer (Milvus documents `english` as this).
        let custom = try Analyzer(params: [
            "tokenizer": "standard",
            "filter": ["lowercase", ["type": "stemmer", "language": "english"], ["type": "stop", "stop_words": ["_english_"]]],
        ])
        #expect(custom == english)
        #expect(try Analyzer(params: nil) == .standard)
        #expect(try Analyzer(params: ["type": "standard"]) == .standard)
        let stops = try Analyzer(params: ["type": "standard", "stop_words": ["of", "the"]])
        #expect(Self.texts(stops, "The speed of light") == ["speed", "light"])
        let short = try Analyzer(params: ["tokenizer": "standard", "filter": [["type": "length", "max": 3], "stemmer"]])
        #expect(Self.texts(short, "a cat sat quietly") == ["a", "cat", "sat"])
    }

    @Test func badParametersAreTypedErrors() {
        let invalid: [Value] = [
            "english", ["type": 3], ["type": "english", "filter": ["lowercase"]], ["filter": ["lowercase"]],
            ["tokenizer": 7], ["tokenizer": "standard", "filter": "lowercase"], ["tokenizer": "standard", "filter": [["language": "english"]]],
            ["tokenizer": "standard", "filter": [["type": "stop"]]], ["tokenizer": "standard", "filter": [["type": "stop", "stop_words": [1]]]],
            ["tokenizer": "standard", "filter": [["type": "length", "max": 0]]], ["tokenizer": "standard", "extra": true],
        ]
        for params in invalid {
            #expect(throws: QuiverError.self, "\(params)") { try Analyzer(params: params) }
            do { _ = try Analyzer(params: params) } catch let e as QuiverError { #expect(e.code == .invalidArgument, "\(params)") } catch {}
        }
        let unsupported: [Value] = [
            ["type": "chinese"], ["tokenizer": "jieba"], ["tokenizer": "standard", "filter": ["asciifolding"]],
            ["tokenizer": "standard", "filter": [["type": "stemmer", "language": "french"]]],
        ]
        for params in unsupported {
            do {
                _ = try Analyzer(params: params)
                Issue.record("accepted \(params)")
            } catch let e as QuiverError {
                #expect(e.code == .unsupported, "\(params)")
            } catch { Issue.record("\(error)") }
        }
    }

    static func textSchema(params: Value? = ["type": "english"]) throws -> CollectionSchema {
        try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)),
            FieldSchema(name: "text", dataType: .varchar(maxLength: 1000), enableAnalyzer: true, analyzerParams: params, enableMatch: true),
            FieldSchema(name: "title", dataType: .varchar(maxLength: 100)),
        ])
    }

    @Test func schemaValidatesAndPersistsAnalyzerSettings() throws {
        let schema = try Self.textSchema()
        #expect(schema.analyzer(for: "text") == (try Analyzer(params: ["type": "english"])))
        #expect(schema.analyzer(for: "title") == nil)
        let json = schema.jsonValue
        #expect(try CollectionSchema(json: json) == schema)
        guard case .object(let o) = json, case .array(let fields) = o["fields"], case .object(let text) = fields[2] else {
            Issue.record("schema JSON shape")
            return
        }
        #expect(text["enable_analyzer"] == true && text["enable_match"] == true && text["analyzer_params"] == ["type": "english"])

        let bad: [FieldSchema] = [
            FieldSchema(name: "n", dataType: .int64, enableAnalyzer: true),
            FieldSchema(name: "n", dataType: .varchar(maxLength: 10), enableMatch: true),
            FieldSchema(name: "n", dataType: .varchar(maxLength: 10), analyzerParams: ["type": "english"]),
            FieldSchema(name: "n", dataType: .varchar(maxLength: 10), enableAnalyzer: true, analyzerParams: ["type": 1]),
        ]
        for field in bad {
            #expect(throws: QuiverError.self) {
                try CollectionSchema(fields: [
                    FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
                    FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)), field,
                ])
            }
        }
    }

    @Test func databaseAnalyzeUsesTheFieldsAnalyzerAcrossReopen() throws {
        let dir = try TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            try db.createCollection("docs", schema: try Self.textSchema(), metric: .l2)
            try db.close()
        }
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { try? db.close() }
        #expect(try db.describeCollection("docs").schema == (try Self.textSchema()))
        let tokens = try db.analyze("docs", field: "text", texts: ["Indexes are rebuilt", ""])
        #expect(tokens.map { $0.map(\.text) } == [["index", "rebuilt"], []])
        #expect(try db.analyze(["Indexes are rebuilt"]).map { $0.map(\.text) } == [["indexes", "are", "rebuilt"]])
        #expect(throws: QuiverError.self) { try db.analyze("docs", field: "title", texts: ["x"]) }
        #expect(throws: QuiverError.self) { try db.analyze("docs", field: "nope", texts: ["x"]) }
        #expect(throws: QuiverError.self) { try db.analyze("nope", field: "text", texts: ["x"]) }
    }
}
