import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverRAG

/// The OpenAI-compatible clients against an in-process server on 127.0.0.1.
///
/// Upper time bounds are generous on purpose: under `swift test` these tests share the
/// cooperative pool (two threads on two cores) with the engine's CPU-bound tests, which can delay
/// any task by tens of seconds. They catch hangs, not slowness; lower bounds check the behaviour.
@Suite struct HTTPClientTests {
    static let hangBound: Duration = .seconds(100)

    static let key = "sk-test-0123456789abcdefSECRET"

    func chat(_ server: TestServer, _ configure: (inout HTTPOptions) -> Void = { _ in }) throws -> OpenAIChatModel {
        var options = HTTPOptions()
        options.initialBackoff = .milliseconds(20)
        configure(&options)
        return try OpenAIChatModel(
            configuration: ChatConfiguration(baseURL: server.baseURL + "/", apiKey: APIKey(Self.key), model: "deepseek-chat"),
            options: options)
    }

    @Test func completionRequestAndResponseShapes() async throws {
        try await withTestServer({ _, _ in .json(body: completionJSON("Paris", model: "deepseek-chat-v3")) }) { server in
            let reply = try await chat(server).complete(
                [.system("Be brief."), .user("Capital of France?")], options: ChatOptions(temperature: 0, maxTokens: 16))
            #expect(reply.text == "Paris")
            #expect(reply.model == "deepseek-chat-v3")
            #expect(reply.finishReason == "stop")
            #expect(reply.usage == TokenUsage(promptTokens: 11, completionTokens: 3, totalTokens: 14))
            let r = try #require(server.requests.first)
            #expect(r.method == "POST")
            #expect(r.path == "/v1/chat/completions")
            #expect(r.headers["authorization"] == "Bearer \(Self.key)")
            #expect(r.headers["content-type"] == "application/json")
            let body = r.json
            #expect(body["model"] as? String == "deepseek-chat")
            #expect(body["stream"] as? Bool == false)
            #expect(body["temperature"] as? Double == 0)
            #expect(body["max_tokens"] as? Int == 16)
            let messages = body["messages"] as! [[String: String]]
            #expect(messages == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Capital of France?"]])
        }
    }

    @Test func noKeyMeansNoAuthorizationHeader() async throws {
        try await withTestServer({ _, _ in .json(body: completionJSON("ok")) }) { server in
            let model = try OpenAIChatModel(configuration: ChatConfiguration(baseURL: server.baseURL, apiKey: nil, model: "m"))
            _ = try await model.complete([.user("hi")])
            #expect(server.requests[0].headers["authorization"] == nil)
            #expect(server.requests[0].json["temperature"] == nil)
        }
    }

