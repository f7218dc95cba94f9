/// A piece of a document ready to embed: its text and where it came from.
public struct Chunk: Sendable, Hashable, Codable {
    /// The chunk's text, as stored and as given to the model.
    public var text: String
    /// The document's path or any stable name of it; with ``index`` it makes the chunk's id.
    public var source: String
    /// The headings above the chunk, outermost first (`["FAQ", "Storage"]`); empty when none.
    public var headings: [String]
    /// The position of the chunk in its document, from 0.
    public var index: Int

    /// A chunk with the given text, source, heading path (none by default) and position.
    public init(text: String, source: String, headings: [String] = [], index: Int) {
        self.text = text
        self.source = source
        self.headings = headings
        self.index = index
    }
}
