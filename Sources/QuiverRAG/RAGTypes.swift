import Foundation
import Quiver

/// A document to ingest: its text and a stable name (a path, a URL).
public struct Document: Sendable, Hashable {
    /// The document's stable name; its chunks are stored under `"<source>#<index>"`.
    public var source: String
    /// The document's whole text.
    public var text: String

    /// A document named `source` with the given text.
    public init(source: String, text: String) {
        self.source = source
        self.text = text
    }
}

/// A chunk found by ``RAGPipeline/retrieve(_:limit:filter:filterParams:mode:)``.
public struct RetrievedChunk: Sendable, Hashable, Codable {
    /// The chunk's primary key, `"<source>#<index>"`.
    public var id: String
    /// The retrieval mode's score, higher is better (Milvus's `distance` of the hit): the cosine
    /// similarity to the question (``RetrievalMode/dense``), the BM25 score (``RetrievalMode/bm25``)
    /// or the reciprocal-rank-fusion score, Σ 1 / (60 + rank) (``RetrievalMode/hybrid``).
    public var distance: Float
    /// The chunk's text.
    public var text: String
    /// The document the chunk came from.
    public var source: String
    /// The headings above the chunk, outermost first; empty when none.
    public var headings: [String]

    /// A retrieved chunk with the given key, similarity and stored fields.
    public init(id: String, distance: Float, text: String, source: String, headings: [String]) {
        self.id = id
        self.distance = distance
        self.text = text
        self.source = source
        self.headings = headings
    }

    /// `{"id", "distance", "text", "source", "headings"}`, the shape `quiver retrieve --json` prints.
    public var jsonValue: Value {
        [
            "id": .string(id), "distance": .double(Double(distance)), "text": .string(text), "source": .string(source),
            "headings": .array(headings.map(Value.string)),
        ]
    }
}

/// An answer with the sources it was given.
public struct RAGAnswer: Sendable, Hashable {
    /// The model's answer text.
    public var answer: String
    /// The model that answered, as the server reports it.
    public var model: String
    /// The retrieved chunks put in the prompt, closest first; empty without retrieval.
    public var sources: [RetrievedChunk]
    /// The token counts, when the server reports them.
    public var usage: TokenUsage?

    /// An answer with the given text, model, sources and usage.
    public init(answer: String, model: String, sources: [RetrievedChunk], usage: TokenUsage? = nil) {
        self.answer = answer
        self.model = model
        self.sources = sources
        self.usage = usage
    }
}

/// A streamed answer: the sources are known before the first delta arrives.
public struct RAGStreamingAnswer: Sendable {
    /// The model name the request was sent to (a stream does not say which model answered).
    public var model: String
    /// The retrieved chunks put in the prompt, closest first; empty without retrieval.
    public var sources: [RetrievedChunk]
    /// The answer's text, delta by delta; iterate it to receive the answer.
    public var deltas: TextDeltaStream
}

/// How far an ingest has got, reported after every file and every embedding batch.
public struct IngestProgress: Sendable, Hashable {
    /// Documents finished so far.
    public var documentsDone: Int
    /// Documents in this ingest.
    public var documentsTotal: Int
    /// Chunks the splitter has produced so far.
    public var chunks: Int
    /// Chunks embedded and written so far (unchanged chunks are neither).
    public var embedded: Int
    /// Time since the ingest started.
    public var elapsed: Duration

    /// Embeddings per second since the ingest started.
    public var embeddingsPerSecond: Double {
        let s = elapsed.inSeconds
        return s > 0 ? Double(embedded) / s : 0
    }
}

/// What an ingest did.
public struct IngestReport: Sendable, Hashable {
    /// Documents ingested.
    public var documents: Int
    /// Chunks the documents split into.
    public var chunks: Int
    /// Chunks embedded and written (new or changed).
    public var embedded: Int
    /// Chunks already stored with the same content and embedder, left alone.
    public var unchanged: Int
    /// Stored chunks of these documents that no longer exist (a file got shorter), deleted.
    public var deleted: Int
    /// The ingest's wall-clock time (reading, splitting, embedding, writing).
    public var elapsed: Duration

    /// Chunks embedded per second over the whole ingest; 0 when no time elapsed.
    public var embeddingsPerSecond: Double {
        let s = elapsed.inSeconds
        return s > 0 ? Double(embedded) / s : 0
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var inSeconds: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
}
