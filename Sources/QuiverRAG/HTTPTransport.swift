import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Posts JSON to an OpenAI-compatible server: bearer auth, retries with backoff on 429/5xx
/// honouring `Retry-After`, timeouts, cancellation, and the server's error message surfaced in a
/// ``RAGError``. The API key goes into the `Authorization` header only and is redacted from every
/// message taken from a response.
struct HTTPTransport: Sendable {
    let client: HTTPClient
    /// The base URL without a trailing slash, e.g. `https://api.deepseek.com` or `http://127.0.0.1:8080/v1`.
    let baseURL: String
    let apiKey: APIKey?
    let options: HTTPOptions

    init(client: HTTPClient, baseURL: String, apiKey: APIKey?, options: HTTPOptions) throws {
        var base = baseURL.trimmingWhitespace()
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("http://") || base.hasPrefix("https://"), base.count > 8 else {
            throw RAGError(.invalidArgument, "base URL '\(base)' must start with http:// or https://")
        }
        self.client = client
        self.baseURL = base
        self.apiKey = apiKey
        self.options = options
    }

    func url(_ path: String) -> String { baseURL + path }

    private func request(_ path: String, body: Data, streaming: Bool) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: streaming ? "text/event-stream" : "application/json")
        request.headers.add(name: "User-Agent", value: "QuiverRAG")
        if let apiKey, !apiKey.value.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer " + apiKey.value)
        }
        for (name, value) in options.headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    /// POSTs `body` to `path` and returns the 2xx response body, retrying as ``HTTPOptions`` says.
    func postJSON(_ path: String, body: Data) async throws -> Data {
        try await withRetries {
            try await withTimeout(options.timeout, "POST \(path)") {
                let response = try await execute(request(path, body: body, streaming: false), deadline: options.timeout)
                let buffer = try await response.body.collect(upTo: 256 << 20)
                let data = Data(buffer.readableBytesView)
                guard (200..<300).contains(Int(response.status.code)) else {
                    throw serverError(status: Int(response.status.code), headers: response.headers, body: data)
                }
                return data
            }
        }
    }

    /// POSTs `body` to `path` and returns the response once its 2xx head has arrived; the body
    /// is the caller's to stream. Retries happen only before the head.
    func postStreaming(_ path: String, body: Data) async throws -> HTTPClientResponse {
        try await withRetries {
            let response = try await execute(request(path, body: body, streaming: true), deadline: options.timeout)
            guard (200..<300).contains(Int(response.status.code)) else {
                let data: Data
                do {
                    data = try await withTimeout(options.timeout, "reading the error body of POST \(path)") {
                        Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
                    }
                } catch {
                    data = Data()
                }
                throw serverError(status: Int(response.status.code), headers: response.headers, body: data)
            }
            return response
        }
    }

    private func execute(_ request: HTTPClientRequest, deadline: Duration) async throws -> HTTPClientResponse {
        do {
            return try await client.execute(request, timeout: deadline.timeAmount)
        } catch {
            throw mapped(error)
        }
    }

    /// Runs `body`, retrying retryable ``RAGError``s after `Retry-After` or an exponential backoff.
    func withRetries<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch let error as RAGError where error.isRetryable && attempt < options.maxRetries {
                let delay: Duration
                if let retryAfter = error.retryAfter {
                    guard retryAfter <= options.maxRetryAfter else { throw error }
                    delay = retryAfter
                } else {
                    delay = backoff(attempt: attempt)
                }
                attempt += 1
                do { try await Task.sleep(for: delay) } catch { throw RAGError(.cancelled, "cancelled while waiting to retry") }
            } catch {
                throw mapped(error)
            }
        }
    }

    /// `initialBackoff × 2^attempt`, capped, with ±25 % jitter.
    func backoff(attempt: Int) -> Duration {
        let base = options.initialBackoff * (1 << min(attempt, 20))
        let capped = min(base, options.maxBackoff)
        return capped * Double.random(in: 0.75...1.25)
    }

    /// A ``RAGError/Code/server`` error carrying the server's message (redacted) and `Retry-After`.
    func serverError(status: Int, headers: HTTPHeaders, body: Data) -> RAGError {
        var message = Self.errorMessage(in: body) ?? HTTPResponseStatus(statusCode: status).reasonPhrase
        if let apiKey { message = apiKey.redact(message) }
        return RAGError(.server, message, statusCode: status, retryAfter: Self.retryAfter(headers))
    }

    /// The human-readable message of an error body: `error.message`, `error` (a string),
    /// `message` or `detail`; else the body's text, shortened.
    static func errorMessage(in body: Data) -> String? {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let error = object["error"] as? [String: Any], let message = error["message"] as? String { return message }
            if let error = object["error"] as? String { return error }
            if let message = object["message"] as? String { return message }
            if let detail = object["detail"] as? String { return detail }
        }
        let text = String(decoding: body, as: UTF8.self).trimmingWhitespace()
        guard !text.isEmpty else { return nil }
        return text.count > 500 ? String(text.prefix(500)) + "…" : text
    }

    /// `retry-after-ms` (OpenAI), or `Retry-After` in seconds or as an HTTP date.
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        if let ms = headers.first(name: "retry-after-ms").flatMap({ Double($0.trimmingWhitespace()) }), ms >= 0 {
            return .milliseconds(ms)
        }
        guard let value = headers.first(name: "retry-after")?.trimmingWhitespace() else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(seconds * 1000) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let date = formatter.date(from: value) {
            return .milliseconds(max(0, date.timeIntervalSinceNow) * 1000)
        }
        return nil
    }
}

