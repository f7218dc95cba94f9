import ArgumentParser
import Foundation
import Quiver
import QuiverRAG

extension QuiverCommand {
    /// `quiver retrieve DB "question"`: the closest chunks, no LLM needed.
    struct Retrieve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the chunks that best match a question (no LLM needed).",
            discussion: """
                Hybrid by default: a dense search with the embedder the collection was ingested with and a \
                BM25 search of the chunk text, fused by reciprocal rank fusion (k = 60); --mode dense or bm25 \
                runs one of them. The score is the mode's: cosine similarity, BM25 score or RRF score. \
                --json prints {"mode", "chunks": [{"id", "distance", "text", "source", "headings"}]}. \
                A collection ingested by an older quiver has no BM25 field: bm25 and hybrid then fail \
                and say so; use --mode dense, or drop the collection and ingest again.
                """)
        @Argument(help: databaseArgumentHelp) var db: String
        @OptionGroup var connection: ConnectionArguments
        @Argument(help: "The question.") var question: String
        @Option(help: "The collection.") var collection: String = "docs"
        @Option(help: "How many chunks.") var limit: Int = 3
        @Option(help: "A filter expression over source, headings, chunk_index, text, e.g. 'source like \"%faq%\"'.") var filter: String?
        @OptionGroup var retrieval: RetrievalArguments
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var http: HTTPArguments

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let database = try await connection.open(db)
            do {
                guard try await database.hasCollection(collection) else {
                    throw ValidationError("collection '\(collection)' does not exist in '\(db)': run `quiver ingest` first")
                }
                let embedding = try await RAGCommandSupport.embedder(choice: nil, database: database, collection: collection, options: http.options)
                let rag = retrieval.pipeline(database: database, collection: collection, embedder: embedding)
                let chunks = try await rag.retrieve(question, limit: limit, filter: filter ?? "")
                try await database.close()
                if json {
                    printJSON(["mode": .string(rag.retrievalMode.rawValue), "chunks": RAGCommandSupport.json(chunks)])
                } else {
                    print(RAGCommandSupport.describe(chunks), terminator: "")
                }
            } catch {
                try? await database.close()
                throw error
            }
        }
    }
}
