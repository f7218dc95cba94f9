/// One message of a chat.
public struct ChatMessage: Sendable, Hashable, Codable {
    public enum Role: String, Sendable, Hashable, Codable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: .system, content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: .assistant, content: content) }
}

/// Sampling settings for one request; `nil` leaves the server's default.
public struct ChatOptions: Sendable, Hashable {
    public var temperature: Double?
    public var maxTokens: Int?

    public init(temperature: Double? = nil, maxTokens: Int? = nil) {
        self.temperature = temperature
        self.maxTokens = maxTokens
    }
}

/// Token counts as the server reports them.
public struct TokenUsage: Sendable, Hashable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens
    }
}

/// A finished, non-streamed answer.
public struct ChatCompletion: Sendable, Hashable {
    /// The assistant's text.
    public var text: String
    /// The model the server says answered (may differ from the requested name, e.g. a version).
    public var model: String
    /// `stop`, `length`, … as the server reports it.
    public var finishReason: String?
    public var usage: TokenUsage?

    public init(text: String, model: String, finishReason: String? = nil, usage: TokenUsage? = nil) {
        self.text = text
        self.model = model
        self.finishReason = finishReason
        self.usage = usage
    }
}

/// The text deltas of a streamed answer, in order. Iteration throws ``RAGError`` on a failure
/// mid-stream (`.timeout` when the server goes quiet); breaking out of the loop or cancelling
/// the task closes the connection.
public typealias TextDeltaStream = AsyncThrowingStream<String, any Error>

/// A chat model: non-streaming and streaming completion.
///
/// ```swift
/// let chat = try OpenAIChatModel(configuration: .deepSeek(apiKey: key))
/// let reply = try await chat.complete([.system("Be brief."), .user("What is Milvus?")])
/// for try await delta in try await chat.stream([.user("Count to 3")]) { print(delta, terminator: "") }
/// ```
public protocol ChatModel: Sendable {
    /// The model name sent with each request.
    var model: String { get }
    /// The whole answer at once.
    ///
    /// - Throws: ``RAGError`` — `.server` with the server's message, `.timeout`, `.cancelled`, `.transport`.
    func complete(_ messages: [ChatMessage], options: ChatOptions) async throws -> ChatCompletion
    /// The answer as text deltas; returns once the server has accepted the request, so HTTP
    /// errors are thrown here, not during iteration.
    func stream(_ messages: [ChatMessage], options: ChatOptions) async throws -> TextDeltaStream
}

extension ChatModel {
    public func complete(_ messages: [ChatMessage]) async throws -> ChatCompletion {
        try await complete(messages, options: ChatOptions())
    }

    public func stream(_ messages: [ChatMessage]) async throws -> TextDeltaStream {
        try await stream(messages, options: ChatOptions())
    }
}
