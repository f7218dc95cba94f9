import Foundation
import Quiver

/// Retrieval-augmented generation over a Quiver collection: ingest documents, retrieve the
/// chunks closest to a question, and answer from them with a chat model.
///
/// ```swift
/// let db = try await Database.open(at: "./rag.quiver")   // or any VectorDatabase, e.g. a Milvus server
/// let rag = RAGPipeline(database: db, embedder: embedder, chatModel: try OpenAIChatModel(configuration: .deepSeek(apiKey: key)))
/// try await rag.ingest(files: ["docs/faq.md"], splitter: SeparatorSplitter(separator: "# "))
/// let top3 = try await rag.retrieve("How is data stored in milvus?", limit: 3)
/// let answer = try await rag.answer("How is data stored in milvus?")
/// print(answer.answer, answer.sources.map(\.source))
/// ```
///
/// ## Storage
/// The database is any `VectorDatabase`: the embedded `Database`, or a Milvus server
/// (`quiver serve`, Milvus Lite, Milvus) through `RemoteDatabase`; the pipeline uses only the
/// protocol's calls, so chunks, keys and re-ingest behave the same on both. To pick the backend
/// by URI, open it with `QuiverRemote`'s `connect(_:options:)` (a path or an `http(s)://` URL)
/// and pass the result here; this module itself does not depend on the gRPC client.
///
/// One collection (``collection``, created on first ingest, COSINE) with the fields of
/// ``RAGSchema``: a varchar primary key `"<source>#<index>"`, the vector, `text` (analyzed),
/// `sparse` (the BM25 function's output over `text`, computed by the database), `source`,
/// `headings` (a JSON array of strings), `chunk_index`, `content_hash` and `embedder`.
///
/// ## Retrieval
/// ``retrieve(_:limit:filter:filterParams:mode:)`` searches by ``RetrievalMode``: ``RetrievalMode/hybrid``
/// (the default, ``retrievalMode``) fuses a dense search and a BM25 search of the chunk text by
/// reciprocal rank fusion (k = 60), each search fetching ``hybridCandidates`` chunks. BM25's
/// statistics (document count, average length, document frequencies) are the database's,
/// over the chunks stored now: re-ingesting a file replaces its chunks, and the scores are those
/// of a fresh ingest of the final contents.
///
/// Because a document's chunks are numbered 0, 1, 2, … and stored under computable keys, the
/// chunks of a source are found without a filter: keys are read in blocks until one comes back
/// short. Re-ingesting a document therefore (1) leaves chunks whose `content_hash` and `embedder`
/// match alone, (2) embeds and upserts new or changed ones, and (3) deletes the keys past its new
/// chunk count. An interrupted ingest leaves every chunk either old or new; running it again
/// finishes the job.
public struct RAGPipeline: Sendable {
    /// The database that holds the chunks.
    public let database: any VectorDatabase
    /// The name of the collection that holds the chunks; created on first ingest.
    public let collection: String
    /// The model that embeds chunks and questions. Its ``EmbeddingFunction/name`` is stored with
    /// every chunk (so `quiver retrieve` can pick the same model), and the collection's vector
    /// dimension must equal its ``EmbeddingFunction/dimension``.
    public let embedder: any EmbeddingFunction
    /// The model that answers; `nil` allows ingest and retrieval only.
    public var chatModel: (any ChatModel)?
    /// Chunks embedded (and written) per request.
    public var batchSize: Int
    /// How ``retrieve(_:limit:filter:filterParams:mode:)`` searches when no mode is given, and
    /// how ``answer(_:limit:filter:useRetrieval:options:)`` and
    /// ``streamAnswer(_:limit:filter:useRetrieval:options:)`` retrieve; ``RetrievalMode/hybrid`` by default.
    public var retrievalMode: RetrievalMode
    /// How many chunks each search of a hybrid retrieval fetches before fusion (the limit when
    /// that is larger); 50 by default.
    ///
    /// Reciprocal rank fusion ranks a chunk that both searches place fairly high above one that
    /// only one search places first, so each list must reach past the final limit for the
    /// fusion to see such chunks: with the limit alone, a chunk at rank limit + 1 of both lists
    /// is lost. Deeper lists cost little (two top-k searches of the same collection).
    public var hybridCandidates: Int

