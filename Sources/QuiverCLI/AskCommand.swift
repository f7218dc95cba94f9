import ArgumentParser
import Foundation
import Quiver
import QuiverRAG

extension QuiverCommand {
    /// `quiver ask DB "question"`: retrieve, then answer with an OpenAI-compatible chat model.
    struct Ask: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer a question from the collection with an LLM (the Milvus RAG tutorial's prompts).",
            discussion: """
                The LLM comes from the environment: DEEPSEEK_API_KEY, OPENROUTER_API_KEY, or \
                QUIVER_LLM_BASE_URL (+ QUIVER_LLM_MODEL, QUIVER_LLM_API_KEY). Without one, the retrieved \
                context is printed, the variables to set are named, and the exit status is 2. \
                Retrieval is hybrid (dense + BM25, RRF) unless --mode says dense or bm25. \
                --json prints {"answer", "model", "mode", "sources": [...]} ("mode" is null with --no-rag).
                """)
        @Argument(help: databaseArgumentHelp) var db: String
        @OptionGroup var connection: ConnectionArguments
        @Argument(help: "The question.") var question: String
        @Option(help: "The collection.") var collection: String = "docs"
        @Option(help: "How many chunks to give the model.") var limit: Int = 3
        @Option(help: "A filter expression for retrieval.") var filter: String?
        @Flag(help: "Print the answer as it is generated.") var stream = false
        @Flag(help: "Ask without retrieved context (for comparison).") var noRag = false
        @OptionGroup var retrieval: RetrievalArguments
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var http: HTTPArguments
        @Option(help: "Sampling temperature.") var temperature: Double?
        @Option(help: "Largest answer, in tokens.") var maxTokens: Int?

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let chatConfiguration = ChatConfiguration.fromEnvironment()
            let database = try await connection.open(db)
            do {
                var sources = [RetrievedChunk]()
                var embedding: (any EmbeddingFunction)? = nil
                if !noRag {
                    guard try await database.hasCollection(collection) else {
                        throw ValidationError("collection '\(collection)' does not exist in '\(db)': run `quiver ingest` first")
                    }
                    embedding = try await RAGCommandSupport.embedder(choice: nil, database: database, collection: collection, options: http.options)
                }
                guard let chatConfiguration else {
                    if let embedding {
                        sources = try await retrieval.pipeline(database: database, collection: collection, embedder: embedding)
                            .retrieve(question, limit: limit, filter: filter ?? "")
                        if json {
                            printJSON(["answer": nil, "model": nil, "mode": .string(retrieval.mode.rawValue), "sources": RAGCommandSupport.json(sources)])
                        } else {
                            print("Retrieved context:\n")
                            print(RAGCommandSupport.describe(sources), terminator: "")
                        }
                    }
                    try await database.close()
                    FileHandle.standardError.write(Data((ChatConfiguration.environmentHelp + "\n").utf8))
                    throw ExitCode(2)
                }
                let chat = try OpenAIChatModel(configuration: chatConfiguration, options: http.options)
                let rag = retrieval.pipeline(
                    database: database, collection: collection, embedder: embedding ?? NoEmbedding(), chatModel: chat)
                let options = ChatOptions(temperature: temperature, maxTokens: maxTokens)
                if stream && !json {
                    let answer = try await rag.streamAnswer(question, limit: limit, filter: filter ?? "", useRetrieval: !noRag, options: options)
                    try await database.close()
                    for try await delta in answer.deltas {
                        FileHandle.standardOutput.write(Data(delta.utf8))
                    }
                    print()
                    printSources(answer.sources)
                } else {
                    let answer = try await rag.answer(question, limit: limit, filter: filter ?? "", useRetrieval: !noRag, options: options)
                    try await database.close()
                    if json {
                        printJSON([
                            "answer": .string(answer.answer), "model": .string(answer.model),
                            "mode": noRag ? nil : .string(rag.retrievalMode.rawValue), "sources": RAGCommandSupport.json(answer.sources),
                        ])
                    } else {
                        print(answer.answer)
                        printSources(answer.sources)
                    }
                }
            } catch {
                try? await database.close()
                throw error
            }
        }

        private func printSources(_ sources: [RetrievedChunk]) {
            guard !sources.isEmpty else { return }
            print("\nSources:")
            for (i, s) in sources.enumerated() {
                let headings = s.headings.isEmpty ? "" : "  " + s.headings.joined(separator: " › ")
                print("  \(i + 1). " + String(format: "%.4f", s.distance) + "  " + s.source + headings)
            }
        }
    }
}

/// Stands in for the embedder in `ask --no-rag`, which never embeds.
private struct NoEmbedding: EmbeddingFunction {
    var name: String { "none" }
    var dimension: Int { 1 }
    func encodeDocuments(_ texts: [String]) async throws -> [[Float]] { throw RAGError(.notConfigured, "no embedder") }
    func encodeQueries(_ texts: [String]) async throws -> [[Float]] { throw RAGError(.notConfigured, "no embedder") }
}
