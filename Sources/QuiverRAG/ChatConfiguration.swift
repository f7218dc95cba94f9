import Foundation

/// Where an OpenAI-compatible chat model lives: base URL, key and model name.
///
/// The base URL is what the OpenAI SDKs take: the part before `/chat/completions`
/// (`https://api.deepseek.com`, `https://openrouter.ai/api/v1`, `http://localhost:11434/v1`,
/// `http://127.0.0.1:8080/v1`). The key prints as `<redacted>`.
public struct ChatConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The API's base URL, the part before `/chat/completions`, e.g. `https://api.deepseek.com`.
    public var baseURL: String
    /// The key sent as `Authorization: Bearer …`; `nil` (or empty) sends no `Authorization`
    /// header, for local servers that need none.
    public var apiKey: APIKey?
    /// The model name the server expects, e.g. `deepseek-chat`, `gpt-4o-mini`, `llama3.2`.
    public var model: String
    /// Which rule picked this configuration, e.g. `DEEPSEEK_API_KEY`; for messages.
    public var source: String

    /// A configuration with the given server, key and model.
    ///
    /// - Parameters:
    ///   - baseURL: the API's base URL, the part before `/chat/completions`.
    ///   - apiKey: the key to send, or `nil` for a server that needs none.
    ///   - model: the model name the server expects.
    ///   - source: where the configuration came from, for messages; `"explicit"` by default.
    public init(baseURL: String, apiKey: APIKey?, model: String, source: String = "explicit") {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.model = model
        self.source = source
    }

    /// DeepSeek's API with `deepseek-chat`.
    public static func deepSeek(apiKey: String, model: String = "deepseek-chat") -> ChatConfiguration {
        ChatConfiguration(baseURL: "https://api.deepseek.com", apiKey: APIKey(apiKey), model: model, source: "DeepSeek")
    }

    /// OpenRouter with its DeepSeek chat model by default.
    public static func openRouter(apiKey: String, model: String = "deepseek/deepseek-chat") -> ChatConfiguration {
        ChatConfiguration(baseURL: "https://openrouter.ai/api/v1", apiKey: APIKey(apiKey), model: model, source: "OpenRouter")
    }

    public var description: String { "\(model) at \(baseURL) (from \(source))" }

    /// The configuration the environment selects, or `nil` when it selects none:
    ///
    /// 1. `QUIVER_LLM_BASE_URL` (with optional `QUIVER_LLM_API_KEY`, and `QUIVER_LLM_MODEL`,
    ///    default `default`, which llama.cpp's server accepts);
    /// 2. else `QUIVER_LLM_API_KEY` alone: OpenAI (`https://api.openai.com/v1`, model
    ///    `QUIVER_LLM_MODEL` or `gpt-4o-mini`);
    /// 3. else `DEEPSEEK_API_KEY`: DeepSeek, `deepseek-chat` (or `QUIVER_LLM_MODEL`);
    /// 4. else `OPENROUTER_API_KEY`: OpenRouter, `deepseek/deepseek-chat` (or `QUIVER_LLM_MODEL`).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ChatConfiguration? {
        func value(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingWhitespace(), !v.isEmpty else { return nil }
            return v
        }
        let model = value("QUIVER_LLM_MODEL")
        if let base = value("QUIVER_LLM_BASE_URL") {
            return ChatConfiguration(
                baseURL: base, apiKey: value("QUIVER_LLM_API_KEY").map(APIKey.init), model: model ?? "default",
                source: "QUIVER_LLM_BASE_URL")
        }
        if let key = value("QUIVER_LLM_API_KEY") {
            return ChatConfiguration(
                baseURL: "https://api.openai.com/v1", apiKey: APIKey(key), model: model ?? "gpt-4o-mini",
                source: "QUIVER_LLM_API_KEY")
        }
        if let key = value("DEEPSEEK_API_KEY") {
            var c = deepSeek(apiKey: key, model: model ?? "deepseek-chat")
            c.source = "DEEPSEEK_API_KEY"
            return c
        }
        if let key = value("OPENROUTER_API_KEY") {
            var c = openRouter(apiKey: key, model: model ?? "deepseek/deepseek-chat")
            c.source = "OPENROUTER_API_KEY"
            return c
        }
        return nil
    }

    /// What to set to configure a chat model, for messages when none is configured.
    public static let environmentHelp = """
        No LLM is configured. Set one of:
          DEEPSEEK_API_KEY=…                       DeepSeek (deepseek-chat)
          OPENROUTER_API_KEY=…                     OpenRouter (deepseek/deepseek-chat)
          QUIVER_LLM_BASE_URL=http://host:port/v1  any OpenAI-compatible server (Ollama, llama.cpp, OpenAI, …)
            with QUIVER_LLM_MODEL=name and, if the server needs one, QUIVER_LLM_API_KEY=…
        """
}

/// Where an OpenAI-compatible embedding model lives.
public struct EmbeddingConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The API's base URL, the part before `/embeddings`, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    /// The key sent as `Authorization: Bearer …`; `nil` (or empty) sends no `Authorization` header.
    public var apiKey: APIKey?
    /// The embedding model's name, e.g. `text-embedding-3-small`.
    public var model: String
    /// The vector length when known; `nil` asks the server once
    /// (``OpenAIEmbedding/connect(_:batchSize:options:httpClient:)``).
    public var dimension: Int?

    /// A configuration with the given server, key and model.
    ///
    /// - Parameters:
    ///   - baseURL: the API's base URL, the part before `/embeddings`.
    ///   - apiKey: the key to send, or `nil` for a server that needs none.
    ///   - model: the embedding model's name.
    ///   - dimension: the vector length when known; `nil` (the default) asks the server once.
    public init(baseURL: String, apiKey: APIKey?, model: String, dimension: Int? = nil) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.model = model
        self.dimension = dimension
    }

    public var description: String { "\(model) at \(baseURL)" }

    /// `QUIVER_EMBEDDING_BASE_URL` (required), `QUIVER_EMBEDDING_API_KEY`, `QUIVER_EMBEDDING_MODEL`
    /// (default `text-embedding-3-small`) and `QUIVER_EMBEDDING_DIMENSION`; `nil` without a base URL.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> EmbeddingConfiguration? {
        func value(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingWhitespace(), !v.isEmpty else { return nil }
            return v
        }
        guard let base = value("QUIVER_EMBEDDING_BASE_URL") else { return nil }
        return EmbeddingConfiguration(
            baseURL: base, apiKey: value("QUIVER_EMBEDDING_API_KEY").map(APIKey.init),
            model: value("QUIVER_EMBEDDING_MODEL") ?? "text-embedding-3-small",
            dimension: value("QUIVER_EMBEDDING_DIMENSION").flatMap(Int.init))
    }

    /// What to set to configure an embedding model, for messages when none is configured.
    public static let environmentHelp = """
        Set QUIVER_EMBEDDING_BASE_URL (e.g. https://api.openai.com/v1 or http://127.0.0.1:18081/v1),
        QUIVER_EMBEDDING_MODEL and, if the server needs one, QUIVER_EMBEDDING_API_KEY.
        """
}
