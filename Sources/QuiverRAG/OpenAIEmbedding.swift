import AsyncHTTPClient
import Foundation

/// An embedding model behind an OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama,
/// llama.cpp's server with `--embeddings`, vLLM, TEI, …).
///
/// Texts go in batches of ``batchSize``; each batch is retried on 429 and 5xx as ``HTTPOptions``
/// says, honouring `Retry-After`.
/// ```swift
/// let embedder = try await OpenAIEmbedding.connect(EmbeddingConfiguration(
///     baseURL: "http://127.0.0.1:18081/v1", apiKey: nil, model: "all-minilm-l6-v2"))
/// let vectors = try await embedder.encodeDocuments(["hello", "world"])
/// ```
public struct OpenAIEmbedding: EmbeddingFunction {
    /// The server, key and model this embedder talks to.
    public let configuration: EmbeddingConfiguration
    public let dimension: Int
    /// The most texts sent in one request.
    public var batchSize: Int
    let transport: HTTPTransport

    public var name: String { "openai:" + configuration.model }

    /// An embedder whose dimension is known (`dimension`, or `configuration.dimension`).
    ///
    /// - Throws: ``RAGError/Code/invalidArgument`` when no dimension is known or the URL is bad.
    public init(
        configuration: EmbeddingConfiguration, dimension: Int? = nil, batchSize: Int = 64,
        options: HTTPOptions = HTTPOptions(), httpClient: HTTPClient = defaultHTTPClient
    ) throws {
        guard let d = dimension ?? configuration.dimension, d >= 1 else {
            throw RAGError(.invalidArgument, "the embedding dimension of '\(configuration.model)' is unknown; use OpenAIEmbedding.connect to ask the server")
        }
        guard batchSize >= 1 else { throw RAGError(.invalidArgument, "batchSize must be at least 1") }
        self.configuration = configuration
        self.dimension = d
        self.batchSize = batchSize
        transport = try HTTPTransport(
            client: httpClient, baseURL: configuration.baseURL, apiKey: configuration.apiKey, options: options)
    }

    /// An embedder for `configuration`, asking the server for one vector to learn the dimension
    /// when the configuration does not give it.
    ///
    /// - Throws: ``RAGError`` — `.invalidArgument` for a bad URL or batch size, `.invalidResponse`
    ///   when the server returns no vector, and the request errors (`.server`, `.timeout`, `.transport`).
    public static func connect(
        _ configuration: EmbeddingConfiguration, batchSize: Int = 64, options: HTTPOptions = HTTPOptions(),
        httpClient: HTTPClient = defaultHTTPClient
    ) async throws -> OpenAIEmbedding {
        if configuration.dimension != nil {
            return try OpenAIEmbedding(configuration: configuration, batchSize: batchSize, options: options, httpClient: httpClient)
        }
        var probe = configuration
        probe.dimension = 1
        let prober = try OpenAIEmbedding(configuration: probe, batchSize: 1, options: options, httpClient: httpClient)
        let vectors = try await prober.request(["dimension probe"])
        guard let d = vectors.first?.count, d > 0 else {
            throw RAGError(.invalidResponse, "the embedding server returned no vector")
        }
        return try OpenAIEmbedding(configuration: configuration, dimension: d, batchSize: batchSize, options: options, httpClient: httpClient)
    }

    public func encodeDocuments(_ texts: [String]) async throws -> [[Float]] {
        try await encode(texts)
    }

    public func encodeQueries(_ texts: [String]) async throws -> [[Float]] {
        try await encode(texts)
    }

    private func encode(_ texts: [String]) async throws -> [[Float]] {
        var out = [[Float]]()
        out.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let batch = Array(texts[start..<min(start + batchSize, texts.count)])
            out += try validated(try await request(batch), count: batch.count)
            start += batch.count
        }
        return out
    }

    /// One request; the vectors in input order.
    func request(_ texts: [String]) async throws -> [[Float]] {
        // OpenAI rejects empty strings; a space embeds as "nothing" everywhere.
        let input = texts.map { $0.isEmpty ? " " : $0 }
        let body = try JSONEncoder().encode(EmbeddingRequest(model: configuration.model, input: input))
        let data = try await transport.postJSON("/embeddings", body: body)
        let response: EmbeddingResponse
        do { response = try JSONDecoder().decode(EmbeddingResponse.self, from: data) } catch {
            throw RAGError(.invalidResponse, "the embeddings response could not be read: \(error)")
        }
        guard let items = response.data else {
            let message = response.error?.message ?? "no data"
            throw RAGError(.server, configuration.apiKey?.redact(message) ?? message, statusCode: 200)
        }
        let sorted = items.enumerated().sorted { ($0.element.index ?? $0.offset) < ($1.element.index ?? $1.offset) }
        return sorted.map(\.element.embedding)
    }
}

struct EmbeddingRequest: Encodable {
    var model: String
    var input: [String]
}

struct EmbeddingResponse: Decodable {
    struct Item: Decodable {
        var embedding: [Float]
        var index: Int?
    }

    struct ErrorBody: Decodable { var message: String }

    var data: [Item]?
    var error: ErrorBody?
}
