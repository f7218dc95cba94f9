import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverRAG

@Suite struct SplitterTests {
    @Test func separatorSplitKeepsEveryPartLikePython() {
        let parts = SeparatorSplitter(separator: "# ").split("# A\nx\n## B\ny# ", source: "s")
        // Python: "# A\nx\n## B\ny# ".split("# ") == ['', 'A\nx\n#', 'B\ny', '']
        #expect(parts.map(\.text) == ["", "A\nx\n#", "B\ny", ""])
        #expect(parts.map(\.index) == [0, 1, 2, 3])
        #expect(parts[1].headings == ["A"])
        #expect(parts[0].headings == [])
        #expect(parts.allSatisfy { $0.source == "s" })
    }

    @Test(.enabled(if: SharedData.isAvailable, SharedData.absent)) func faqSplitMatchesTheReferenceChunks() throws {
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: SharedData.url("embeddings/faq_chunks.json"))) as! [String: Any]
        let expected = (reference["chunks"] as! [[String: Any]]).map { $0["text"] as! String }
        let files = try SharedData.markdownFiles("milvus-faq")
        #expect(files.count == 4)
        var texts = [String]()
        for file in files {
            texts += SeparatorSplitter(separator: "# ").split(try String(contentsOfFile: file, encoding: .utf8), source: file).map(\.text)
        }
        #expect(texts.count == 72)
        #expect(texts == expected)
    }

    @Test func markdownSectionsCarryTheirHeadingPath() {
        let text = """
            ---
            id: x.md
            title: X
            ---

            # Guide

            Intro text.

            ## Install

            ```bash
            # not a heading
            make
            ```

            ### On Linux

            apt-get install it.

            ## Use

            Run it.
            """
        let chunks = MarkdownSplitter().split(text, source: "g.md")
        #expect(chunks.map(\.headings) == [["Guide"], ["Guide", "Install"], ["Guide", "Install", "On Linux"], ["Guide", "Use"]])
        #expect(chunks[0].text == "# Guide\n\nIntro text.")
        #expect(chunks[1].text.contains("# not a heading"))
        #expect(!chunks.contains { $0.text.contains("id: x.md") })
        #expect(chunks.map(\.index) == [0, 1, 2, 3])
    }

    @Test func headingOnlySectionsProduceNoChunk() {
        let chunks = MarkdownSplitter().split("# A\n## B\ntext\n## C ##\nmore", source: "s")
        #expect(chunks.map(\.headings) == [["A", "B"], ["A", "C"]])
    }

    @Test func longSectionsAreCutAndKeepTheirHeadings() {
        let body = (1...60).map { "Sentence number \($0) is here." }.joined(separator: " ")
        let chunks = MarkdownSplitter(chunkSize: 200, overlap: 40).split("# Top\n\n" + body, source: "s")
        #expect(chunks.count > 5)
        #expect(chunks.allSatisfy { $0.text.count <= 200 && $0.headings == ["Top"] })
    }

    @Test func recursiveChunksAreBoundedOverlapAndCoverTheText() {
        let words = (1...500).map { "w\($0)" }
        let text = stride(from: 0, to: words.count, by: 25).map { words[$0..<min($0 + 25, words.count)].joined(separator: " ") }
            .joined(separator: "\n\n")
        let splitter = RecursiveSplitter(chunkSize: 120, overlap: 30)
        let chunks = splitter.split(text, source: "s")
        #expect(chunks.allSatisfy { $0.text.count <= 120 })
        for w in words { #expect(chunks.contains { $0.text.split(separator: " ").contains(Substring(w)) || $0.text.split(whereSeparator: \.isWhitespace).contains(Substring(w)) }) }
        // Consecutive chunks inside one paragraph share words.
        let overlapping = zip(chunks, chunks.dropFirst()).filter { a, b in
            Set(a.text.split(whereSeparator: \.isWhitespace)).intersection(b.text.split(whereSeparator: \.isWhitespace)).count > 0
        }
        #expect(!overlapping.isEmpty)
    }

    @Test func recursiveSplitterFallsBackToCharacters() {
        let chunks = RecursiveSplitter(chunkSize: 10, overlap: 0).split(String(repeating: "x", count: 35), source: "s")
        #expect(chunks.map(\.text.count) == [10, 10, 10, 5])
    }

    @Test func recursiveChunksKnowTheirHeadings() {
        let text = "# A\n\n" + String(repeating: "alpha ", count: 30) + "\n\n## B\n\n" + String(repeating: "beta ", count: 30)
        let chunks = RecursiveSplitter(chunkSize: 100, overlap: 0).split(text, source: "s")
        #expect(chunks.first?.headings == ["A"])
        #expect(chunks.last?.headings == ["A", "B"])
    }
}

extension SplitterTests {
    @Test func recursiveHeadingsSurviveCollapsedBlankLines() {
        let text = "# A\n\nalpha\n\n\n\nbeta\n\n## B\n\n" + String(repeating: "gamma ", count: 20)
        let chunks = RecursiveSplitter(chunkSize: 60, overlap: 0).split(text, source: "s")
        #expect(chunks.first?.text == "# A\n\nalpha\n\nbeta\n\n## B")
        #expect(chunks.first?.headings == ["A"])
        #expect(chunks.last?.headings == ["A", "B"])
    }
}