    @Test func streamingDeltasAcrossSplitReads() async throws {
        // Events split mid-line and mid-character ("é" is 0xC3 0xA9), CRLF line ends, a comment,
        // the role-only first chunk, a usage chunk with no choices, then [DONE].
        let events = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}]}\n\n"
            + ": keep-alive\n\n" + chunkEvent("Caf") + chunkEvent("é au lait").replacingOccurrences(of: "\n\n", with: "\r\n\r\n")
            + chunkEvent(" ✓") + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}\n\n"
            + "data: [DONE]\n\n"
        let bytes = Array(events.utf8)
        let eIndex = bytes.firstIndex(of: 0xC3)!
        let pieces = [Array(bytes[..<17]), Array(bytes[17...eIndex]), Array(bytes[(eIndex + 1)...])]
        try await withTestServer({ _, _ in .stream(pieces: pieces) }) { server in
            var deltas = [String]()
            for try await d in try await chat(server).stream([.user("hi")]) { deltas.append(d) }
            #expect(deltas == ["Caf", "é au lait", " ✓"])
            #expect(server.requests[0].json["stream"] as? Bool == true)
            #expect(server.requests[0].headers["accept"] == "text/event-stream")
        }
    }

    @Test func serverErrorMessageIsSurfacedWithoutTheKey() async throws {
        let body = "{\"error\":{\"message\":\"Incorrect API key provided: \(Self.key)\",\"type\":\"invalid_request_error\"}}"
        try await withTestServer({ _, _ in .json(status: 401, body: body) }) { server in
            let model = try chat(server)
            for streaming in [false, true] {
                do {
                    if streaming { _ = try await model.stream([.user("hi")]) } else { _ = try await model.complete([.user("hi")]) }
                    Issue.record("expected an error")
                } catch let e as RAGError {
                    #expect(e.code == .server)
                    #expect(e.statusCode == 401)
                    #expect(e.message.hasPrefix("Incorrect API key provided"))
                    #expect(!e.description.contains("SECRET") && !e.description.contains("0123456789abcdef"))
                }
            }
            #expect(server.requests.count == 2)  // 401 is not retried
        }
        #expect("\(APIKey(Self.key))" == "<redacted>")
        #expect(!"\(ChatConfiguration(baseURL: "http://x", apiKey: APIKey(Self.key), model: "m"))".contains("SECRET"))
        #expect(!String(reflecting: ChatConfiguration(baseURL: "http://x", apiKey: APIKey(Self.key), model: "m")).contains("SECRET"))
    }

    @Test func plainTextErrorBodies() async throws {
        try await withTestServer({ _, _ in .json(status: 404, body: "model 'nope' not found") }) { server in
            await #expect(throws: RAGError(.server, "model 'nope' not found", statusCode: 404)) {
                _ = try await chat(server).complete([.user("hi")])
            }
        }
    }

    @Test func retryAfterIsHonouredOn429() async throws {
        try await withTestServer({ _, i in
            i == 0 ? .json(status: 429, headers: ["Retry-After": "1"], body: "{\"error\":{\"message\":\"slow down\"}}")
                : .json(body: completionJSON("ok"))
        }) { server in
            let start = ContinuousClock.now
            let reply = try await chat(server).complete([.user("hi")])
            let waited = ContinuousClock.now - start
            #expect(reply.text == "ok")
            #expect(server.requests.count == 2)
            #expect(waited >= .milliseconds(950))
            #expect(waited < Self.hangBound)
        }
    }

    @Test func fiveHundredsAreRetriedWithBackoffThenSurfaced() async throws {
        try await withTestServer({ _, _ in .json(status: 503, body: "{\"error\":{\"message\":\"overloaded\"}}") }) { server in
            do {
                _ = try await chat(server) { $0.maxRetries = 2 }.complete([.user("hi")])
                Issue.record("expected an error")
            } catch let e as RAGError {
                #expect(e == RAGError(.server, "overloaded", statusCode: 503))
            }
            #expect(server.requests.count == 3)
        }
        try await withTestServer({ _, i in i < 2 ? .json(status: 500, body: "{}") : .json(body: completionJSON("third time")) }) { server in
            let text = try await chat(server).complete([.user("hi")]).text
            #expect(text == "third time")
        }
    }

    @Test func aRetryAfterLongerThanAllowedIsNotWaitedFor() async throws {
        try await withTestServer({ _, _ in .json(status: 429, headers: ["Retry-After": "3600"], body: "{}") }) { server in
            await #expect(throws: RAGError.self) { _ = try await chat(server).complete([.user("hi")]) }
            #expect(server.requests.count == 1)
        }
    }

    @Test func requestTimeout() async throws {
        try await withTestServer({ _, _ in .hang }) { server in
            let start = ContinuousClock.now
            do {
                _ = try await chat(server) { $0.timeout = .milliseconds(300); $0.maxRetries = 0 }.complete([.user("hi")])
                Issue.record("expected a timeout")
            } catch let e as RAGError {
                #expect(e.code == .timeout)
            }
            #expect(ContinuousClock.now - start < Self.hangBound)
        }
    }

    @Test func aTimedOutRequestIsRetried() async throws {
        try await withTestServer({ _, i in i == 0 ? .hang : .json(body: completionJSON("second try")) }) { server in
            let reply = try await chat(server) { $0.timeout = .seconds(2); $0.maxRetries = 1 }.complete([.user("hi")])
            #expect(reply.text == "second try")
            #expect(server.requests.count == 2)
        }
    }

    @Test func streamIdleTimeout() async throws {
        try await withTestServer({ _, _ in .sse([chunkEvent("first")], then: .hang) }) { server in
            let stream = try await chat(server) { $0.streamIdleTimeout = .milliseconds(300) }.stream([.user("hi")])
            var deltas = [String]()
            do {
                for try await d in stream { deltas.append(d) }
                Issue.record("expected a timeout")
            } catch let e as RAGError {
                #expect(e.code == .timeout)
            }
            #expect(deltas == ["first"])
        }
    }

    @Test func cancellingARequestStopsIt() async throws {
        try await withTestServer({ _, _ in .hang }) { server in
            let model = try chat(server)
            let task = Task { try await model.complete([.user("hi")]) }
            try await Task.sleep(for: .milliseconds(200))
            let start = ContinuousClock.now
            task.cancel()
            do {
                _ = try await task.value
                Issue.record("expected cancellation")
            } catch let e as RAGError {
                #expect(e.code == .cancelled)
            }
            #expect(ContinuousClock.now - start < Self.hangBound)
        }
    }

    @Test func cancellingAStreamClosesTheConnection() async throws {
        try await withTestServer({ _, _ in .sse([chunkEvent("one")], then: .ping) }) { server in
            let model = try chat(server)
            let received = CallCounter()
            let task = Task {
                for try await _ in try await model.stream([.user("hi")]) { received.add(1) }
            }
            // Cancel only once the stream is flowing (the machine may be slow).
            let flowing = ContinuousClock.now + Self.hangBound
            while received.count == 0, ContinuousClock.now < flowing { try await Task.sleep(for: .milliseconds(20)) }
            #expect(received.count == 1)
            task.cancel()
            _ = try? await task.value
            let deadline = ContinuousClock.now + Self.hangBound
            while server.disconnects == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(server.disconnects == 1)
        }
    }

    @Test func streamErrorEventIsSurfaced() async throws {
        try await withTestServer({ _, _ in .sse([chunkEvent("a"), "data: {\"error\":{\"message\":\"context too long\"}}\n\n"]) }) { server in
            var got = [String]()
            do {
                for try await d in try await chat(server).stream([.user("hi")]) { got.append(d) }
                Issue.record("expected an error")
            } catch let e as RAGError {
                #expect(e.code == .server && e.message == "context too long")
            }
            #expect(got == ["a"])
        }
    }

    @Test func connectionRefusedIsATransportError() async throws {
        let url = "http://127.0.0.1:1/v1"  // nothing listens on port 1
        var options = HTTPOptions()
        options.maxRetries = 0
        let model = try OpenAIChatModel(configuration: ChatConfiguration(baseURL: url, apiKey: nil, model: "m"), options: options)
        do {
            _ = try await model.complete([.user("hi")])
            Issue.record("expected an error")
        } catch let e as RAGError {
            #expect(e.code == .transport || e.code == .timeout)
        }
    }

    // MARK: - Embeddings

    static func embeddingsJSON(_ body: [String: Any], dimension: Int = 3, reversed: Bool = false) -> String {
        let input = body["input"] as! [String]
        var items = input.enumerated().map { i, text in
            "{\"object\":\"embedding\",\"index\":\(i),\"embedding\":[\(Float(text.count)),\(Float(i)),\((1...max(1, dimension - 2)).map { _ in "0.5" }.joined(separator: ","))]}"
        }
        if reversed { items.reverse() }
        return "{\"object\":\"list\",\"model\":\"m\",\"data\":[\(items.joined(separator: ","))],\"usage\":{\"prompt_tokens\":1,\"total_tokens\":1}}"
    }

    @Test func embeddingsBatchAndKeepOrder() async throws {
        try await withTestServer({ r, _ in .json(body: Self.embeddingsJSON(r.json, reversed: true)) }) { server in
            let embedder = try OpenAIEmbedding(
                configuration: EmbeddingConfiguration(baseURL: server.baseURL, apiKey: APIKey("k"), model: "text-embedding-3-small"),
                dimension: 3, batchSize: 2)
            #expect(embedder.name == "openai:text-embedding-3-small")
            let vectors = try await embedder.encodeDocuments(["a", "bb", "ccc", "dddd", ""])
            #expect(vectors.map { $0[0] } == [1, 2, 3, 4, 1])
            #expect(server.requests.count == 3)
            #expect(server.requests.allSatisfy { $0.path == "/v1/embeddings" && $0.headers["authorization"] == "Bearer k" })
            #expect(server.requests[0].json["model"] as? String == "text-embedding-3-small")
            #expect(server.requests[0].json["input"] as? [String] == ["a", "bb"])
            #expect(server.requests[2].json["input"] as? [String] == [" "])
        }
    }

    @Test func embeddingsDiscoverTheDimensionAndRetry429() async throws {
        try await withTestServer({ r, i in
            i == 1 ? .json(status: 429, headers: ["retry-after-ms": "100"], body: "{}") : .json(body: Self.embeddingsJSON(r.json, dimension: 5))
        }) { server in
            let embedder = try await OpenAIEmbedding.connect(EmbeddingConfiguration(baseURL: server.baseURL, apiKey: nil, model: "m"))
            #expect(embedder.dimension == 5)
            let v = try await embedder.encodeQueries(["hello"])
            #expect(v == [[5, 0, 0.5, 0.5, 0.5]])
            #expect(server.requests.count == 3)
        }
    }

    @Test func embeddingsWithTheWrongDimensionAreRefused() async throws {
        try await withTestServer({ r, _ in .json(body: Self.embeddingsJSON(r.json, dimension: 4)) }) { server in
            let embedder = try OpenAIEmbedding(configuration: EmbeddingConfiguration(baseURL: server.baseURL, apiKey: nil, model: "m"), dimension: 3)
            await #expect(throws: RAGError.self) { _ = try await embedder.encodeDocuments(["x"]) }
        }
    }

    /// Ingest and answer through HTTP embeddings and HTTP chat.
    @Test func pipelineOverHTTP() async throws {
        try await withTestServer({ r, _ in
            r.path.hasSuffix("/embeddings") ? .json(body: Self.embeddingsJSON(r.json)) : .json(body: completionJSON("from context"))
        }) { server in
            try await withTemporaryDatabase { db, _ in
                let embedder = try OpenAIEmbedding(configuration: EmbeddingConfiguration(baseURL: server.baseURL, apiKey: nil, model: "m"), dimension: 3)
                let chat = try OpenAIChatModel(configuration: ChatConfiguration(baseURL: server.baseURL, apiKey: nil, model: "m"))
                let rag = RAGPipeline(database: db, embedder: embedder, chatModel: chat)
                try await rag.ingest([Document(source: "x", text: "# one\n# two")], splitter: SeparatorSplitter())
                let answer = try await rag.answer("q?", limit: 2)
                #expect(answer.answer == "from context" && answer.sources.count == 2 && answer.model == "test-model")
                let last = try #require(server.requests.last?.json["messages"] as? [[String: String]])
                #expect(last[1]["content"]!.contains("<context>\n") && last[1]["content"]!.hasSuffix("<question>\nq?\n</question>"))
            }
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func environmentSelection() {
        #expect(ChatConfiguration.fromEnvironment([:]) == nil)
        let deepseek = ChatConfiguration.fromEnvironment(["DEEPSEEK_API_KEY": "d"])
        #expect(deepseek?.baseURL == "https://api.deepseek.com" && deepseek?.model == "deepseek-chat" && deepseek?.apiKey?.value == "d")
        let router = ChatConfiguration.fromEnvironment(["OPENROUTER_API_KEY": "o"])
        #expect(router?.baseURL == "https://openrouter.ai/api/v1" && router?.apiKey?.value == "o")
        let local = ChatConfiguration.fromEnvironment([
            "QUIVER_LLM_BASE_URL": "http://127.0.0.1:18080/v1", "QUIVER_LLM_MODEL": "smol", "DEEPSEEK_API_KEY": "d",
        ])
        #expect(local?.baseURL == "http://127.0.0.1:18080/v1" && local?.model == "smol" && local?.apiKey == nil)
        let openai = ChatConfiguration.fromEnvironment(["QUIVER_LLM_API_KEY": "k", "QUIVER_LLM_MODEL": "gpt-4.1"])
        #expect(openai?.baseURL == "https://api.openai.com/v1" && openai?.model == "gpt-4.1")
        #expect(ChatConfiguration.fromEnvironment(["DEEPSEEK_API_KEY": "  "]) == nil)

        #expect(EmbeddingConfiguration.fromEnvironment(["QUIVER_EMBEDDING_MODEL": "m"]) == nil)
        let e = EmbeddingConfiguration.fromEnvironment([
            "QUIVER_EMBEDDING_BASE_URL": "http://h/v1", "QUIVER_EMBEDDING_MODEL": "m", "QUIVER_EMBEDDING_DIMENSION": "384",
        ])
        #expect(e == EmbeddingConfiguration(baseURL: "http://h/v1", apiKey: nil, model: "m", dimension: 384))
    }

    @Test func badBaseURLIsRefused() {
        #expect(throws: RAGError.self) { try OpenAIChatModel(configuration: ChatConfiguration(baseURL: "api.deepseek.com", apiKey: nil, model: "m")) }
    }

    @Test func retryAfterParsing() {
        #expect(HTTPTransport.retryAfter(["Retry-After": "2"]) == .seconds(2))
        #expect(HTTPTransport.retryAfter(["Retry-After": "0.5"]) == .milliseconds(500))
        #expect(HTTPTransport.retryAfter(["retry-after-ms": "250", "Retry-After": "9"]) == .milliseconds(250))
        let date = HTTPTransport.retryAfter(["Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"])
        #expect(date == .zero)
        #expect(HTTPTransport.retryAfter([:]) == nil)
    }

    @Test func sseParser() {
        var p = ServerSentEventParser()
        #expect(p.feed(Array("data: a\ndata: b\n\n: c\n\nevent: x\ndata:d\r\n\r".utf8)) == ["a\nb", "d"])
        #expect(p.feed(Array("\ndata: tail".utf8)) == [])
        #expect(p.finish() == "tail")
    }
}

/// An end-to-end run against a real OpenAI-compatible server (e.g. llama.cpp's), when
/// `QUIVER_TEST_LLM_BASE_URL` is set (`QUIVER_TEST_LLM_MODEL`, `QUIVER_TEST_LLM_API_KEY`, and for
/// real embeddings `QUIVER_TEST_EMBEDDING_BASE_URL`, `QUIVER_TEST_EMBEDDING_MODEL`). The model may be
/// tiny: this checks the pipeline, not wording.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["QUIVER_TEST_LLM_BASE_URL"] != nil, "set QUIVER_TEST_LLM_BASE_URL to run"),
       .enabled(if: SharedData.isAvailable, SharedData.absent))
