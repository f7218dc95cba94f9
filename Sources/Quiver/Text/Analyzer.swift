/// Splits text into the terms that full-text search indexes and matches: a tokenizer followed
/// by filters, configured with Milvus's `analyzer_params`.
///
/// The same analyzer turns a `varchar` field's text into terms when a row is inserted and a
/// query's text into terms when it is searched or matched, so both sides always agree.
///
/// ```swift
/// let english = try Analyzer(params: ["type": "english"])
/// english.analyze("The runners were running").map(\.text)     // ["runner", "were", "run"]
/// let custom = try Analyzer(params: [
///     "tokenizer": "standard",
///     "filter": ["lowercase", ["type": "stop", "stop_words": ["of", "the"]], ["type": "stemmer", "language": "english"]],
/// ])
/// ```
///
/// Parameters, as Milvus documents them:
/// - built-in analyzers, `{"type": "standard"}` (standard tokenizer, `lowercase`) and
///   `{"type": "english"}` (standard tokenizer, `lowercase`, English `stemmer`, `stop` with
///   `_english_`), each with an optional `"stop_words"` list (for `english` it replaces the
///   default list);
/// - custom analyzers, `{"tokenizer": T, "filter": [F, …]}`: `T` is `"standard"` (Unicode word
///   segmentation, UAX #29) or `"whitespace"` (split at white space), as a string or
///   `{"type": T}`; each filter is `"lowercase"`, `"stemmer"` (English), `{"type": "stop",
///   "stop_words": [...]}` (`"_english_"` in the list stands for Lucene's 33 English stop words),
///   `{"type": "stemmer", "language": "english"}` or `{"type": "length", "max": N}` (drops
///   tokens longer than N characters), applied in order.
///
/// No parameters means `{"type": "standard"}`, Milvus's default. Other tokenizers (`jieba`,
/// `lindera`, `icu`) and languages are `.unsupported`.
public struct Analyzer: Sendable, Hashable {
    /// How text is cut into tokens.
    public enum Tokenizer: String, Sendable, Hashable {
        /// Unicode word boundaries (UAX #29), as Lucene's and tantivy's standard tokenizers:
        /// letters and digits joined by `_`, apostrophes and periods inside words (`can't`,
        /// `3.14`) stay one token, each ideograph is a token, punctuation is dropped.
        case standard
        /// Maximal runs of characters that are not white space.
        case whitespace
    }

    /// A step applied to each token after the tokenizer, in order.
    public enum Filter: Sendable, Hashable {
        /// Unicode lower-casing.
        case lowercase
        /// Drops tokens in the set (compared after the filters before it).
        case stop(Set<String>)
        /// The Snowball English stemmer (Porter2): `running` → `run`, `connections` → `connect`.
        case englishStemmer
        /// Drops tokens longer than this many characters.
        case maxLength(Int)
    }

    /// The tokenizer.
    public let tokenizer: Tokenizer
    /// The filters, in the order they apply.
    public let filters: [Filter]

