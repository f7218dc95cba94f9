/// Turns texts into vectors for storage and search.
///
/// Documents and queries have separate entry points because some models embed them differently
/// (instruction prefixes, asymmetric models); for symmetric models both do the same.
/// Implementations: `LocalMiniLMEmbedding` (the built-in all-MiniLM-L6-v2, when the package is
/// built with `QuiverMiniLM`) and ``OpenAIEmbedding`` (any OpenAI-compatible `/v1/embeddings`).
///
/// ```swift
/// struct Constant: EmbeddingFunction {
///     var name: String { "constant" }
///     var dimension: Int { 2 }
///     func encodeDocuments(_ texts: [String]) async throws -> [[Float]] { texts.map { _ in [1, 0] } }
///     func encodeQueries(_ texts: [String]) async throws -> [[Float]] { texts.map { _ in [1, 0] } }
/// }
/// ```
public protocol EmbeddingFunction: Sendable {
    /// A stable name of the model, stored with every chunk (e.g. `local:all-MiniLM-L6-v2`,
    /// `openai:text-embedding-3-small`), so a collection remembers what embedded it.
    var name: String { get }
    /// The length of every vector this function returns.
    var dimension: Int { get }
    /// One vector per text, in order.
    ///
    /// - Throws: ``RAGError`` (or the implementation's error) when the model fails; never a
    ///   partial result.
    func encodeDocuments(_ texts: [String]) async throws -> [[Float]]
    /// One vector per query text, in order.
    ///
    /// - Throws: as ``encodeDocuments(_:)``.
    func encodeQueries(_ texts: [String]) async throws -> [[Float]]
}

extension EmbeddingFunction {
    /// Checks that `vectors` has one vector of ``dimension`` floats per input.
    func validated(_ vectors: [[Float]], count: Int) throws -> [[Float]] {
        guard vectors.count == count else {
            throw RAGError(.invalidResponse, "embedder '\(name)' returned \(vectors.count) vectors for \(count) texts")
        }
        for (i, v) in vectors.enumerated() where v.count != dimension {
            throw RAGError(.invalidResponse, "embedder '\(name)' returned a vector of \(v.count) dimensions at \(i); expected \(dimension)")
        }
        return vectors
    }
}
