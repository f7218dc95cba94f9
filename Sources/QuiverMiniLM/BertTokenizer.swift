import Foundation

/// BERT uncased WordPiece tokenizer, as all-MiniLM-L6-v2's `tokenizer.json` describes it.
///
/// The pipeline mirrors Hugging Face `tokenizers` (`BertNormalizer`, `BertPreTokenizer`,
/// `WordPiece`, `TemplateProcessing`):
/// 1. clean text: drop U+0000, U+FFFD and control/format/private-use scalars
///    (except tab, CR, LF); every White_Space scalar becomes a space;
/// 2. put spaces around CJK ideographs;
/// 3. strip accents: canonical decomposition (NFD), then drop nonspacing marks (Mn);
/// 4. lowercase (full per-scalar mapping, no context);
/// 5. split on whitespace (dropped) and punctuation (each punctuation scalar is its own word);
/// 6. WordPiece: greedy longest-match-first with `##` continuation prefix; a word that has more
///    than 100 scalars, or that cannot be fully covered, becomes `[UNK]`;
/// 7. `[CLS]` ... `[SEP]`, truncated to `maxTokens` including the two specials.
///
/// Everything works on Unicode scalars and UTF-8 bytes, never on `Character`s or `String`
/// equality (which is canonical equivalence and would, for example, match Hangul jamo to
/// precomposed syllables where the reference tokenizer does not).
///
/// ```swift
/// let tok = try BertTokenizer(vocabURL: dir.appendingPathComponent("vocab.txt"))
/// tok.encode("Héllo, world!")   // [101, 7592, 1010, 2088, 999, 102]
/// ```
public struct BertTokenizer: Sendable {
    /// Token id of `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]` in this vocabulary.
    public let padID: Int32, unkID: Int32, clsID: Int32, sepID: Int32
    /// The maximum number of tokens `encode` returns, `[CLS]` and `[SEP]` included.
    public let maxTokens: Int
    /// Words longer than this many scalars become `[UNK]` (`max_input_chars_per_word`).
    public let maxInputCharsPerWord = 100

    private let vocab: [[UInt8]: Int32]
    private let tokens: [String]
    private let longestToken: Int
    private let specialLiterals: [([UInt8], Int32)]

    /// Loads `vocab.txt` (one token per line; the line number is the id).
    ///
    /// - Throws: `.modelNotFound` if the file is absent, `.corruption` if it lacks a special token.
    public init(vocabURL: URL, maxTokens: Int = 256) throws {
        let data: Data
        do {
            data = try Data(contentsOf: vocabURL)
        } catch {
            if !FileManager.default.fileExists(atPath: vocabURL.path) {
                throw MiniLMError.modelNotFound("\(vocabURL.path) does not exist")
            }
            throw MiniLMError(.io, "cannot read \(vocabURL.path): \(error.localizedDescription)")
        }
        try self.init(vocabData: data, maxTokens: maxTokens)
    }

    /// Builds a tokenizer from the bytes of a `vocab.txt`.
    ///
    /// - Throws: `.invalidArgument` when `maxTokens` < 2; `.corruption` when the vocabulary lacks
    ///   a special token (`[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`).
    public init(vocabData: Data, maxTokens: Int = 256) throws {
        guard maxTokens >= 2 else { throw MiniLMError(.invalidArgument, "maxTokens must be at least 2") }
        var vocab: [[UInt8]: Int32] = [:]
        var tokens: [String] = []
        var longest = 0
        let bytes = [UInt8](vocabData)
        var lineStart = 0
        var i = 0
        func addLine(_ end: Int) {
            var e = end
            if e > lineStart && bytes[e - 1] == 13 { e -= 1 }  // tolerate CRLF
            let token = Array(bytes[lineStart..<e])
            // The first occurrence wins, as in the Rust reader's HashMap insert order.
            if vocab[token] == nil { vocab[token] = Int32(tokens.count) }
            tokens.append(String(decoding: token, as: UTF8.self))
            longest = max(longest, token.count)
        }
        while i < bytes.count {
            if bytes[i] == 10 { addLine(i); lineStart = i + 1 }
            i += 1
        }
        if lineStart < bytes.count { addLine(bytes.count) }
        func special(_ s: String) throws -> Int32 {
            guard let id = vocab[Array(s.utf8)] else {
                throw MiniLMError(.corruption, "vocab.txt lacks the special token \(s)")
            }
            return id
        }
        self.vocab = vocab
        self.tokens = tokens
        self.longestToken = longest
        self.maxTokens = maxTokens
        self.padID = try special("[PAD]")
        self.unkID = try special("[UNK]")
        self.clsID = try special("[CLS]")
        self.sepID = try special("[SEP]")
        self.specialLiterals = try ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map { (Array($0.utf8), try special($0)) }
    }