    /// Lucene's English stop words (`EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`), the list Milvus's
    /// `_english_` stands for.
    public static let englishStopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
        "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
        "will", "with",
    ]

    /// Milvus's default analyzer: the standard tokenizer and lower-casing.
    public static let standard = Analyzer(tokenizer: .standard, filters: [.lowercase])

    /// An analyzer from its parts.
    public init(tokenizer: Tokenizer, filters: [Filter]) {
        self.tokenizer = tokenizer
        self.filters = filters
    }

    /// An analyzer from Milvus's `analyzer_params` (a JSON object; `nil` for the default).
    ///
    /// - Throws: `.invalidArgument` for a malformed parameter (an unknown key, a wrong type, a
    ///   filter without a type); `.unsupported` for a tokenizer, filter or language Quiver lacks.
    public init(params: Value?) throws {
        guard let params, !params.isNull else {
            self = .standard
            return
        }
        guard case .object(let o) = params else {
            throw QuiverError.invalidArgument("analyzer_params must be a JSON object, such as {\"type\": \"english\"}")
        }
        if let type = o["type"] {
            guard let name = type.stringValue else { throw QuiverError.invalidArgument("analyzer_params \"type\" must be a string") }
            try Self.checkKeys(o, allowed: ["type", "stop_words"], what: "the \(name) analyzer")
            let extra = try o["stop_words"].map { try Self.stopWords($0) }
            switch name {
            case "standard":
                self.init(tokenizer: .standard, filters: [.lowercase] + (extra.map { [.stop($0)] } ?? []))
            case "english":
                self.init(tokenizer: .standard, filters: [.lowercase, .englishStemmer, .stop(extra ?? Self.englishStopWords)])
            default:
                throw QuiverError(.unsupported, "analyzer type \"\(name)\" is not supported; use \"standard\" or \"english\", or a custom tokenizer and filters")
            }
            return
        }
        try Self.checkKeys(o, allowed: ["tokenizer", "filter"], what: "a custom analyzer")
        let tokenizerName: String
        switch o["tokenizer"] {
        case nil: throw QuiverError.invalidArgument("analyzer_params needs a \"type\" or a \"tokenizer\"")
        case .string(let s)?: tokenizerName = s
        case .object(let t)?:
            try Self.checkKeys(t, allowed: ["type"], what: "the tokenizer")
            guard let s = t["type"]?.stringValue else { throw QuiverError.invalidArgument("the tokenizer needs a \"type\" string") }
            tokenizerName = s
        default: throw QuiverError.invalidArgument("\"tokenizer\" must be a name or an object with a \"type\"")
        }
        guard let tokenizer = Tokenizer(rawValue: tokenizerName) else {
            throw QuiverError(.unsupported, "tokenizer \"\(tokenizerName)\" is not supported; use \"standard\" or \"whitespace\"")
        }
        var filters: [Filter] = []
        switch o["filter"] {
        case nil: break
        case .array(let items)?: filters = try items.map(Self.filter)
        default: throw QuiverError.invalidArgument("\"filter\" must be a list of filters")
        }
        self.init(tokenizer: tokenizer, filters: filters)
    }

    /// The tokens of `text`, in order: each with its position (the tokenizer's count, so a
    /// dropped stop word leaves a gap, as in Lucene) and its UTF-8 byte offsets in `text`.
    ///
    /// - Complexity: O(n) in the length of `text`.
    public func analyze(_ text: String) -> [AnalyzerToken] {
        let utf8 = Array(text.utf8)
        let ranges: [Range<Int>]
        switch tokenizer {
        case .standard: ranges = WordBreak.words(text)
        case .whitespace: ranges = Self.whitespaceRuns(text)
        }
        var out: [AnalyzerToken] = []
        out.reserveCapacity(ranges.count)
        tokens: for (position, range) in ranges.enumerated() {
            var term = String(decoding: utf8[range], as: UTF8.self)
            for filter in filters {
                switch filter {
                case .lowercase: term = term.lowercased()
                case .stop(let words): if words.contains(term) { continue tokens }
                case .englishStemmer: term = EnglishStemmer.stem(term)
                case .maxLength(let n): if term.count > n { continue tokens }
                }
            }
            out.append(AnalyzerToken(text: term, position: position, startOffset: range.lowerBound, endOffset: range.upperBound))
        }
        return out
    }

    /// The terms of `text` (the tokens' texts), in order.
    public func terms(_ text: String) -> [String] { analyze(text).map(\.text) }

    private static func whitespaceRuns(_ text: String) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start: Int?
        var offset = 0
        for s in text.unicodeScalars {
            // ASCII without the property table lookup (U+0009–U+000D and U+0020 are its White_Space).
            if s.isASCII ? s.value == 0x20 || (0x09...0x0D).contains(s.value) : s.properties.isWhitespace {
                if let st = start { out.append(st..<offset); start = nil }
            } else if start == nil {
                start = offset
            }
            offset += UTF8.width(s)
        }
        if let st = start { out.append(st..<offset) }
        return out
    }

    private static func filter(_ item: Value) throws -> Filter {
        let name: String
        var o: [String: Value] = [:]
        switch item {
        case .string(let s): name = s
        case .object(let obj):
            guard let s = obj["type"]?.stringValue else { throw QuiverError.invalidArgument("a filter object needs a \"type\" string") }
            name = s
            o = obj
        default: throw QuiverError.invalidArgument("a filter must be a name or an object with a \"type\"")
        }
        switch name {
        case "lowercase":
            try checkKeys(o, allowed: ["type"], what: "the lowercase filter")
            return .lowercase
        case "stop":
            try checkKeys(o, allowed: ["type", "stop_words"], what: "the stop filter")
            guard let words = o["stop_words"] else { throw QuiverError.invalidArgument("the stop filter needs \"stop_words\"") }
            return .stop(try stopWords(words))
        case "stemmer":
            try checkKeys(o, allowed: ["type", "language"], what: "the stemmer filter")
            let language = o["language"]?.stringValue ?? "english"
            guard language.lowercased() == "english" else {
                throw QuiverError(.unsupported, "stemmer language \"\(language)\" is not supported; use \"english\"")
            }
            return .englishStemmer
        case "length":
            try checkKeys(o, allowed: ["type", "max"], what: "the length filter")
            guard let max = o["max"]?.intValue, max >= 1, let n = Int(exactly: max) else {
                throw QuiverError.invalidArgument("the length filter needs a positive integer \"max\"")
            }
            return .maxLength(n)
        default:
            throw QuiverError(.unsupported, "filter \"\(name)\" is not supported; use lowercase, stop, stemmer or length")
        }
    }

    /// A stop word list: strings, where `_english_` stands for ``englishStopWords``.
    private static func stopWords(_ value: Value) throws -> Set<String> {
        guard case .array(let items) = value else { throw QuiverError.invalidArgument("\"stop_words\" must be a list of strings") }
        var out = Set<String>()
        for item in items {
            guard let word = item.stringValue else { throw QuiverError.invalidArgument("\"stop_words\" must be a list of strings") }
            if word == "_english_" { out.formUnion(englishStopWords) } else { out.insert(word) }
        }
        return out
    }

    private static func checkKeys(_ o: [String: Value], allowed: Set<String>, what: String) throws {
        if let key = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw QuiverError.invalidArgument("unknown key \"\(key)\" in \(what)'s parameters; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }
}

/// One token of analyzed text.
public struct AnalyzerToken: Sendable, Hashable, Codable {
    /// The term, after the analyzer's filters.
    public var text: String
    /// The token's index in the tokenizer's output (stop words and dropped tokens leave gaps).
    public var position: Int
    /// The UTF-8 byte offset where the token starts in the analyzed text.
    public var startOffset: Int
    /// The UTF-8 byte offset just past the token's end.
    public var endOffset: Int

    /// A token.
    public init(text: String, position: Int, startOffset: Int, endOffset: Int) {
        self.text = text
        self.position = position
        self.startOffset = startOffset
        self.endOffset = endOffset
    }
}
