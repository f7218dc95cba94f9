import Quiver

/// How ``RAGPipeline`` finds the chunks for a question.
///
/// ```swift
/// let hybrid = try await rag.retrieve("What does drop_ratio_search do?")           // .hybrid, the default
/// let dense = try await rag.retrieve("How is data stored?", mode: .dense)
/// ```
///
/// - ``dense``: the embedder's vectors, COSINE; a chunk's score is its cosine similarity.
/// - ``bm25``: full-text search of the chunk text (the BM25 function of ``RAGSchema``); a chunk's
///   score is its BM25 score. It finds exact terms (`efConstruction`, `mmap.enabled`, an error
///   string) that an embedding model blurs.
/// - ``hybrid``: both searches, each fetching ``RAGPipeline/hybridCandidates`` chunks (at least
///   the limit), fused by reciprocal rank fusion with k = 60 (Σ 1 / (60 + rank)); a chunk's
///   score is its fused score. The default.
///
/// ``bm25`` and ``hybrid`` need a collection made by a Quiver that stores the BM25 field (see
/// ``RAGSchema/hasBM25(_:)``); on an older collection they throw
/// ``RAGError/Code/reingestRequired`` rather than silently searching by vectors alone.
public enum RetrievalMode: String, Sendable, Hashable, CaseIterable, Codable {
    /// Vector search with the embedder's query embedding.
    case dense
    /// BM25 full-text search of the chunks' text.
    case bm25
    /// Dense and BM25 results fused by reciprocal rank fusion (k = 60).
    case hybrid

    /// What the score of a chunk retrieved in this mode is, for people.
    public var scoreName: String {
        switch self {
        case .dense: "cosine similarity"
        case .bm25: "BM25 score"
        case .hybrid: "RRF score"
        }
    }
}
