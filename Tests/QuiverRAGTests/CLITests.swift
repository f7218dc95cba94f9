import Foundation
import Quiver
import QuiverTestSupport
import Testing
@testable import QuiverRAG

/// `quiver ingest`, `retrieve` and `ask` as a user runs them, against the in-process server
/// for embeddings (hashed bag of words) and chat.
@Suite(.serialized) struct RAGCLITests {
    /// Runs the executable on a dispatch thread, so the test server keeps the cooperative pool.
    func run(_ args: [String], env: [String: String]) async throws -> QuiverExecutable.Output {
        var environment = ProcessInfo.processInfo.environment
        for name in ["DEEPSEEK_API_KEY", "OPENROUTER_API_KEY", "QUIVER_LLM_BASE_URL", "QUIVER_LLM_API_KEY", "QUIVER_LLM_MODEL",
            "QUIVER_EMBEDDING_BASE_URL", "QUIVER_EMBEDDING_API_KEY", "QUIVER_EMBEDDING_MODEL", "QUIVER_MODEL_DIR"]
        {
            environment[name] = nil
        }
        environment.merge(env) { $1 }
        let finalEnvironment = environment
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try QuiverExecutable.run(args, environment: finalEnvironment) })
            }
        }
    }

    static let secret = "sk-cli-secret-abcdefghijklmnop"

    @Test(.enabled(if: SharedData.isAvailable, SharedData.absent)) func ingestRetrieveAsk() async throws {
        let embedder = HashingEmbedding(dimension: 128)
        try await withTestServer({ r, _ in
            if r.path.hasSuffix("/embeddings") {
                let input = r.json["input"] as! [String]
                let data = input.enumerated().map { i, t in
                    "{\"index\":\(i),\"embedding\":[\(embedder.vector(t).map { "\($0)" }.joined(separator: ","))]}"
                }
                return .json(body: "{\"data\":[\(data.joined(separator: ","))]}")
            }
            if r.headers["authorization"] == "Bearer \(Self.secret)" {
                return .json(status: 401, body: "{\"error\":{\"message\":\"Incorrect API key provided: \(Self.secret)\"}}")
            }
            if r.json["stream"] as? Bool == true {
                return .sse([chunkEvent("Streamed"), chunkEvent(" answer."), "data: [DONE]\n\n"])
            }
            return .json(body: completionJSON("Milvus stores data in object storage.", model: "smol"))
        }) { server in
            let base = NSTemporaryDirectory() + "quiver-rag-cli-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: base) }
            let db = base + "/db"
            let faq = try SharedData.url("milvus-faq").path
            // No built-in model in these runs, whether or not one is installed here.
            let noModel = ["QUIVER_MODEL_DIR": base + "/no-model"]
            let embed = noModel.merging(["QUIVER_EMBEDDING_BASE_URL": server.baseURL, "QUIVER_EMBEDDING_MODEL": "hash"]) { $1 }

            var r = try await run(["ingest", db, faq, "--chunking", "separator"], env: noModel)
            #expect(r.status != 0 && r.stderr.contains("QUIVER_EMBEDDING_BASE_URL"))

            r = try await run(["ingest", db, faq, "--chunking", "separator", "--separator", "# ", "--embedder", "openai"], env: embed)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.isEmpty)  // no progress in a pipe
            var summary = try Value(json: r.stdout)
            #expect(summary.objectValue?["chunks"] == 72 && summary.objectValue?["embedded"] == 72)
            #expect(summary.objectValue?["embedder"] == "openai:hash")

            r = try await run(["ingest", db, faq, "--chunking", "separator"], env: embed)
            summary = try Value(json: r.stdout)
            #expect(summary.objectValue?["embedded"] == 0 && summary.objectValue?["unchanged"] == 72)

            // Hybrid by default; the JSON says which mode ran.
            r = try await run(["retrieve", db, "Where does Milvus store data?", "--json"], env: embed)
            #expect(r.status == 0, "\(r.stderr)")
            let hybrid = try #require(try Value(json: r.stdout).objectValue)
            #expect(hybrid["mode"] == "hybrid" && hybrid["chunks"]?.arrayValue?.count == 3)

            r = try await run(["retrieve", db, "Where does Milvus store data?", "--json", "--mode", "dense"], env: embed)
            #expect(r.status == 0, "\(r.stderr)")
            let dense = try #require(try Value(json: r.stdout).objectValue)
            #expect(dense["mode"] == "dense")
            let hits = try #require(dense["chunks"]?.arrayValue)
            #expect(hits.count == 3)
            #expect(hits.allSatisfy { Set($0.objectValue?.keys.map { $0 } ?? []) == ["id", "distance", "text", "source", "headings"] })
            // The closest chunk by brute force with the same embedder.
            let q = embedder.vector("Where does Milvus store data?")
            var best = (score: -Float.infinity, chunk: Chunk(text: "", source: "", index: 0))
            for file in try SharedData.markdownFiles("milvus-faq") {
                for c in SeparatorSplitter().split(try String(contentsOfFile: file, encoding: .utf8), source: file) {
                    let score = zip(q, embedder.vector(c.text)).reduce(0) { $0 + $1.0 * $1.1 }
                    if score > best.score { best = (score, c) }
                }
            }
            #expect(hits[0].objectValue?["id"]?.stringValue == RAGPipeline.chunkID(source: best.chunk.source, index: best.chunk.index))
            #expect(hits[0].objectValue?["text"]?.stringValue == best.chunk.text)
            #expect(hits[0].objectValue?["headings"] == .array(best.chunk.headings.map(Value.string)))

            // BM25 returns only chunks that hold a query term.
            r = try await run(["retrieve", db, "MinIO", "--json", "--mode", "bm25", "--limit", "10"], env: embed)
            #expect(r.status == 0, "\(r.stderr)")
            let bm25 = try #require(try Value(json: r.stdout).objectValue)
            let termHits = try #require(bm25["chunks"]?.arrayValue)
            #expect(bm25["mode"] == "bm25" && !termHits.isEmpty)
            #expect(termHits.allSatisfy { $0.objectValue?["text"]?.stringValue?.lowercased().contains("minio") == true })
            #expect(termHits.allSatisfy { ($0.objectValue?["distance"]?.doubleValue ?? 0) > 0 })

            r = try await run(["retrieve", db, "MinIO", "--mode", "sparse"], env: embed)
            #expect(r.status != 0 && r.stderr.contains("--mode"))

            r = try await run(["retrieve", db, "Where does Milvus store data?", "--json", "--limit", "5", "--filter", "source like \"%operational_faq.md\""], env: embed)
            #expect(r.status == 0, "\(r.stderr)")
            let filtered = try #require(try Value(json: r.stdout).objectValue?["chunks"]?.arrayValue)
            #expect(filtered.count == 5 && filtered.allSatisfy { $0.objectValue?["source"]?.stringValue == faq + "/operational_faq.md" })

            r = try await run(["retrieve", db, "Where does Milvus store data?", "--limit", "1", "--mode", "dense"], env: embed)
            #expect(r.status == 0 && r.stdout.hasPrefix("1. ") && r.stdout.contains(best.chunk.source))

            // No LLM: the context and the variables to set, non-zero exit.
            r = try await run(["ask", db, "Where does Milvus store data?", "--mode", "dense"], env: embed)
            #expect(r.status == 2)
            #expect(r.stdout.hasPrefix("Retrieved context:") && r.stdout.contains(best.chunk.source))
            #expect(r.stderr.contains("DEEPSEEK_API_KEY") && r.stderr.contains("QUIVER_LLM_BASE_URL"))

            let llm = embed.merging(["QUIVER_LLM_BASE_URL": server.baseURL, "QUIVER_LLM_MODEL": "smol"]) { $1 }
            r = try await run(["ask", db, "Where does Milvus store data?", "--json"], env: llm)
            #expect(r.status == 0, "\(r.stderr)")
            let answer = try #require(try Value(json: r.stdout).objectValue)
            #expect(answer["answer"] == "Milvus stores data in object storage.")
            #expect(answer["model"] == "smol")
            #expect(answer["mode"] == "hybrid")
            #expect(answer["sources"]?.arrayValue?.count == 3)

            r = try await run(["ask", db, "Where does Milvus store data?", "--json", "--mode", "bm25"], env: llm)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try Value(json: r.stdout).objectValue?["mode"] == "bm25")
            let chat = try #require(server.requests.last)
            let user = ((chat.json["messages"] as? [[String: String]])?.last?["content"]) ?? ""
            #expect(user.contains("<context>\n") && user.contains("<question>\nWhere does Milvus store data?\n</question>"))

            r = try await run(["ask", db, "Where does Milvus store data?", "--stream", "--limit", "2"], env: llm)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.hasPrefix("Streamed answer.\n") && r.stdout.contains("Sources:\n  1. "))

            r = try await run(["ask", db, "Where does Milvus store data?", "--no-rag", "--json"], env: noModel.merging(["QUIVER_LLM_BASE_URL": server.baseURL]) { $1 })
            #expect(r.status == 0, "\(r.stderr)")
            let noRag = try #require(try Value(json: r.stdout).objectValue)
            #expect(noRag["sources"] == [] && noRag["mode"] == .null)

            r = try await run(["ask", db, "q", "--no-rag"], env: noModel.merging(["QUIVER_LLM_BASE_URL": server.baseURL, "QUIVER_LLM_API_KEY": Self.secret]) { $1 })
            #expect(r.status != 0)
            #expect(r.stderr.contains("Incorrect API key provided") && r.stderr.contains("401"))
            #expect(!r.stderr.contains("abcdefghijklmnop") && !r.stdout.contains("abcdefghijklmnop"))
        }
    }

    /// The tutorial through the CLI with the built-in model: `ingest` picks it by default, and the
    /// top 3 for "How is data stored in milvus?" are the reference chunks.
    @Test(.enabled(if: SharedData.isAvailable, SharedData.absent), .enabled(if: BuiltInEmbedding.isAvailable, "built-in model not compiled in or its weights are missing"))
    func tutorialWithTheBuiltInModel() async throws {
        let base = NSTemporaryDirectory() + "quiver-rag-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let db = base + "/db"
        var r = try await run(["ingest", db, try SharedData.url("milvus-faq").path, "--chunking", "separator"], env: [:])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try Value(json: r.stdout)
        #expect(summary.objectValue?["chunks"] == 72 && summary.objectValue?["embedder"] == .string(BuiltInEmbedding.name))
        r = try await run(["retrieve", db, "How is data stored in milvus?", "--json", "--mode", "dense"], env: [:])
        #expect(r.status == 0, "\(r.stderr)")
        let hits = try #require(try Value(json: r.stdout).objectValue?["chunks"]?.arrayValue)
        let starts = ["Where does Milvus store data?", "How does Milvus flush data?", "What is the maximum dataset size Milvus can handle?"]
        #expect(hits.count == 3)
        for (hit, start) in zip(hits, starts) {
            #expect(hit.objectValue?["text"]?.stringValue?.trimmingWhitespace().hasPrefix(start) == true)
        }
    }
}