/// The HTTP client the OpenAI-compatible clients use unless given another: process-wide, never
/// shut down (like `HTTPClient.shared`), but with a 5-second connect timeout instead of the
/// shared client's 90 seconds, so a wrong base URL fails fast, and no read timeout (streams
/// have ``HTTPOptions/streamIdleTimeout``, requests ``HTTPOptions/timeout``).
public let defaultHTTPClient: HTTPClient = HTTPClient(
    eventLoopGroup: HTTPClient.defaultEventLoopGroup,
    configuration: HTTPClient.Configuration(
        timeout: HTTPClient.Configuration.Timeout(connect: .seconds(5)),
        decompression: .enabled(limit: .ratio(25))))

/// Maps cancellation, AsyncHTTPClient's timeouts and connection failures to ``RAGError``.
func mapped(_ error: any Error) -> any Error {
    if error is RAGError { return error }
    if error is CancellationError { return RAGError(.cancelled, "the request was cancelled") }
    if let e = error as? HTTPClientError {
        switch e {
        case .cancelled: return RAGError(.cancelled, "the request was cancelled")
        case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
            .getConnectionFromPoolTimeout:
            return RAGError(.timeout, "the request timed out (\(e))")
        default: return RAGError(.transport, "HTTP request failed: \(e)")
        }
    }
    if Task.isCancelled { return RAGError(.cancelled, "the request was cancelled") }
    return RAGError(.transport, "HTTP request failed: \(error)")
}

/// Runs `operation`, throwing ``RAGError/Code/timeout`` (and cancelling it) after `timeout`.
func withTimeout<T: Sendable>(
    _ timeout: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        do {
            if let value = try await group.next()! { return value }
        } catch {
            throw mapped(error)
        }
        throw RAGError(.timeout, "\(what) took longer than \(timeout)")
    }
}

/// Runs `operation`, which calls the `touch` it is given whenever it makes progress; throws
/// ``RAGError/Code/timeout`` (and cancels it) when `idle` passes without a touch.
func withIdleTimeout(
    _ idle: Duration, _ what: String, _ operation: @escaping @Sendable (_ touch: @escaping @Sendable () -> Void) async throws -> Void
) async throws {
    let clock = ContinuousClock()
    let last = LastActivity(clock.now)
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await operation { last.instant.withLock { $0 = clock.now } }
            return true
        }
        group.addTask {
            while true {
                let deadline = last.instant.withLock { $0 } + idle
                if clock.now >= deadline { return false }
                try await Task.sleep(until: deadline, clock: clock)
            }
        }
        defer { group.cancelAll() }
        let finished: Bool
        do { finished = try await group.next()! } catch { throw mapped(error) }
        if !finished { throw RAGError(.timeout, "\(what): nothing arrived for \(idle)") }
    }
}

/// The time of the last progress, shared by a stream's reader and its watchdog.
private final class LastActivity: Sendable {
    let instant: Mutex<ContinuousClock.Instant>
    init(_ now: ContinuousClock.Instant) { instant = Mutex(now) }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
