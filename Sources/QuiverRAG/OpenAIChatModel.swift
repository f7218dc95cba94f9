import AsyncHTTPClient
import Foundation
import NIOCore

/// A chat model behind an OpenAI-compatible `/chat/completions` endpoint: DeepSeek, OpenRouter,
/// OpenAI, Ollama, llama.cpp's server, vLLM, …
///
/// ```swift
/// let chat = try OpenAIChatModel(configuration: .deepSeek(apiKey: key))
/// let answer = try await chat.complete([.user("Hello")]).text
/// ```
/// Streaming reads server-sent events through AsyncHTTPClient, so it works on Linux too.
public struct OpenAIChatModel: ChatModel {
    /// The server, key and model this client talks to.
    public let configuration: ChatConfiguration
    public var model: String { configuration.model }
    let transport: HTTPTransport

    /// A client for the chat model `configuration` names. Nothing is sent until the first request.
    ///
    /// - Parameters:
    ///   - configuration: the server's base URL, key and model.
    ///   - options: timeouts and retries; ``HTTPOptions/init()``'s defaults unless given.
    ///   - httpClient: the client to use; ``defaultHTTPClient`` by default (nothing to shut down).
    /// - Throws: ``RAGError/Code/invalidArgument`` for a base URL that is not http(s).
    public init(configuration: ChatConfiguration, options: HTTPOptions = HTTPOptions(), httpClient: HTTPClient = defaultHTTPClient) throws {
        self.configuration = configuration
        transport = try HTTPTransport(
            client: httpClient, baseURL: configuration.baseURL, apiKey: configuration.apiKey, options: options)
    }

    public func complete(_ messages: [ChatMessage], options: ChatOptions) async throws -> ChatCompletion {
        let body = try requestBody(messages, options: options, stream: false)
        let data = try await transport.postJSON("/chat/completions", body: body)
        let response: CompletionResponse
        do { response = try JSONDecoder().decode(CompletionResponse.self, from: data) } catch {
            throw invalidResponse(data, error)
        }
        if let error = response.error { throw RAGError(.server, redact(error.message), statusCode: 200) }
        guard let choice = response.choices?.first else {
            throw RAGError(.invalidResponse, "the chat completion has no choices")
        }
        return ChatCompletion(
            text: choice.message?.content ?? "", model: response.model ?? model, finishReason: choice.finish_reason,
            usage: response.usage?.usage)
    }

    public func stream(_ messages: [ChatMessage], options: ChatOptions) async throws -> TextDeltaStream {
        let body = try requestBody(messages, options: options, stream: true)
        let response = try await transport.postStreaming("/chat/completions", body: body)
        let idle = transport.options.streamIdleTimeout
        let apiKey = configuration.apiKey
        let (stream, continuation) = TextDeltaStream.makeStream()
        let task = Task {
            do {
                try await withIdleTimeout(idle, "streaming the chat completion") { touch in
                    var parser = ServerSentEventParser()
                    func handle(_ event: String) throws -> Bool {
                        let data = event.trimmingWhitespace()
                        if data == "[DONE]" { return true }
                        guard !data.isEmpty else { return false }
                        let chunk: CompletionResponse
                        do { chunk = try JSONDecoder().decode(CompletionResponse.self, from: Data(data.utf8)) } catch {
                            throw RAGError(.invalidResponse, "a streamed chunk is not a chat.completion.chunk: \(error)")
                        }
                        if let error = chunk.error {
                            throw RAGError(.server, apiKey?.redact(error.message) ?? error.message, statusCode: 200)
                        }
                        if let delta = chunk.choices?.first?.delta?.content, !delta.isEmpty {
                            continuation.yield(delta)
                        }
                        return false
                    }
                    for try await buffer in response.body {
                        touch()
                        for event in parser.feed(buffer.readableBytesView) where try handle(event) { return }
                    }
                    if let event = parser.finish() { _ = try handle(event) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: mapped(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func requestBody(_ messages: [ChatMessage], options: ChatOptions, stream: Bool) throws -> Data {
        guard !messages.isEmpty else { throw RAGError(.invalidArgument, "a chat request needs at least one message") }
        let request = CompletionRequest(
            model: model, messages: messages, stream: stream, temperature: options.temperature,
            max_tokens: options.maxTokens)
        return try JSONEncoder().encode(request)
    }

    private func redact(_ text: String) -> String { configuration.apiKey?.redact(text) ?? text }

    private func invalidResponse(_ data: Data, _ error: any Error) -> RAGError {
        if let message = HTTPTransport.errorMessage(in: data), data.count < 4096, !message.isEmpty {
            return RAGError(.invalidResponse, "the chat completion could not be read (\(error)); the server said: \(redact(message))")
        }
        return RAGError(.invalidResponse, "the chat completion could not be read: \(error)")
    }
}

// MARK: - Wire format (OpenAI chat completions)

struct CompletionRequest: Encodable {
    var model: String
    var messages: [ChatMessage]
    var stream: Bool
    var temperature: Double?
    var max_tokens: Int?
}

struct CompletionResponse: Decodable {
    struct Message: Decodable {
        var role: String?
        var content: String?
    }

    struct Choice: Decodable {
        var message: Message?
        var delta: Message?
        var finish_reason: String?
    }

    struct Usage: Decodable {
        var prompt_tokens: Int?
        var completion_tokens: Int?
        var total_tokens: Int?

        var usage: TokenUsage {
            TokenUsage(
                promptTokens: prompt_tokens ?? 0, completionTokens: completion_tokens ?? 0,
                totalTokens: total_tokens ?? (prompt_tokens ?? 0) + (completion_tokens ?? 0))
        }
    }

    struct ErrorBody: Decodable {
        var message: String
    }

    var model: String?
    var choices: [Choice]?
    var usage: Usage?
    var error: ErrorBody?
}
