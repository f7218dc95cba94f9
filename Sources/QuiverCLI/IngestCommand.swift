import ArgumentParser
import Foundation
import Quiver
import QuiverRAG
import Synchronization

extension QuiverCommand {
    /// `quiver ingest DB PATH...`: split, embed and store documents for RAG.
    struct Ingest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split, embed and store documents (Markdown/text files or folders) for retrieval.",
            discussion: """
                Folders are walked recursively for .md, .markdown, .mdx and .txt files. Each file's absolute \
                path is its source; re-ingesting a file re-embeds only its changed chunks and deletes the \
                chunks past its new end. Progress goes to standard error when it is a terminal; a JSON \
                summary goes to standard output.
                """)
        @Argument(help: "The database directory (created when missing), or a Milvus server's http(s):// URL.") var db: String
        @OptionGroup var connection: ConnectionArguments
        @Argument(help: "Files or folders to ingest.") var paths: [String]
        @Option(help: "The collection.") var collection: String = "docs"
        @Option(help: "markdown (sections by heading), recursive (size + overlap), or separator (a plain split, see --separator).")
        var chunking: String = "markdown"
        @Option(help: "Largest chunk in characters (default 1500 for markdown, 1000 for recursive).") var chunkSize: Int?
        @Option(help: "Overlap of consecutive cut chunks, in characters.") var chunkOverlap: Int = 100
        @Option(help: "The separator of --chunking separator; the tutorial's is \"# \".") var separator: String = "# "
        @Option(help: "local (the built-in model) or openai (QUIVER_EMBEDDING_* variables). Default: what the collection was made with, else local when its weights are present, else openai when configured.")
        var embedder: String?
        @Option(help: "Chunks per embedding request.") var batchSize: Int = 64
        @OptionGroup var http: HTTPArguments

        func validate() throws {
            guard ["markdown", "recursive", "separator"].contains(chunking) else {
                throw ValidationError("--chunking must be markdown, recursive or separator")
            }
            if let chunkSize, chunkSize < 1 { throw ValidationError("--chunk-size must be at least 1") }
            guard chunkOverlap >= 0, chunkOverlap < (chunkSize ?? 1000) else {
                throw ValidationError("--chunk-overlap must be in 0..<chunk size")
            }
            if let embedder, !["local", "openai"].contains(embedder) { throw ValidationError("--embedder must be local or openai") }
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
            guard !separator.isEmpty else { throw ValidationError("--separator must not be empty") }
        }

        var splitter: any TextSplitter {
            switch chunking {
            case "recursive": RecursiveSplitter(chunkSize: chunkSize ?? 1000, overlap: chunkOverlap)
            case "separator": SeparatorSplitter(separator: separator)
            default: MarkdownSplitter(chunkSize: chunkSize ?? 1500, overlap: min(chunkOverlap, (chunkSize ?? 1500) / 2))
            }
        }

        func run() async throws {
            let files = try RAGCommandSupport.expand(paths)
            guard !files.isEmpty else { throw ValidationError("no .md, .markdown, .mdx or .txt files under \(paths.joined(separator: ", "))") }
            let database = try await connection.open(db)
            do {
                let embedding = try await RAGCommandSupport.embedder(
                    choice: embedder, database: database, collection: collection, options: http.options)
                let rag = RAGPipeline(database: database, collection: collection, embedder: embedding, batchSize: batchSize)
                let progress = RAGCommandSupport.stderrIsTerminal ? ProgressLine() : nil
                let report = try await ingest(rag, files: files, splitter: splitter, progress: progress)
                progress?.finish()
                try await database.close()
                printJSON([
                    "collection": .string(collection), "documents": .int(Int64(report.documents)),
                    "chunks": .int(Int64(report.chunks)), "embedded": .int(Int64(report.embedded)),
                    "unchanged": .int(Int64(report.unchanged)), "deleted": .int(Int64(report.deleted)),
                    "seconds": .double((report.elapsed / .milliseconds(1)).rounded() / 1000),
                    "embeddings_per_second": .double((report.embeddingsPerSecond * 10).rounded() / 10),
                    "embedder": .string(embedding.name),
                ])
            } catch {
                try? await database.close()
                throw error
            }
        }

        private func ingest(_ rag: RAGPipeline, files: [String], splitter: some TextSplitter, progress: ProgressLine?) async throws -> IngestReport {
            var callback: (@Sendable (IngestProgress) -> Void)? = nil
            if let progress { callback = { progress.show($0) } }
            return try await rag.ingest(files: files, splitter: splitter, progress: callback)
        }
    }
}

/// A one-line progress display on standard error, redrawn at most every 100 ms.
final class ProgressLine: Sendable {
    private let lastDraw = Mutex<ContinuousClock.Instant?>(nil)

