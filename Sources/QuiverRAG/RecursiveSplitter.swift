/// Chunks of at most `chunkSize` characters that overlap by up to `overlap` characters, cut at
/// the first separator that works: paragraphs, then lines, sentences, words, and characters.
///
/// This follows LangChain's `RecursiveCharacterTextSplitter` (separators dropped at cuts and put
/// back between joined pieces, chunks trimmed of surrounding whitespace). Each chunk's heading
/// path is the Markdown heading path in force where the chunk starts, so it also suits Markdown.
///
/// ```swift
/// let chunks = RecursiveSplitter(chunkSize: 1000, overlap: 200).split(text, source: "notes.md")
/// ```
/// - Complexity: O(n × d) for a text of n characters and d separators.
public struct RecursiveSplitter: TextSplitter {
    /// The largest chunk, in characters.
    public var chunkSize: Int
    /// How many characters of the end of a chunk the next one repeats, at most.
    public var overlap: Int
    /// The separators to cut at, tried in order; `""` (last) cuts between characters.
    public var separators: [String]

    /// A splitter with the given settings.
    ///
    /// - Parameters:
    ///   - chunkSize: the largest chunk, in characters (1000 by default).
    ///   - overlap: characters a chunk shares with the previous one, at most (200 by default).
    ///   - separators: where to cut, in order of preference: paragraphs, lines, sentences,
    ///     words, characters by default.
    /// - Precondition: `chunkSize` ≥ 1 and `0 ≤ overlap < chunkSize`.
    public init(chunkSize: Int = 1000, overlap: Int = 200, separators: [String] = ["\n\n", "\n", ". ", " ", ""]) {
        precondition(chunkSize >= 1, "chunkSize must be at least 1")
        precondition(overlap >= 0 && overlap < chunkSize, "overlap must be in 0..<chunkSize")
        self.chunkSize = chunkSize
        self.overlap = overlap
        self.separators = separators
    }

    public var configurationName: String { "recursive(size: \(chunkSize), overlap: \(overlap))" }

    public func split(_ text: String, source: String) -> [Chunk] {
        let outline = MarkdownOutline(text)
        let body = String(text[outline.bodyStart...])
        let bodyOutline = MarkdownOutline(body)
        var chunks = [Chunk]()
        var cursor = body.startIndex
        for piece in pieces(of: body) {
            // A piece is a substring of the text unless runs of separators were collapsed in it;
            // then its first line still is. Where it starts gives its headings.
            var headings = [String]()
            let firstLine = String(piece.prefix(while: { $0 != "\n" }))
            if let r = body.range(of: piece, from: cursor) ?? body.range(of: firstLine, from: cursor) {
                cursor = r.lowerBound < body.endIndex ? body.index(after: r.lowerBound) : r.lowerBound
                var stack = [(Int, String)]()
                for h in bodyOutline.headings where h.lineStart <= r.lowerBound {
                    while let last = stack.last, last.0 >= h.level { stack.removeLast() }
                    stack.append((h.level, h.title))
                }
                headings = stack.map(\.1)
            }
            chunks.append(Chunk(text: piece, source: source, headings: headings, index: chunks.count))
        }
        return chunks
    }

    /// The chunk texts of `text`.
    func pieces(of text: String) -> [String] {
        splitRecursively(text, separators: separators)
    }

    private func splitRecursively(_ text: String, separators: [String]) -> [String] {
        var separator = ""
        var rest = [String]()
        for (i, s) in separators.enumerated() {
            if s.isEmpty || text.contains(s) {
                separator = s
                rest = Array(separators[(i + 1)...])
                break
            }
        }
        let splits: [String] =
            separator.isEmpty ? text.map { String($0) } : text.splitKeepingEmpty(separator: separator).filter { !$0.isEmpty }
        var out = [String]()
        var good = [String]()
        for piece in splits {
            if piece.count <= chunkSize {
                good.append(piece)
            } else {
                if !good.isEmpty {
                    out += merge(good, separator: separator)
                    good.removeAll()
                }
                if rest.isEmpty {
                    out.append(piece)
                } else {
                    out += splitRecursively(piece, separators: rest)
                }
            }
        }
        if !good.isEmpty { out += merge(good, separator: separator) }
        return out
    }

    /// Joins small pieces into chunks of at most `chunkSize`, carrying up to `overlap` characters over.
    private func merge(_ splits: [String], separator: String) -> [String] {
        let sepCount = separator.count
        var docs = [String]()
        var current = [(text: String, count: Int)]()
        var total = 0
        for piece in splits {
            let n = piece.count
            if total + n + (current.isEmpty ? 0 : sepCount) > chunkSize, !current.isEmpty {
                let doc = current.map(\.text).joined(separator: separator).trimmingWhitespace()
                if !doc.isEmpty { docs.append(doc) }
                while total > overlap || (total + n + (current.isEmpty ? 0 : sepCount) > chunkSize && total > 0) {
                    total -= current[0].count + (current.count > 1 ? sepCount : 0)
                    current.removeFirst()
                }
            }
            current.append((piece, n))
            total += n + (current.count > 1 ? sepCount : 0)
        }
        let doc = current.map(\.text).joined(separator: separator).trimmingWhitespace()
        if !doc.isEmpty { docs.append(doc) }
        return docs
    }
}
