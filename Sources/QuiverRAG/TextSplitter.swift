/// Cuts a document into ``Chunk``s.
///
/// Three splitters come with `QuiverRAG`:
/// - ``SeparatorSplitter``: a plain split on a string, like Python's `text.split("# ")` that the
///   Milvus RAG tutorial uses;
/// - ``MarkdownSplitter``: one chunk per Markdown section, with the heading path as metadata;
/// - ``RecursiveSplitter``: chunks of at most `chunkSize` characters with `overlap`, cut at
///   paragraph, line, sentence and word boundaries first.
///
/// ```swift
/// let chunks = MarkdownSplitter().split(markdown, source: "docs/faq.md")
/// ```
public protocol TextSplitter: Sendable {
    /// The chunks of `text`, in document order, numbered from 0.
    func split(_ text: String, source: String) -> [Chunk]
    /// A short description of the splitter and its settings, e.g. `markdown(size: 1500)`.
    var configurationName: String { get }
}

/// Splits on a separator string and keeps every part, empty or not, like Python's `str.split`.
///
/// This is exactly the tutorial's chunking: `SeparatorSplitter(separator: "# ")` over the FAQ
/// pages gives its 72 chunks. A part that follows a separator takes its first line as its heading.
public struct SeparatorSplitter: TextSplitter {
    /// The string to split at; it is dropped from the chunks.
    public var separator: String

    /// A splitter at `separator`, `"# "` (the tutorial's) by default.
    ///
    /// - Precondition: `separator` is not empty.
    public init(separator: String = "# ") {
        precondition(!separator.isEmpty, "the separator must not be empty")
        self.separator = separator
    }

    public var configurationName: String { "separator(\(separator.debugDescription))" }

    public func split(_ text: String, source: String) -> [Chunk] {
        let parts = text.splitKeepingEmpty(separator: separator)
        return parts.enumerated().map { i, part in
            var headings = [String]()
            if i > 0, let first = part.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first {
                let title = first.trimmingWhitespace()
                if !title.isEmpty { headings = [title] }
            }
            return Chunk(text: part, source: source, headings: headings, index: i)
        }
    }
}

extension StringProtocol {
    /// The string without leading and trailing whitespace and newlines.
    func trimmingWhitespace() -> String {
        guard let start = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let end = lastIndex(where: { !$0.isWhitespace })!
        return String(self[start...end])
    }
}

extension String {
    /// Python's `str.split(sep)`: every part, including empty ones at the ends.
    func splitKeepingEmpty(separator: String) -> [String] {
        var parts = [String]()
        var start = startIndex
        var searchFrom = startIndex
        while let r = range(of: separator, from: searchFrom) {
            parts.append(String(self[start..<r.lowerBound]))
            start = r.upperBound
            searchFrom = r.upperBound
        }
        parts.append(String(self[start...]))
        return parts
    }

    /// The first occurrence of `needle` at or after `from`, comparing Unicode scalars exactly.
    func range(of needle: String, from: Index) -> Range<Index>? {
        guard !needle.isEmpty else { return nil }
        let n = needle.unicodeScalars
        let scalars = unicodeScalars
        var i = from.samePosition(in: scalars) ?? scalars.index(after: scalars.startIndex)
        let first = n.first!
        while i < scalars.endIndex {
            if scalars[i] == first {
                var a = i
                var b = n.startIndex
                while a < scalars.endIndex, b < n.endIndex, scalars[a] == n[b] {
                    a = scalars.index(after: a)
                    b = n.index(after: b)
                }
                if b == n.endIndex { return i..<a }
            }
            i = scalars.index(after: i)
        }
        return nil
    }
}
