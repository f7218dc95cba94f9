/// Timeouts and retries of the OpenAI-compatible clients.
///
/// ```swift
/// var options = HTTPOptions()
/// options.timeout = .seconds(120)   // slow local model
/// options.maxRetries = 5
/// ```
public struct HTTPOptions: Sendable, Hashable {
    /// The longest a non-streaming request may take, all retries' waits excluded; for a
    /// streaming request, the longest wait for the response head.
    public var timeout: Duration = .seconds(120)
    /// The longest wait between two chunks of a streaming response.
    public var streamIdleTimeout: Duration = .seconds(60)
    /// How many times a request is retried after a 408, 409, 429 or 5xx answer, a timeout or a
    /// connection failure (a streaming request only until its response head arrives).
    public var maxRetries: Int = 3
    /// The first backoff; it doubles on each retry (with jitter) up to ``maxBackoff``.
    public var initialBackoff: Duration = .milliseconds(500)
    /// The longest backoff between two retries.
    public var maxBackoff: Duration = .seconds(20)
    /// A `Retry-After` longer than this is not waited for: the error is thrown at once.
    public var maxRetryAfter: Duration = .seconds(120)
    /// Extra headers for every request (e.g. OpenRouter's `HTTP-Referer` and `X-Title`).
    public var headers: [String: String] = [:]

    /// The defaults: 120 s timeout, 60 s stream idle timeout, 3 retries, backoff from 0.5 s up to 20 s.
    public init() {}
}
