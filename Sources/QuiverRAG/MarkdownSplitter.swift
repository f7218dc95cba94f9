/// One chunk per Markdown section (ATX headings `#` … `######`), with the heading path as metadata.
///
/// Headings inside fenced code blocks are ignored, and YAML front matter at the top is dropped.
/// A section with no text besides its heading produces no chunk (its heading still shows in the
/// path of the sections below it). A section longer than `chunkSize` characters is cut further by
/// a ``RecursiveSplitter`` and every piece keeps the section's heading path.
///
/// ```swift
/// let chunks = MarkdownSplitter(chunkSize: 1500).split(page, source: "guide.md")
/// chunks[3].headings   // ["Install", "On Linux"]
/// ```
public struct MarkdownSplitter: TextSplitter {
    /// Sections are cut at headings of this level or higher (1 = `#` only, 6 = all).
    public var maxHeadingLevel: Int
    /// The largest section kept whole, in characters; `nil` keeps every section whole.
    public var chunkSize: Int?
    /// The overlap of the pieces of a section that is cut further, in characters.
    public var overlap: Int

    /// A splitter with the given settings.
    ///
    /// - Parameters:
    ///   - maxHeadingLevel: cut at headings of this level or higher, 1...6 (all levels by default).
    ///   - chunkSize: the largest section kept whole, in characters (1500 by default); `nil` for no limit.
    ///   - overlap: the overlap of the pieces of a longer section, in characters (100 by default).
    /// - Precondition: `maxHeadingLevel` is in 1...6.
    public init(maxHeadingLevel: Int = 6, chunkSize: Int? = 1500, overlap: Int = 100) {
        precondition((1...6).contains(maxHeadingLevel), "maxHeadingLevel must be in 1...6")
        self.maxHeadingLevel = maxHeadingLevel
        self.chunkSize = chunkSize
        self.overlap = overlap
    }

    public var configurationName: String {
        "markdown(level: \(maxHeadingLevel), size: \(chunkSize.map(String.init) ?? "none"), overlap: \(overlap))"
    }

    public func split(_ text: String, source: String) -> [Chunk] {
        let outline = MarkdownOutline(text)
        let cuts = outline.headings.filter { $0.level <= maxHeadingLevel }
        var chunks = [Chunk]()
        var stack = [(level: Int, title: String)]()
        var sectionStart = outline.bodyStart
        var path = [String]()

        func emit(_ range: Range<String.Index>) {
            let section = text[range].trimmingWhitespace()
            guard !section.isEmpty, !isOnlyHeading(section) else { return }
            if let size = chunkSize, section.count > size {
                let pieces = RecursiveSplitter(chunkSize: size, overlap: min(overlap, size / 2)).pieces(of: section)
                for piece in pieces {
                    chunks.append(Chunk(text: piece, source: source, headings: path, index: chunks.count))
                }
            } else {
                chunks.append(Chunk(text: section, source: source, headings: path, index: chunks.count))
            }
        }

        for heading in cuts {
            emit(sectionStart..<heading.lineStart)
            while let last = stack.last, last.level >= heading.level { stack.removeLast() }
            stack.append((heading.level, heading.title))
            path = stack.map(\.title)
            sectionStart = heading.lineStart
        }
        emit(sectionStart..<text.endIndex)
        return chunks
    }

    private func isOnlyHeading(_ section: String) -> Bool {
        !section.contains("\n") && MarkdownOutline.parseHeading(Substring(section)) != nil
    }
}

/// The ATX headings of a Markdown text, outside fenced code blocks, and where the body starts
/// (after YAML front matter).
struct MarkdownOutline {
    struct Heading {
        var level: Int
        var title: String
        var lineStart: String.Index
    }

    var headings: [Heading] = []
    var bodyStart: String.Index

    init(_ text: String) {
        bodyStart = text.startIndex
        var lines = [(start: String.Index, line: Substring)]()
        var i = text.startIndex
        while i < text.endIndex {
            let end = text[i...].firstIndex(of: "\n") ?? text.endIndex
            lines.append((i, text[i..<end]))
            i = end < text.endIndex ? text.index(after: end) : end
        }
        var first = 0
        if let top = lines.first, top.line.trimmingWhitespace() == "---" {
            if let close = lines.dropFirst().firstIndex(where: { $0.line.trimmingWhitespace() == "---" }) {
                first = close + 1
                bodyStart = first < lines.count ? lines[first].start : text.endIndex
            }
        }
        var fence: Character? = nil
        for (start, line) in lines[first...] {
            let trimmed = line.drop(while: { $0 == " " })
            if let f = fence {
                if trimmed.hasPrefix(String(repeating: f, count: 3)) { fence = nil }
                continue
            }
            if trimmed.hasPrefix("```") { fence = "`"; continue }
            if trimmed.hasPrefix("~~~") { fence = "~"; continue }
            if line.prefix(while: { $0 == " " }).count <= 3, let (level, title) = Self.parseHeading(trimmed) {
                headings.append(Heading(level: level, title: title, lineStart: start))
            }
        }
    }

    /// `(level, title)` when `line` (without leading spaces) is an ATX heading.
    static func parseHeading(_ line: Substring) -> (Int, String)? {
        let hashes = line.prefix(while: { $0 == "#" }).count
        guard (1...6).contains(hashes) else { return nil }
        let rest = line.dropFirst(hashes)
        guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        var title = rest.trimmingWhitespace()
        // A closing sequence of #s is not part of the title ("## Title ##").
        if let lastNonHash = title.lastIndex(where: { $0 != "#" }), lastNonHash < title.index(before: title.endIndex),
            title[lastNonHash] == " "
        {
            title = title[...lastNonHash].trimmingWhitespace()
        } else if title.allSatisfy({ $0 == "#" }) {
            title = ""
        }
        return (hashes, title)
    }
}