    /// A pipeline over `collection` of `database`. Nothing is read or created until it is used.
    ///
    /// - Parameters:
    ///   - database: the open database (embedded or remote) that holds (or will hold) the collection.
    ///   - collection: the collection's name, `"docs"` by default.
    ///   - embedder: the model for chunks and questions.
    ///   - chatModel: the model for ``answer(_:limit:filter:useRetrieval:options:)``; `nil` by default.
    ///   - batchSize: chunks embedded and written per request, 64 by default.
    ///   - retrievalMode: how to retrieve when no mode is given, ``RetrievalMode/hybrid`` by default.
    /// - Precondition: `batchSize` is at least 1.
    public init(
        database: any VectorDatabase, collection: String = "docs", embedder: any EmbeddingFunction,
        chatModel: (any ChatModel)? = nil, batchSize: Int = 64, retrievalMode: RetrievalMode = .hybrid
    ) {
        precondition(batchSize >= 1, "batchSize must be at least 1")
        self.database = database
        self.collection = collection
        self.embedder = embedder
        self.chatModel = chatModel
        self.batchSize = batchSize
        self.retrievalMode = retrievalMode
        self.hybridCandidates = 50
    }

    // MARK: - Ingest

    /// Reads, splits, embeds and stores files (UTF-8 text); each file's path, as given, is its source.
    ///
    /// - Throws: ``RAGError/Code/invalidArgument`` for an unreadable file (before anything is
    ///   written); embedder and engine errors as they come.
    @discardableResult
    public func ingest(
        files: [String], splitter: some TextSplitter, progress: (@Sendable (IngestProgress) -> Void)? = nil
    ) async throws -> IngestReport {
        var documents = [Document]()
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RAGError(.invalidArgument, "cannot read '\(path)'")
            }
            documents.append(Document(source: path, text: String(decoding: data, as: UTF8.self)))
        }
        return try await ingest(documents, splitter: splitter, progress: progress)
    }

    /// Splits, embeds (in batches of ``batchSize``) and stores documents, replacing the chunks
    /// each source had before.
    ///
    /// - Throws: ``RAGError/Code/invalidArgument`` when the collection exists with another vector
    ///   dimension or a chunk's text is longer than ``RAGSchema/maxTextBytes``; embedder and
    ///   engine errors as they come. Chunks written before the error stay; ingesting again finishes.
    @discardableResult
    public func ingest(
        _ documents: [Document], splitter: some TextSplitter, progress: (@Sendable (IngestProgress) -> Void)? = nil
    ) async throws -> IngestReport {
        let clock = ContinuousClock()
        let start = clock.now
        try await ensureCollection()
        var report = IngestReport(documents: documents.count, chunks: 0, embedded: 0, unchanged: 0, deleted: 0, elapsed: .zero)
        var pending = [(chunk: Chunk, hash: String)]()

        func flushPending() async throws {
            guard !pending.isEmpty else { return }
            let vectors = try embedder.validated(
                try await embedder.encodeDocuments(pending.map(\.chunk.text)), count: pending.count)
            let rows = zip(pending, vectors).map { item, vector in row(item.chunk, hash: item.hash, vector: vector) }
            _ = try await database.upsert(collection, rows: rows)
            report.embedded += rows.count
            pending.removeAll(keepingCapacity: true)
        }

        for (n, document) in documents.enumerated() {
            let chunks = splitter.split(document.text, source: document.source)
            let stored = try await storedChunks(of: document.source)
            for chunk in chunks {
                guard chunk.text.utf8.count <= RAGSchema.maxTextBytes else {
                    throw RAGError(.invalidArgument, "chunk \(chunk.index) of '\(document.source)' is \(chunk.text.utf8.count) bytes; the limit is \(RAGSchema.maxTextBytes): use a smaller chunk size")
                }
                let hash = Self.contentHash(chunk)
                if let old = stored[chunk.index], old.hash == hash, old.embedder == embedder.name {
                    report.unchanged += 1
                    continue
                }
                pending.append((chunk, hash))
                if pending.count >= batchSize {
                    try await flushPending()
                    progress?(IngestProgress(documentsDone: n, documentsTotal: documents.count, chunks: report.chunks + chunk.index + 1, embedded: report.embedded, elapsed: clock.now - start))
                }
            }
            let stale = stored.keys.filter { $0 >= chunks.count }.sorted()
            if !stale.isEmpty {
                report.deleted += try await database.delete(
                    collection, ids: stale.map { .string(Self.chunkID(source: document.source, index: $0)) }
                ).deleteCount
            }
            report.chunks += chunks.count
            progress?(IngestProgress(documentsDone: n + 1, documentsTotal: documents.count, chunks: report.chunks, embedded: report.embedded, elapsed: clock.now - start))
        }
        try await flushPending()
        report.elapsed = clock.now - start
        progress?(IngestProgress(documentsDone: documents.count, documentsTotal: documents.count, chunks: report.chunks, embedded: report.embedded, elapsed: report.elapsed))
        return report
    }

    /// Deletes every chunk of `source`; returns how many there were.
    ///
    /// - Throws: `QuiverError` when the collection cannot be read or written.
    @discardableResult
    public func remove(source: String) async throws -> Int {
        guard try await database.hasCollection(collection) else { return 0 }
        let stored = try await storedChunks(of: source)
        guard !stored.isEmpty else { return 0 }
        return try await database.delete(
            collection, ids: stored.keys.sorted().map { .string(Self.chunkID(source: source, index: $0)) }
        ).deleteCount
    }

    /// The primary key of chunk `index` of `source`.
    public static func chunkID(source: String, index: Int) -> String { "\(source)#\(index)" }

    /// A 64-bit FNV-1a hash (hex) of a chunk's text and headings: change detection, not security.
    public static func contentHash(_ chunk: Chunk) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for b in bytes {
                h ^= UInt64(b)
                h &*= 0x0000_0100_0000_01b3
            }
        }
        mix(chunk.text.utf8)
        for heading in chunk.headings {
            mix([0])
            mix(heading.utf8)
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The stored chunks of `source` by index, read by key in blocks (16 keys, then doubling up
    /// to 1024) until a block is not full: chunks are always stored as 0, 1, 2, … without gaps.
    func storedChunks(of source: String) async throws -> [Int: (hash: String, embedder: String)] {
        var out = [Int: (hash: String, embedder: String)]()
        var block = 16
        var first = 0
        while true {
            let ids: [Value] = (first..<first + block).map { .string(Self.chunkID(source: source, index: $0)) }
            let rows = try await database.get(collection, ids: ids, outputFields: [RAGSchema.chunkIndex, RAGSchema.contentHash, RAGSchema.embedder])
            for row in rows {
                guard let i = row[RAGSchema.chunkIndex]?.intValue else { continue }
                out[Int(i)] = (row[RAGSchema.contentHash]?.stringValue ?? "", row[RAGSchema.embedder]?.stringValue ?? "")
            }
            if rows.count < block { return out }
            first += block
            block = min(block * 2, 1024)
        }
    }

    private func row(_ chunk: Chunk, hash: String, vector: [Float]) -> Row {
        [
            RAGSchema.id: .string(Self.chunkID(source: chunk.source, index: chunk.index)),
            RAGSchema.vector: .vector(vector),
            RAGSchema.text: .string(chunk.text),
            RAGSchema.source: .string(chunk.source),
            RAGSchema.headings: .array(chunk.headings.map(Value.string)),
            RAGSchema.chunkIndex: .int(Int64(chunk.index)),
            RAGSchema.contentHash: .string(hash),
            RAGSchema.embedder: .string(embedder.name),
        ]
    }

    /// Creates the collection when it does not exist; checks its vector dimension when it does.
    ///
    /// - Throws: ``RAGError/Code/invalidArgument`` when the collection lacks a RAG field or holds
    ///   vectors of another dimension than the embedder's; `QuiverError` from the engine.
    public func ensureCollection() async throws {
        if try await database.hasCollection(collection) {
            try RAGSchema.check(try await database.describeCollection(collection), collection: collection, embedder: embedder)
        } else {
            try await database.createCollection(collection, schema: try RAGSchema.schema(dimension: embedder.dimension), metric: .cosine)
        }
    }

    // MARK: - Retrieve

    /// The `limit` chunks that best match `question`, best first.
    ///
    /// ```swift
    /// let chunks = try await rag.retrieve("What does efConstruction control?", limit: 5)   // hybrid
    /// let bm25 = try await rag.retrieve("efConstruction", mode: .bm25)
    /// ```
    ///
    /// - Parameters:
    ///   - question: the text to embed (with ``EmbeddingFunction/encodeQueries(_:)``) and search
    ///     for, and, in BM25 and hybrid retrieval, the query text of the full-text search.
    ///   - limit: how many chunks to return at most, 3 by default.
    ///   - filter: a filter expression over the stored fields, e.g. `source == "faq.md"`,
    ///     `source like "%/guide/%"`, `json_contains(headings, "Install")`, `chunk_index < 3`;
    ///     empty (the default) for none. It applies to both searches of a hybrid retrieval.
    ///   - filterParams: values for the filter's `{name}` templates.
    ///   - mode: dense, BM25 or hybrid (see ``RetrievalMode``); `nil` (the default) for ``retrievalMode``.
    ///     ``RetrievedChunk/distance`` is the mode's score.
    /// - Throws: `QuiverError.notFound` when nothing was ingested into the collection yet;
    ///   `QuiverError` `.filterSyntax` or `.invalidArgument` for a bad filter;
    ///   ``RAGError/Code/reingestRequired`` for BM25 or hybrid retrieval in a collection made
    ///   before the BM25 field existed; ``RAGError/Code/invalidArgument`` for a `limit` below 1.
    public func retrieve(
        _ question: String, limit: Int = 3, filter: String = "", filterParams: [String: Value] = [:],
        mode: RetrievalMode? = nil
    ) async throws -> [RetrievedChunk] {
        guard limit >= 1 else { throw RAGError(.invalidArgument, "limit must be at least 1, got \(limit)") }
        let mode = mode ?? retrievalMode
        guard try await database.hasCollection(collection) else {
            throw QuiverError(.notFound, "collection '\(collection)' does not exist: ingest documents first")
        }
        let description = try await database.describeCollection(collection)
        try RAGSchema.check(description, collection: collection, embedder: embedder)
        if mode != .dense, !RAGSchema.hasBM25(description) {
            throw RAGError(
                .reingestRequired,
                "collection '\(collection)' has no BM25 field, which \(mode.rawValue) retrieval needs (it was made by an older Quiver, or on a server that did not keep the schema's BM25 function): retrieve with mode dense (`--mode dense`), or drop the collection (`quiver drop DB \(collection)`) and ingest again")
        }
        let outputFields = [RAGSchema.text, RAGSchema.source, RAGSchema.headings]
        func textSearch(limit: Int) -> SearchRequest {
            SearchRequest(queries: .texts([question]), limit: limit, filter: filter, filterParams: filterParams, annsField: RAGSchema.sparse)
        }
        func denseSearch(limit: Int) async throws -> SearchRequest {
            let query = try embedder.validated(try await embedder.encodeQueries([question]), count: 1)
            return SearchRequest(queries: .vectors(query), limit: limit, filter: filter, filterParams: filterParams, annsField: RAGSchema.vector)
        }
        let hits: [[Hit]]
        switch mode {
        case .dense, .bm25:
            var request = mode == .dense ? try await denseSearch(limit: limit) : textSearch(limit: limit)
            request.outputFields = outputFields
            hits = try await database.search(collection, request)
        case .hybrid:
            let depth = min(max(limit, hybridCandidates), maxTopK)
            hits = try await database.hybridSearch(collection, HybridSearchRequest(
                requests: [try await denseSearch(limit: depth), textSearch(limit: depth)], ranker: .rrf(k: 60), limit: limit,
                outputFields: outputFields))
        }
        return hits.first?.map(Self.retrieved) ?? []
    }

    static func retrieved(_ hit: Hit) -> RetrievedChunk {
        RetrievedChunk(
            id: hit.id.stringValue ?? hit.id.jsonString, distance: hit.distance,
            text: hit.entity[RAGSchema.text]?.stringValue ?? "", source: hit.entity[RAGSchema.source]?.stringValue ?? "",
            headings: hit.entity[RAGSchema.headings]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    // MARK: - Answer

    /// Answers `question` with the chat model from the `limit` closest chunks (the tutorial's
    /// prompts), or from the question alone when `useRetrieval` is `false`.
    ///
    /// - Throws: ``RAGError/Code/notConfigured`` without a chat model; retrieval and chat errors.
    public func answer(
        _ question: String, limit: Int = 3, filter: String = "", useRetrieval: Bool = true, options: ChatOptions = ChatOptions()
    ) async throws -> RAGAnswer {
        let chat = try requireChatModel()
        let sources = useRetrieval ? try await retrieve(question, limit: limit, filter: filter) : []
        let messages = useRetrieval
            ? RAGPrompt.messages(question: question, sources: sources) : RAGPrompt.messagesWithoutContext(question: question)
        let completion = try await chat.complete(messages, options: options)
        return RAGAnswer(answer: completion.text, model: completion.model, sources: sources, usage: completion.usage)
    }

    /// Like ``answer(_:limit:filter:useRetrieval:options:)``, streaming the answer's text.
    ///
    /// - Throws: ``RAGError/Code/notConfigured`` without a chat model; retrieval errors and the
    ///   chat model's errors until it accepts the request (later ones come from ``RAGStreamingAnswer/deltas``).
    public func streamAnswer(
        _ question: String, limit: Int = 3, filter: String = "", useRetrieval: Bool = true, options: ChatOptions = ChatOptions()
    ) async throws -> RAGStreamingAnswer {
        let chat = try requireChatModel()
        let sources = useRetrieval ? try await retrieve(question, limit: limit, filter: filter) : []
        let messages = useRetrieval
            ? RAGPrompt.messages(question: question, sources: sources) : RAGPrompt.messagesWithoutContext(question: question)
        return RAGStreamingAnswer(model: chat.model, sources: sources, deltas: try await chat.stream(messages, options: options))
    }

    private func requireChatModel() throws -> any ChatModel {
        guard let chatModel else { throw RAGError(.notConfigured, ChatConfiguration.environmentHelp) }
        return chatModel
    }
}

/// The fields of a RAG collection.
public enum RAGSchema {
    /// The varchar primary key, `"<source>#<chunk index>"`.
    public static let id = "id"
    /// The chunk's embedding, a float vector of the embedder's dimension.
    public static let vector = "vector"
    /// The chunk's text, varchar of at most ``maxTextBytes`` bytes.
    public static let text = "text"
    /// The document's path or name (``Chunk/source``), varchar.
    public static let source = "source"
    /// The heading path above the chunk, a JSON array of strings, outermost first.
    public static let headings = "headings"
    /// The chunk's position in its document, from 0, int64.
    public static let chunkIndex = "chunk_index"
    /// The FNV-1a 64 hash (hex) of the chunk's text and headings, for change detection, varchar.
    public static let contentHash = "content_hash"
    /// The ``EmbeddingFunction/name`` of the model that embedded the chunk, varchar.
    public static let embedder = "embedder"
    /// The largest chunk text, in UTF-8 bytes (Milvus's varchar limit).
    public static let maxTextBytes = 65_535

    /// The BM25 function's output, a sparse float vector of the chunk text's term frequencies
    /// that the database computes from ``text`` (rows never carry it). Collections made before
    /// it existed lack it: see ``hasBM25(_:)``.
    public static let sparse = "sparse"
    /// The name of the BM25 function from ``text`` to ``sparse``.
    public static let bm25Function = "text_bm25"
    /// The analyzer of ``text`` (Milvus's `analyzer_params`): Milvus's `english` analyzer spelled
    /// out — the standard tokenizer, lower-casing, the English (Porter2) stemmer and Lucene's
    /// English stop words — because milvus-lite 3.2.2 refuses `{"type": "english"}` ("unknown
    /// tokenizer type") but takes the tokenizer and filters. Measured against the standard
    /// analyzer on the retrieval evaluation set (Documentation/Benchmarks.md, "Retrieval quality
    /// and BM25 engines").
    public static let textAnalyzer: Value = [
        "tokenizer": "standard",
        "filter": ["lowercase", ["type": "stemmer", "language": "english"], ["type": "stop", "stop_words": ["_english_"]]],
    ]

    /// The schema for vectors of `dimension` floats.
    ///
    /// - Throws: `QuiverError` `.invalidArgument` for a dimension out of range.
    public static func schema(dimension: Int) throws -> CollectionSchema {
        try CollectionSchema(fields: [
            FieldSchema(name: id, dataType: .varchar(maxLength: 8192), isPrimaryKey: true),
            FieldSchema(name: vector, dataType: .floatVector(dimension: dimension)),
            FieldSchema(name: text, dataType: .varchar(maxLength: maxTextBytes), enableAnalyzer: true, analyzerParams: textAnalyzer),
            FieldSchema(name: sparse, dataType: .sparseFloatVector),
            FieldSchema(name: source, dataType: .varchar(maxLength: 8192)),
            FieldSchema(name: headings, dataType: .json),
            FieldSchema(name: chunkIndex, dataType: .int64),
            FieldSchema(name: contentHash, dataType: .varchar(maxLength: 64)),
            FieldSchema(name: embedder, dataType: .varchar(maxLength: 512)),
        ], description: "QuiverRAG chunks", functions: [
            FunctionSchema(name: bm25Function, type: .bm25, inputFieldNames: [text], outputFieldNames: [sparse]),
        ])
    }

    /// `true` when the collection stores the BM25 field that ``RetrievalMode/bm25`` and
    /// ``RetrievalMode/hybrid`` search: a BM25 function writes ``sparse`` from ``text``.
    /// Collections made by Quiver versions before it was added have vectors only.
    public static func hasBM25(_ description: CollectionDescription) -> Bool {
        guard let function = description.schema.function(writing: sparse) else { return false }
        return function.type == .bm25 && function.inputFieldNames == [text]
    }

    static func check(_ description: CollectionDescription, collection: String, embedder embedding: any EmbeddingFunction) throws {
        let fields = Set(description.schema.fields.map(\.name))
        let missing = [id, vector, text, source, headings, chunkIndex, contentHash, embedder].filter { !fields.contains($0) }
        guard missing.isEmpty else {
            throw RAGError(.invalidArgument, "collection '\(collection)' is not a RAG collection (it lacks \(missing.joined(separator: ", ")))")
        }
        let d = description.schema.field(named: vector)?.dataType.dimension
        guard d == embedding.dimension else {
            throw RAGError(.invalidArgument, "collection '\(collection)' holds \(d.map(String.init) ?? "?")-d vectors; embedder '\(embedding.name)' makes \(embedding.dimension)-d ones")
        }
    }

    /// The embedder name stored with the collection's chunks, or `nil` when it has none.
    ///
    /// - Throws: `QuiverError` when the collection cannot be read.
    public static func storedEmbedderName(in database: any VectorDatabase, collection: String) async throws -> String? {
        guard try await database.hasCollection(collection) else { return nil }
        let rows = try await database.query(collection, limit: 1, outputFields: [embedder])
        return rows.first?[embedder]?.stringValue
    }
}
