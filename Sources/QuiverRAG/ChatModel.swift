/// One message of a chat.
///
/// ```swift
/// let messages: [ChatMessage] = [.system("Answer in one sentence."), .user("What is Milvus?")]
/// ```
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Who speaks in a message; the raw value is the wire name (`"system"`, `"user"`, `"assistant"`).
    public enum Role: String, Sendable, Hashable, Codable {
        /// Instructions for the model that frame the conversation.
        case system
        /// The person asking.
        case user
        /// The model's earlier answers.
        case assistant
    }

    /// Who speaks.
    public var role: Role
    /// The message's text.
    public var content: String

    /// A message from `role` with the text `content`.
    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }

    /// A ``Role/system`` message: instructions for the model.
    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: .system, content: content) }
    /// A ``Role/user`` message: the question or request.
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }
    /// An ``Role/assistant`` message: an earlier answer, to continue a conversation.
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: .assistant, content: content) }
}

/// Sampling settings for one request; `nil` leaves the server's default.
public struct ChatOptions: Sendable, Hashable {
    /// The sampling temperature sent as `temperature` (0 is near-deterministic; OpenAI accepts 0–2).
    public var temperature: Double?
    /// The most tokens the answer may have, sent as `max_tokens`; a longer answer stops with
    /// finish reason `length`.
    public var maxTokens: Int?

    /// Options with the given settings; both default to `nil`, the server's defaults.
    public init(temperature: Double? = nil, maxTokens: Int? = nil) {
        self.temperature = temperature
        self.maxTokens = maxTokens
    }
}

/// Token counts as the server reports them.
public struct TokenUsage: Sendable, Hashable, Codable {
    /// Tokens in the request's messages (`prompt_tokens`).
    public var promptTokens: Int
    /// Tokens in the answer (`completion_tokens`).
    public var completionTokens: Int
    /// Both together (`total_tokens`; their sum when the server omits it).
    public var totalTokens: Int

    /// Usage with the given counts.
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
    /// The token counts, when the server reports them.
    public var usage: TokenUsage?

    /// A completion with the given text, model and, when known, finish reason and usage.
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
    ///
    /// - Throws: ``RAGError`` — `.server` with the server's message, `.timeout`, `.cancelled`, `.transport`.
    func stream(_ messages: [ChatMessage], options: ChatOptions) async throws -> TextDeltaStream
}

extension ChatModel {
    /// The whole answer at once, with the server's default sampling settings.
    ///
    /// - Throws: ``RAGError`` — `.server` with the server's message, `.timeout`, `.cancelled`, `.transport`.
    public func complete(_ messages: [ChatMessage]) async throws -> ChatCompletion {
        try await complete(messages, options: ChatOptions())
    }

    /// The answer as text deltas, with the server's default sampling settings.
    ///
    /// - Throws: ``RAGError`` when the server does not accept the request; failures after that
    ///   are thrown by the stream's iteration.
    public func stream(_ messages: [ChatMessage]) async throws -> TextDeltaStream {
        try await stream(messages, options: ChatOptions())
    }
}
