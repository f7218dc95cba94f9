/// `text_match` and `phrase_match` over one row's text: the query is analyzed once, when the
/// filter is checked, with the field's own analyzer; each row's text with the same analyzer
/// when the filter runs, so both sides have the same terms.
///
/// - `text_match(field, "a b c")`: the row's terms include any of the query's terms (Milvus's
///   semantics: OR of the terms). A query with no terms (only stop words or punctuation)
///   matches no row.
/// - `phrase_match(field, "a b c", slop)`: the phrase's terms occur in the row at positions
///   `p₀, p₁, …` (distinct) such that, with `qᵢ` the term's position in the phrase (stop words
///   keep their gaps), `max(pᵢ − qᵢ) − min(pᵢ − qᵢ) ≤ slop`: Lucene's sloppy-phrase rule, so
///   slop 0 is the exact phrase, 1 allows one extra word between two terms, and 2 allows two
///   adjacent terms swapped (Milvus's examples).
struct TextMatcher: Sendable {
    enum Mode: Sendable {
        case anyTerm(Set<String>)
        /// The phrase's terms with their positions relative to the first one.
        case phrase(terms: [String], offsets: [Int], slop: Int)
    }

    let analyzer: Analyzer
    let mode: Mode

    init(anyOf query: String, analyzer: Analyzer) {
        self.analyzer = analyzer
        mode = .anyTerm(Set(analyzer.analyze(query).map(\.text)))
    }

    init(phrase query: String, slop: Int, analyzer: Analyzer) {
        self.analyzer = analyzer
        let tokens = analyzer.analyze(query)
        let first = tokens.first?.position ?? 0
        mode = .phrase(terms: tokens.map(\.text), offsets: tokens.map { $0.position - first }, slop: slop)
    }

    /// Whether `text` matches.
    ///
    /// - Complexity: O(n) in the text for `text_match`; for a phrase, O(n + m log m) where m is
    ///   the number of occurrences of the phrase's terms.
    func matches(_ text: String) -> Bool {
        switch mode {
        case .anyTerm(let terms):
            guard !terms.isEmpty else { return false }
            return analyzer.analyze(text).contains { terms.contains($0.text) }
        case .phrase(let terms, let offsets, let slop):
            guard !terms.isEmpty else { return false }
            return Self.phraseOccurs(terms: terms, offsets: offsets, slop: slop, in: analyzer.analyze(text))
        }
    }

    /// Lucene's sloppy-phrase test: a window over the occurrences sorted by `p − q` in which
    /// every phrase term has an occurrence, spanning at most `slop`, with distinct positions.
    static func phraseOccurs(terms: [String], offsets: [Int], slop: Int, in tokens: [AnalyzerToken]) -> Bool {
        var termIndexes: [String: [Int]] = [:]
        for (i, t) in terms.enumerated() { termIndexes[t, default: []].append(i) }
        // (adjusted position, phrase index, row position) for every occurrence of a phrase term.
        var events: [(adjusted: Int, index: Int, position: Int)] = []
        for token in tokens {
            guard let indexes = termIndexes[token.text] else { continue }
            for i in indexes { events.append((token.position - offsets[i], i, token.position)) }
        }
        let k = terms.count
        guard events.count >= k else { return false }
        events.sort { ($0.adjusted, $0.index, $0.position) < ($1.adjusted, $1.index, $1.position) }
        var counts = [Int](repeating: 0, count: k)
        var covered = 0
        var left = 0
        for right in events.indices {
            if counts[events[right].index] == 0 { covered += 1 }
            counts[events[right].index] += 1
            while events[right].adjusted - events[left].adjusted > slop {
                counts[events[left].index] -= 1
                if counts[events[left].index] == 0 { covered -= 1 }
                left += 1
            }
            if covered == k && distinctChoice(events[left...right], k: k) { return true }
        }
        return false
    }

    /// Whether each phrase index can take a different row position among `window`'s occurrences
    /// (only repeated phrase terms can compete for one position).
    private static func distinctChoice(_ window: ArraySlice<(adjusted: Int, index: Int, position: Int)>, k: Int) -> Bool {
        var options = [[Int]](repeating: [], count: k)
        for e in window { options[e.index].append(e.position) }
        var used = Set<Int>()
        func assign(_ i: Int) -> Bool {
            if i == k { return true }
            for p in options[i] where !used.contains(p) {
                used.insert(p)
                if assign(i + 1) { return true }
                used.remove(p)
            }
            return false
        }
        return assign(0)
    }
}
