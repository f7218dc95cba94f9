import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverMiniLM

@Suite(.enabled(if: SharedData.isAvailable, SharedData.absent))
struct TokenizerTests {
    let tok = TestSupport.tokenizer!

    @Test func matchesReferenceSentences() throws {
        let items = try TestSupport.sentences()
        #expect(items.count == 20)
        for (i, item) in items.enumerated() {
            #expect(tok.encode(item.text) == item.token_ids, "sentence \(i)")
        }
    }

    @Test func matchesReferenceFAQChunksAndQuery() throws {
        let (query, chunks) = try TestSupport.chunks()
        #expect(chunks.count == 72)
        #expect(tok.encode(query.text) == query.token_ids)
        for (i, item) in chunks.enumerated() {
            #expect(tok.encode(item.text) == item.token_ids, "chunk \(i)")
        }
    }

    @Test func emptyAndWhitespaceOnly() {
        #expect(tok.encode("") == [101, 102])
        #expect(tok.encode(" \t\r\n\u{3000}") == [101, 102])
    }

    @Test func lowercasesAndStripsAccents() {
        #expect(tok.encode("HELLO World") == tok.encode("hello world"))
        #expect(tok.encode("Café naïve résumé") == tok.encode("cafe naive resume"))
        // Precomposed and decomposed forms give the same ids.
        #expect(tok.encode("caf\u{E9}") == tok.encode("cafe\u{301}"))
        #expect(tok.encode("Héllo, world!") == [101, 7592, 1010, 2088, 999, 102])
    }

    @Test func spacesOutCJKIdeographs() {
        // Every ideograph is its own word, with or without spaces between them.
        #expect(tok.encode("日本語") == tok.encode("日 本 語"))
        #expect(tok.encode("日本語").count == 5)
    }

    @Test func emojiAndUnknownSymbolsBecomeUNK() {
        #expect(tok.encode("🙂") == [101, tok.unkID, 102])
        #expect(tok.encode("I ❤️ Swift").contains(tok.unkID) || tok.encode("I ❤️ Swift").count >= 4)
    }

    @Test func removesControlAndFormatCharacters() {
        // BEL, zero-width space (Cf), soft hyphen (Cf), NUL and U+FFFD vanish; tab/CR/LF separate.
        #expect(tok.encode("ab\u{7}c") == tok.encode("abc"))
        #expect(tok.encode("vec\u{200B}tor\u{AD}s\u{0}\u{FFFD}") == tok.encode("vectors"))
        #expect(tok.encode("one\ttwo\r\nthree") == tok.encode("one two three"))
    }

    @Test func splitsPunctuationAndASCIISymbols() {
        #expect(tok.encode("a+b=c") == tok.encode("a + b = c"))
        #expect(tok.encode("don't") == tok.encode("don ' t"))
        #expect(tok.encode("x_y") == tok.encode("x _ y"))
    }

    @Test func veryLongWordsAreUNKAndLongWordsSplitIntoPieces() {
        let long = String(repeating: "a", count: 101)
        #expect(tok.encode(long) == [101, tok.unkID, 102])
        let exactly100 = String(repeating: "ab", count: 50)
        let ids = tok.encode(exactly100)
        #expect(!ids.contains(tok.unkID) && ids.count > 3)
        let pieces = tok.encode("unbelievably").dropFirst().dropLast().map { tok.token(for: $0) }
        #expect(pieces.first.map { !$0.hasPrefix("##") } == true)
        #expect(pieces.dropFirst().allSatisfy { $0.hasPrefix("##") })
    }

    @Test func truncatesTo256TokensWithSEP() {
        let text = Array(repeating: "word", count: 1000).joined(separator: " ")
        let ids = tok.encode(text)
        #expect(ids.count == 256)
        #expect(ids.first == 101 && ids.last == 102)
        #expect(tok.encodeWithoutSpecialTokens(text).count == 1000)
    }
}

/// 405 generated strings (random mixes of accents, CJK, Hangul, emoji, ZWJ sequences, control
/// and format characters, special-token literals, ligatures, full-width forms, long words) with
/// the ids Hugging Face `tokenizers` 0.23.3 gives them (`Fixtures/tokenizer_fuzz.json`).
@Suite(.enabled(if: SharedData.isAvailable, SharedData.absent))
struct TokenizerFuzzTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int32]
        }
        let cases: [Case]
    }

    @Test func matchesHuggingFaceTokenizersOnGeneratedEdgeCases() throws {
        let tok = TestSupport.tokenizer!
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tokenizer_fuzz.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        #expect(fixture.cases.count == 405)
        var mismatches: [String] = []
        for (i, c) in fixture.cases.enumerated() where tok.encode(c.text) != c.ids {
            let got = tok.encode(c.text)
            let prefix = zip(got, c.ids).prefix { $0 == $1 }.count
            mismatches.append("case \(i) differs at token \(prefix): got \(got.dropFirst(prefix).prefix(4).map { tok.token(for: $0) }), expected \(c.ids.dropFirst(prefix).prefix(4).map { tok.token(for: $0) })")
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
    }
}