    func show(_ p: IngestProgress) {
        let now = ContinuousClock.now
        let draw = lastDraw.withLock { last -> Bool in
            if let l = last, now - l < .milliseconds(100), p.documentsDone < p.documentsTotal { return false }
            last = now
            return true
        }
        guard draw else { return }
        let line = "\rfiles \(p.documentsDone)/\(p.documentsTotal)  chunks \(p.chunks)  embedded \(p.embedded)  "
            + String(format: "%.1f embeddings/s", p.embeddingsPerSecond) + "\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}

/// The HTTP settings of the RAG verbs.
struct HTTPArguments: ParsableArguments {
    // Not --timeout: that is the database server's (ConnectionArguments), on the same verbs.
    @Option(help: "Seconds one embedding or chat request may take before it is retried or fails.") var httpTimeout: Double = 120

    func validate() throws {
        guard httpTimeout > 0 else { throw ValidationError("--http-timeout must be positive") }
    }

    var options: HTTPOptions {
        var o = HTTPOptions()
        o.timeout = .milliseconds(httpTimeout * 1000)
        o.streamIdleTimeout = max(o.streamIdleTimeout, o.timeout)
        return o
    }
}

extension RetrievalMode: ExpressibleByArgument {}

/// How `retrieve` and `ask` search: the mode and the depth of hybrid fusion.
struct RetrievalArguments: ParsableArguments {
    @Option(help: "dense (vectors), bm25 (full-text search of the chunk text) or hybrid (both, fused by RRF, k = 60).")
    var mode: RetrievalMode = .hybrid
    @Option(help: "Chunks each search of --mode hybrid fetches before fusion (at least --limit).")
    var candidates: Int = 50

    func validate() throws {
        guard candidates >= 1 else { throw ValidationError("--candidates must be at least 1") }
    }

    /// A pipeline over `collection` that retrieves this way.
    func pipeline(
        database: any VectorDatabase, collection: String, embedder: any EmbeddingFunction, chatModel: (any ChatModel)? = nil
    ) -> RAGPipeline {
        var rag = RAGPipeline(database: database, collection: collection, embedder: embedder, chatModel: chatModel, retrievalMode: mode)
        rag.hybridCandidates = candidates
        return rag
    }
}

/// What `ingest`, `retrieve` and `ask` share: finding files, choosing the embedder, JSON.
enum RAGCommandSupport {
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    static let extensions: Set<String> = ["md", "markdown", "mdx", "txt"]

    /// Files as given and the text files under folders, as absolute standardized paths, sorted per argument.
    static func expand(_ paths: [String]) throws -> [String] {
        var out = [String]()
        var seen = Set<String>()
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for path in paths {
            let url = URL(fileURLWithPath: path, relativeTo: cwd).standardizedFileURL
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw ValidationError("'\(path)' does not exist")
            }
            var found = [String]()
            if isDirectory.boolValue {
                guard let e = FileManager.default.enumerator(atPath: url.path) else { throw ValidationError("cannot list '\(path)'") }
                while let relative = e.nextObject() as? String {
                    let ext = (relative as NSString).pathExtension.lowercased()
                    if extensions.contains(ext) { found.append(url.appendingPathComponent(relative).path) }
                }
                found.sort()
            } else {
                found = [url.path]
            }
            for f in found where seen.insert(f).inserted { out.append(f) }
        }
        return out
    }

    /// The embedder for `choice`, or, without one, the one the collection was made with, else
    /// the built-in model when available, else the HTTP embedder when configured.
    static func embedder(
        choice: String?, database: any VectorDatabase, collection: String, options: HTTPOptions
    ) async throws -> any EmbeddingFunction {
        let stored = try await RAGSchema.storedEmbedderName(in: database, collection: collection)
        var kind = choice
        if kind == nil, let stored {
            kind = stored.hasPrefix("openai:") ? "openai" : stored == BuiltInEmbedding.name ? "local" : nil
            if kind == nil {
                throw ValidationError("collection '\(collection)' was embedded with '\(stored)', which this command cannot load")
            }
        }
        if kind == nil {
            if BuiltInEmbedding.isAvailable {
                kind = "local"
            } else if EmbeddingConfiguration.fromEnvironment() != nil {
                kind = "openai"
            } else {
                throw ValidationError(
                    "no embedder is available: the built-in model's weights are missing (run `quiver model fetch`). \(EmbeddingConfiguration.environmentHelp)")
            }
        }
        let embedding: any EmbeddingFunction
        if kind == "local" {
            embedding = try BuiltInEmbedding.load()
        } else {
            guard let configuration = EmbeddingConfiguration.fromEnvironment() else {
                throw ValidationError("--embedder openai needs QUIVER_EMBEDDING_BASE_URL. \(EmbeddingConfiguration.environmentHelp)")
            }
            embedding = try await OpenAIEmbedding.connect(configuration, options: options)
        }
        if let stored, stored != embedding.name {
            throw ValidationError(
                "collection '\(collection)' was embedded with '\(stored)', not '\(embedding.name)': its vectors would not compare. Use another --collection, or the same embedder.")
        }
        return embedding
    }

    static func json(_ chunks: [RetrievedChunk]) -> Value {
        .array(chunks.map(\.jsonValue))
    }

    /// Chunks for people: rank, similarity, source and headings, then the text indented.
    static func describe(_ chunks: [RetrievedChunk]) -> String {
        var out = ""
        for (i, c) in chunks.enumerated() {
            let place = ([c.source] + (c.headings.isEmpty ? [] : [c.headings.joined(separator: " › ")])).joined(separator: "  ")
            out += "\(i + 1). " + String(format: "%.4f", c.distance) + "  " + place + "\n"
            let text = c.text.trimmingCharacters(in: .whitespacesAndNewlines)
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) { out += "   " + line + "\n" }
            out += "\n"
        }
        return out
    }
}