    /// The number of tokens in the vocabulary.
    public var vocabularySize: Int { tokens.count }

    /// The vocabulary entry for `id` (for debugging and tests).
    public func token(for id: Int32) -> String { tokens[Int(id)] }

    /// Token ids for `text`: `[CLS]`, the WordPiece ids, `[SEP]`, truncated to ``maxTokens``.
    ///
    /// - Complexity: O(n · w) for n scalars and longest word length w (≤ 100).
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [clsID]
        appendIDs(of: text, to: &ids, limit: maxTokens - 1)
        if ids.count > maxTokens - 1 { ids.removeSubrange((maxTokens - 1)...) }
        ids.append(sepID)
        return ids
    }

    /// The token ids without `[CLS]`/`[SEP]` and without truncation.
    public func encodeWithoutSpecialTokens(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        appendIDs(of: text, to: &ids, limit: .max)
        return ids
    }

    /// Appends the ids of `text` until `ids` holds at least `limit` entries.
    ///
    /// The special tokens written literally in the text (`[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`,
    /// `[MASK]`: `tokenizer.json`'s `added_tokens`, all `normalized: false`) are matched on the
    /// raw text first, case-sensitively, and map straight to their ids; the text between them
    /// goes through the normalizer, pre-tokenizer and WordPiece.
    func appendIDs(of text: String, to ids: inout [Int32], limit: Int) {
        var segmentStart = text.utf8.startIndex
        var i = segmentStart
        let utf8 = text.utf8
        while i < utf8.endIndex {
            if utf8[i] == UInt8(ascii: "["), let (token, end) = specialToken(in: utf8, at: i) {
                appendSegment(Substring(utf8[segmentStart..<i]), to: &ids, limit: limit)
                if ids.count < limit { ids.append(token) }
                i = end
                segmentStart = end
            } else {
                i = utf8.index(after: i)
            }
        }
        appendSegment(Substring(utf8[segmentStart..<utf8.endIndex]), to: &ids, limit: limit)
    }

    private func appendSegment(_ segment: Substring, to ids: inout [Int32], limit: Int) {
        if segment.isEmpty || ids.count >= limit { return }
        for word in Self.preTokenize(Self.normalize(segment)) {
            if ids.count >= limit { break }
            wordPiece(word, into: &ids)
        }
    }

    private func specialToken(in utf8: String.UTF8View, at i: String.Index) -> (Int32, String.Index)? {
        for (literal, id) in specialLiterals {
            var j = i
            var matched = true
            for byte in literal {
                guard j < utf8.endIndex, utf8[j] == byte else { matched = false; break }
                j = utf8.index(after: j)
            }
            if matched { return (id, j) }
        }
        return nil
    }

    // MARK: - Normalizer (BertNormalizer: clean_text, handle_chinese_chars, strip_accents, lowercase)

    /// Applies the BERT normalizer and returns the resulting scalars.
    static func normalize(_ text: Substring) -> [Unicode.Scalar] {
        var cleaned = String.UnicodeScalarView()
        var needsDecomposition = false
        for s in text.unicodeScalars {
            let v = s.value
            if v == 0 || v == 0xFFFD || isControl(s) { continue }
            if isWhitespace(s) {
                cleaned.append(" ")
            } else if isChineseChar(v) {
                cleaned.append(" ")
                cleaned.append(s)
                cleaned.append(" ")
            } else {
                cleaned.append(s)
                if v >= 0xC0 { needsDecomposition = true }
            }
        }
        // strip_accents: NFD, then remove Mn. (ASCII-only text is already decomposed.)
        let decomposed: String.UnicodeScalarView = needsDecomposition
            ? String(cleaned).decomposedStringWithCanonicalMapping.unicodeScalars
            : cleaned
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(decomposed.count)
        for s in decomposed {
            if s.isASCII {
                let v = s.value
                out.append(v >= 65 && v <= 90 ? Unicode.Scalar(v + 32)! : s)
                continue
            }
            if s.properties.generalCategory == .nonspacingMark { continue }
            let lower = s.properties.lowercaseMapping
            if lower.unicodeScalars.count == 1 && lower.unicodeScalars.first == s {
                out.append(s)
            } else {
                out.append(contentsOf: lower.unicodeScalars)
            }
        }
        return out
    }

    /// `tokenizers`' `is_control`: categories Cc, Cf, Co (and Cs), except tab, LF, CR. Unassigned
    /// scalars (Cn) are kept, as `tokenizers` 0.23 does (they end up as `[UNK]`).
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 9, 10, 13: return false
        case 0x20...0x7E: return false
        default: break
        }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// `tokenizers`' `is_whitespace`: tab, LF, CR and every White_Space scalar.
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 9, 10, 13, 32: return true
        case 0x21...0x7E: return false
        default: return s.properties.isWhitespace
        }
    }

    /// The CJK Unified Ideograph blocks BERT spaces out (`is_chinese_char`).
    static func isChineseChar(_ v: UInt32) -> Bool {
        switch v {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    // MARK: - Pre-tokenizer (BertPreTokenizer)

    /// ASCII punctuation (including symbols such as `$+<=>^`|~`) or any Unicode P* category.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        if v < 128 { return false }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// Splits normalized scalars into words: whitespace separates and is dropped, every
    /// punctuation scalar is a word of its own.
    static func preTokenize(_ scalars: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var start = 0
        for (i, s) in scalars.enumerated() {
            if isWhitespace(s) {
                if start < i { words.append(scalars[start..<i]) }
                start = i + 1
            } else if isPunctuation(s) {
                if start < i { words.append(scalars[start..<i]) }
                words.append(scalars[i...i])
                start = i + 1
            }
        }
        if start < scalars.count { words.append(scalars[start...]) }
        return words
    }

    // MARK: - WordPiece

    /// Appends the WordPiece ids of one word (greedy longest match first, `##` continuations).
    func wordPiece(_ word: ArraySlice<Unicode.Scalar>, into ids: inout [Int32]) {
        if word.count > maxInputCharsPerWord {
            ids.append(unkID)
            return
        }
        // UTF-8 of the word and the byte offset of each scalar boundary.
        var bytes: [UInt8] = []
        var offsets: [Int] = [0]
        for s in word {
            UTF8.encode(s) { bytes.append($0) }
            offsets.append(bytes.count)
        }
        let n = word.count
        var pieces: [Int32] = []
        var start = 0
        var key: [UInt8] = []
        key.reserveCapacity(bytes.count)
        while start < n {
            var end = n
            var found: Int32? = nil
            while start < end {
                let lo = offsets[start]
                let hi = offsets[end]
                if hi - lo + (start == 0 ? 0 : 2) <= longestToken {
                    key.removeAll(keepingCapacity: true)
                    if start > 0 { key.append(35); key.append(35) }  // "##"
                    key.append(contentsOf: bytes[lo..<hi])
                    if let id = vocab[key] {
                        found = id
                        break
                    }
                }
                end -= 1
            }
            guard let id = found else {
                ids.append(unkID)
                return
            }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }
}