struct RealLLMTests {
    var model: OpenAIChatModel {
        get throws {
            let env = ProcessInfo.processInfo.environment
            var options = HTTPOptions()
            options.timeout = .seconds(300)
            return try OpenAIChatModel(
                configuration: ChatConfiguration(
                    baseURL: env["QUIVER_TEST_LLM_BASE_URL"]!, apiKey: env["QUIVER_TEST_LLM_API_KEY"].map(APIKey.init),
                    model: env["QUIVER_TEST_LLM_MODEL"] ?? "default"),
                options: options)
        }
    }

    @Test func answerAndStreamFromTheFAQ() async throws {
        try await withTemporaryDatabase { db, _ in
            // Real embeddings when QUIVER_TEST_EMBEDDING_BASE_URL is set (e.g. llama.cpp with --embeddings).
            let env = ProcessInfo.processInfo.environment
            var embedder: any EmbeddingFunction = HashingEmbedding(dimension: 256)
            if let base = env["QUIVER_TEST_EMBEDDING_BASE_URL"] {
                embedder = try await OpenAIEmbedding.connect(EmbeddingConfiguration(
                    baseURL: base, apiKey: nil, model: env["QUIVER_TEST_EMBEDDING_MODEL"] ?? "all-MiniLM-L6-v2"))
            }
            let rag = RAGPipeline(database: db, embedder: embedder, chatModel: try model)
            try await rag.ingest(files: try SharedData.markdownFiles("milvus-faq"), splitter: SeparatorSplitter(separator: "# "))
            let question = "How is data stored in milvus?"
            let answer = try await rag.answer(question, limit: 3, options: ChatOptions(temperature: 0, maxTokens: 64))
            print("[e2e] embedder=\(embedder.name) model=\(answer.model) sources=\(answer.sources.map { "\($0.id) \($0.distance)" }) answer=\(answer.answer.debugDescription)")
            #expect(!answer.answer.isEmpty)
            #expect(answer.sources.count == 3)

            let streamed = try await rag.streamAnswer(question, limit: 3, options: ChatOptions(temperature: 0, maxTokens: 32))
            var deltas = [String]()
            for try await d in streamed.deltas { deltas.append(d) }
            print("[e2e] stream: \(deltas.count) deltas: \(deltas.joined().debugDescription)")
            #expect(deltas.count > 1)

            let plain = try await rag.answer(question, useRetrieval: false, options: ChatOptions(temperature: 0, maxTokens: 64))
            print("[e2e] no-rag answer=\(plain.answer.debugDescription)")
            #expect(!plain.answer.isEmpty && plain.sources.isEmpty)
        }
    }
}
