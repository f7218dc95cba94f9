import Foundation
import Quiver
import QuiverTestSupport
import Testing
@testable import QuiverRAG

@Suite struct PipelineTests {
    let docs = [
        Document(source: "a.md", text: "# Storage\nMilvus stores data in object storage.\n# Flush\nData is flushed to segments.\n# Index\nIndexes speed up search."),
        Document(source: "b.md", text: "# Cats\nCats sleep a lot.\n# Dogs\nDogs bark at night."),
    ]

    /// The chunk text's analyzer, spelled out so that milvus-lite takes it, makes the tokens of
    /// Milvus's `{"type": "english"}` analyzer.
    @Test func theTextAnalyzerIsTheEnglishAnalyzer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rag-analyzer-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try Database.open(at: dir)
        defer { try? db.close() }
        let texts = ["The indexes were Running quickly; HNSW's efConstruction of the segments", "Flushing, flushed and flushes: a test of THE stop words"]
        let spelled = try db.analyze(texts, params: RAGSchema.textAnalyzer)
        #expect(spelled == (try db.analyze(texts, params: ["type": "english"])))
        let terms = spelled[1].map(\.text)
        #expect(terms.contains("flush") && !terms.contains("the"))
    }

    @Test func ingestThenRetrieveTheClosestChunk() async throws {
        try await withTemporaryDatabase { db, _ in
            let rag = RAGPipeline(database: db, embedder: HashingEmbedding(), batchSize: 2)
            let report = try await rag.ingest(docs, splitter: SeparatorSplitter(separator: "# "))
            #expect(report.chunks == 7)
            #expect(report.embedded == 7)
            #expect(try await db.collectionStats("docs").rowCount == 7)
            let hits = try await rag.retrieve("dogs bark at night", limit: 3, mode: .dense)
            #expect(hits.count == 3)
            #expect(hits[0].id == "b.md#2")
            #expect(hits[0].source == "b.md")
            #expect(hits[0].headings == ["Dogs"])
            #expect(hits[0].text == "Dogs\nDogs bark at night.")
            #expect(hits[0].distance > 0.9 && hits[0].distance <= 1.0001)
            #expect(hits[0].distance >= hits[1].distance && hits[1].distance >= hits[2].distance)
        }
    }

    @Test func reingestingReplacesOnlyWhatChanged() async throws {
        try await withTemporaryDatabase { db, _ in
            let embedder = HashingEmbedding()
            let rag = RAGPipeline(database: db, embedder: embedder)
            try await rag.ingest(docs, splitter: SeparatorSplitter())
            #expect(embedder.calls.count == 7)

            let again = try await rag.ingest(docs, splitter: SeparatorSplitter())
            #expect(again.embedded == 0 && again.unchanged == 7 && again.deleted == 0)
            #expect(embedder.calls.count == 7)

            // a.md: one section edited, one removed.
            let edited = Document(source: "a.md", text: "# Storage\nMilvus keeps data in MinIO.\n# Flush\nData is flushed to segments.\n")
            let changed = try await rag.ingest([edited], splitter: SeparatorSplitter())
            #expect(changed.embedded == 1 && changed.unchanged == 2 && changed.deleted == 1)
            #expect(try await db.collectionStats("docs").rowCount == 6)
            let hits = try await rag.retrieve("MinIO", limit: 1)
            #expect(hits.first?.text == "Storage\nMilvus keeps data in MinIO.\n")
            let old = try await db.get("docs", ids: ["a.md#3"])
            #expect(old.isEmpty)

            #expect(try await rag.remove(source: "b.md") == 3)
            #expect(try await db.collectionStats("docs").rowCount == 3)
        }
    }

    @Test func reingestAfterReopenStillFindsTheOldChunks() async throws {
        let path = NSTemporaryDirectory() + "quiver-rag-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try await Database.open(at: path)
            try await RAGPipeline(database: db, embedder: HashingEmbedding()).ingest(docs, splitter: SeparatorSplitter())
            try await db.close()
        }
        let db = try await Database.open(at: path)
        defer { try? db.close() }
        let report = try await RAGPipeline(database: db, embedder: HashingEmbedding()).ingest(
            [Document(source: "b.md", text: "# Cats\nCats sleep a lot.\n")], splitter: SeparatorSplitter())
        #expect(report.unchanged == 2 && report.deleted == 1 && report.embedded == 0)
        #expect(try await RAGSchema.storedEmbedderName(in: db, collection: "docs") == "test:hashing-64")
    }

    @Test func aDifferentDimensionIsRefused() async throws {
        try await withTemporaryDatabase { db, _ in
            try await RAGPipeline(database: db, embedder: HashingEmbedding()).ingest(docs, splitter: SeparatorSplitter())
            await #expect(throws: RAGError.self) {
                _ = try await RAGPipeline(database: db, embedder: HashingEmbedding(dimension: 32)).retrieve("x")
            }
        }
    }

    @Test func filtersGoToTheEngine() async throws {
        try await withTemporaryDatabase { db, _ in
            let rag = RAGPipeline(database: db, embedder: HashingEmbedding())
            try await rag.ingest(docs, splitter: SeparatorSplitter())
            #expect(try await rag.retrieve("cats", limit: 2, filter: "").count == 2)
            let fromB = try await rag.retrieve("storage", limit: 5, filter: "source == \"b.md\"")
            #expect(fromB.count == 3 && fromB.allSatisfy { $0.source == "b.md" })
            let dogs = try await rag.retrieve("storage", limit: 5, filter: "json_contains(headings, {h})", filterParams: ["h": "Dogs"])
            #expect(dogs.map(\.id) == ["b.md#2"])
            let later = try await rag.retrieve("storage", limit: 10, filter: "chunk_index >= 2 and source like \"a%\"")
            #expect(Set(later.map(\.id)) == ["a.md#2", "a.md#3"])
            await #expect(throws: QuiverError.self) { _ = try await rag.retrieve("x", filter: "nosuchfield == 1") }
        }
    }

    @Test func answerUsesTheTutorialPrompts() async throws {
        try await withTemporaryDatabase { db, _ in
            let chat = RecordingChatModel()
            let rag = RAGPipeline(database: db, embedder: HashingEmbedding(), chatModel: chat)
            try await rag.ingest(docs, splitter: SeparatorSplitter())
            let answer = try await rag.answer("Where does milvus store data", limit: 2)
            #expect(answer.answer == "answer")
            #expect(answer.model == "recording")
            #expect(answer.sources.count == 2)
            let messages = chat.requests[0]
            #expect(messages[0] == .system("Human: You are an AI assistant. You are able to find answers to the questions from the contextual passage snippets provided."))
            let context = answer.sources.map(\.text).joined(separator: "\n")
            #expect(messages[1] == .user("Use the following pieces of information enclosed in <context> tags to provide an answer to the question enclosed in <question> tags.\n<context>\n\(context)\n</context>\n<question>\nWhere does milvus store data\n</question>"))

            let plain = try await rag.answer("Where does milvus store data", useRetrieval: false)
            #expect(plain.sources.isEmpty)
            #expect(chat.requests[1] == [.user("Where does milvus store data")])

            let streamed = try await rag.streamAnswer("Where does milvus store data", limit: 1)
            var text = ""
            for try await d in streamed.deltas { text += d }
            #expect(text == "answer" && streamed.sources.count == 1)
        }
    }

    @Test func answerWithoutAChatModelSaysWhatToSet() async throws {
        try await withTemporaryDatabase { db, _ in
            let rag = RAGPipeline(database: db, embedder: HashingEmbedding())
            try await rag.ingest(docs, splitter: SeparatorSplitter())
            do {
                _ = try await rag.answer("x")
                Issue.record("expected notConfigured")
            } catch let e as RAGError {
                #expect(e.code == .notConfigured)
                #expect(e.message.contains("DEEPSEEK_API_KEY") && e.message.contains("QUIVER_LLM_BASE_URL"))
            }
        }
    }

    /// Documents for the mode tests: one chunk names `drop_ratio_search`, an identifier that
    /// ``IdentifierBlindEmbedding`` (a stand-in for a model that blurs such terms) cannot see;
    /// the others are full of the question's common words.
    static let termDocs = [
        Document(source: "sparse.md", text: "# Pruning\nSet drop_ratio_search to 0.2 to prune small values."),
        Document(source: "intro.md", text: "# Intro\nThe index is the core of the database.\n# Search\nThe search is the part of the engine users see."),
        Document(source: "guide.md", text: "# Guide\nThe collection is the unit of storage.\n# Data\nThe schema is the shape of the data."),
    ]
    static let termQuestion = "what is the role of drop_ratio_search"

    @Test func anExactTermThatDenseMissesHybridFinds() async throws {
        try await withTemporaryDatabase { db, _ in
            let rag = RAGPipeline(database: db, embedder: IdentifierBlindEmbedding())
            #expect(rag.retrievalMode == .hybrid)
            try await rag.ingest(Self.termDocs, splitter: SeparatorSplitter(separator: "# "))
            let target = "sparse.md#1"

            let dense = try await rag.retrieve(Self.termQuestion, limit: 3, mode: .dense)
            #expect(dense.count == 3 && !dense.map(\.id).contains(target))
            let denseAll = try await rag.retrieve(Self.termQuestion, limit: 10, mode: .dense)
            let denseRank = try #require(denseAll.firstIndex { $0.id == target }) + 1

            // Only the target holds "what", "role" or the term ("is", "the", "of" are English stop words).
            let bm25 = try await rag.retrieve(Self.termQuestion, limit: 3, mode: .bm25)
            #expect(bm25.map(\.id) == [target])
            #expect(bm25[0].distance > 0)

            for hybrid in [try await rag.retrieve(Self.termQuestion, limit: 3), try await rag.retrieve(Self.termQuestion, limit: 3, mode: .hybrid)] {
                #expect(hybrid.count == 3)
                #expect(hybrid.first?.id == target)
                // RRF, k = 60: first in BM25, `denseRank` in the dense list (deeper than the limit).
                let expected = 1.0 / 61 + 1.0 / Double(60 + denseRank)
                #expect(abs(Double(hybrid[0].distance) - expected) < 1e-6, "\(hybrid[0].distance) vs \(expected)")
                #expect(zip(hybrid, hybrid.dropFirst()).allSatisfy { $0.distance >= $1.distance })
            }
            // A pipeline set to dense retrieves densely by default, and answers from those chunks.
            var densePipeline = RAGPipeline(database: db, embedder: IdentifierBlindEmbedding(), chatModel: RecordingChatModel(), retrievalMode: .dense)
            #expect(try await densePipeline.retrieve(Self.termQuestion, limit: 3).map(\.id) == dense.map(\.id))
            #expect(try await densePipeline.answer(Self.termQuestion, limit: 3).sources.map(\.id) == dense.map(\.id))
            densePipeline.retrievalMode = .hybrid
            #expect(try await densePipeline.answer(Self.termQuestion, limit: 3).sources.first?.id == target)
            // Filters apply to both searches of a hybrid retrieval.
            let filtered = try await rag.retrieve(Self.termQuestion, limit: 5, filter: "source != \"sparse.md\"")
            #expect(filtered.count == 5 && !filtered.map(\.id).contains(target))
            await #expect(throws: RAGError.self) { _ = try await rag.retrieve(Self.termQuestion, limit: 0) }
        }
    }

    /// Re-ingesting keeps BM25's collection-wide statistics right: after edits, a shortened
    /// file and a removed source, BM25 and hybrid scores equal those of a fresh database that
    /// ingested only the final contents.
    @Test func reingestKeepsTheBM25StatisticsOfAFreshIngest() async throws {
        let first = [
            Document(source: "a.md", text: "# Storage\nMilvus stores data in object storage.\n# Flush\nData is flushed to segments by the data node.\n# Index\nIndexes speed up search over segments."),
            Document(source: "b.md", text: "# Cats\nCats sleep a lot.\n# Dogs\nDogs bark at night.\n# Birds\nBirds sing at dawn."),
            Document(source: "c.md", text: "# Segments\nA segment holds rows; segments are sealed and compacted."),
        ]
        let final = [
            Document(source: "a.md", text: "# Storage\nMilvus keeps data in MinIO or S3 object storage.\n# Flush\nData is flushed to segments by the data node.\n"),
            Document(source: "b.md", text: "# Cats\nCats sleep a lot, and cats purr.\n# Dogs\nDogs bark at night.\n# Birds\nBirds sing at dawn.\n# Fish\nFish swim in segments of the river."),
        ]
        let questions = ["segments", "data storage", "cats purr at night", "sealed segments compacted", "object storage MinIO"]
        func transcript(_ rag: RAGPipeline) async throws -> [[String: [RetrievedChunk]]] {
            var out = [[String: [RetrievedChunk]]]()
            for q in questions {
                out.append([
                    "bm25": try await rag.retrieve(q, limit: 10, mode: .bm25),
                    "hybrid": try await rag.retrieve(q, limit: 10, mode: .hybrid),
                ])
            }
            return out
        }
        try await withTemporaryDatabase { reused, _ in
            try await withTemporaryDatabase { fresh, _ in
                let old = RAGPipeline(database: reused, embedder: HashingEmbedding())
                try await old.ingest(first, splitter: SeparatorSplitter(separator: "# "))
                let before = try await transcript(old)
                let report = try await old.ingest(final, splitter: SeparatorSplitter(separator: "# "))
                #expect(report.embedded == 4 && report.deleted == 1)  // a.md Storage; b.md Cats, Birds (now followed by Fish), Fish; a.md#3 gone
                #expect(try await old.remove(source: "c.md") == 2)
                let new = RAGPipeline(database: fresh, embedder: HashingEmbedding())
                try await new.ingest(final, splitter: SeparatorSplitter(separator: "# "))

                let reingested = try await transcript(old)
                let expected = try await transcript(new)
                #expect(reingested.count == expected.count)
                for (q, (r, e)) in zip(reingested, expected).enumerated() {
                    // BM25: the same chunks with the same scores.
                    let (rs, es) = (r["bm25"]!, e["bm25"]!)
                    #expect(Set(rs.map(\.id)) == Set(es.map(\.id)) && !rs.isEmpty, "question \(q)")
                    let byID = Dictionary(uniqueKeysWithValues: es.map { ($0.id, $0.distance) })
                    for hit in rs {
                        let want = try #require(byID[hit.id])
                        #expect(abs(hit.distance - want) <= 1e-5 * max(1, abs(want)), "question \(q) \(hit.id): \(hit.distance) vs \(want)")
                    }
                    // Hybrid: all 8 chunks, the same fused scores (chunks tied in the dense list,
                    // such as the empty first chunks, may swap ranks, so the scores are compared as lists).
                    let (rh, eh) = (r["hybrid"]!, e["hybrid"]!)
                    #expect(rh.count == 8 && Set(rh.map(\.id)) == Set(eh.map(\.id)), "question \(q)")
                    for (a, b) in zip(rh.map(\.distance), eh.map(\.distance)) {
                        #expect(abs(a - b) <= 1e-6, "question \(q): \(a) vs \(b)")
                    }
                }
                // The statistics did change: the first contents scored "segments" differently.
                #expect(before[0]["bm25"]!.map(\.distance) != expected[0]["bm25"]!.map(\.distance))
            }
        }
    }

    /// A collection made before the BM25 field existed still retrieves densely; BM25 and
    /// hybrid retrieval say that it needs a re-ingest instead of quietly searching by vectors.
    @Test func aCollectionWithoutTheBM25FieldNeedsAReingestForBM25AndHybrid() async throws {
        try await withTemporaryDatabase { db, _ in
            let legacy = try CollectionSchema(fields: [
                FieldSchema(name: RAGSchema.id, dataType: .varchar(maxLength: 8192), isPrimaryKey: true),
                FieldSchema(name: RAGSchema.vector, dataType: .floatVector(dimension: 64)),
                FieldSchema(name: RAGSchema.text, dataType: .varchar(maxLength: RAGSchema.maxTextBytes)),
                FieldSchema(name: RAGSchema.source, dataType: .varchar(maxLength: 8192)),
                FieldSchema(name: RAGSchema.headings, dataType: .json),
                FieldSchema(name: RAGSchema.chunkIndex, dataType: .int64),
                FieldSchema(name: RAGSchema.contentHash, dataType: .varchar(maxLength: 64)),
                FieldSchema(name: RAGSchema.embedder, dataType: .varchar(maxLength: 512)),
            ], description: "QuiverRAG chunks")
            try await db.createCollection("docs", schema: legacy, metric: .cosine)
            #expect(!RAGSchema.hasBM25(try await db.describeCollection("docs")))
            let rag = RAGPipeline(database: db, embedder: HashingEmbedding())
            try await rag.ingest(docs, splitter: SeparatorSplitter(separator: "# "))
            #expect(try await rag.retrieve("dogs bark at night", limit: 1, mode: .dense).first?.id == "b.md#2")
            for mode in [nil, RetrievalMode.bm25, .hybrid] {
                do {
                    _ = try await rag.retrieve("dogs bark at night", mode: mode)
                    Issue.record("expected reingestRequired for \(String(describing: mode))")
                } catch let e as RAGError {
                    #expect(e.code == .reingestRequired)
                    #expect(e.message.contains("--mode dense") && e.message.contains("ingest again"))
                }
            }

            try await db.dropCollection("docs")
            try await rag.ingest(docs, splitter: SeparatorSplitter(separator: "# "))
            #expect(RAGSchema.hasBM25(try await db.describeCollection("docs")))
            #expect(try await rag.retrieve("dogs bark at night", limit: 1).first?.id == "b.md#2")
        }
    }

    /// The tutorial's retrieval with the reference MiniLM vectors: everything but the model.
    @Test(.enabled(if: SharedData.isAvailable, SharedData.absent)) func tutorialRetrievalWithReferenceVectors() async throws {
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: SharedData.url("embeddings/faq_chunks.json"))) as! [String: Any]
        let chunks = reference["chunks"] as! [[String: Any]]
        let vectors = try SharedData.npy("embeddings/faq_chunks.f32.npy")
        let query = try SharedData.npy("embeddings/faq_query.f32.npy")
        #expect(vectors.count == 72 && vectors[0].count == 384 && query.count == 1)
        var table = [String: [Float]]()
        for (chunk, v) in zip(chunks, vectors) { table[chunk["text"] as! String] = v }
        let question = "How is data stored in milvus?"
        table[question] = query[0]

        try await withTemporaryDatabase { db, _ in
            let rag = RAGPipeline(database: db, embedder: PrecomputedEmbedding(vectors: table))
            let report = try await rag.ingest(files: try SharedData.markdownFiles("milvus-faq"), splitter: SeparatorSplitter(separator: "# "))
            #expect(report.chunks == 72)
            let hits = try await rag.retrieve(question, limit: 3, mode: .dense)
            #expect(hits.count == 3)
            // The reference chunk starts " Where …" (its heading is "###  Where …").
            #expect(hits[0].text.trimmingWhitespace().hasPrefix("Where does Milvus store data?"))
            #expect(hits[1].text.trimmingWhitespace().hasPrefix("How does Milvus flush data?"))
            #expect(hits[2].text.trimmingWhitespace().hasPrefix("What is the maximum dataset size Milvus can handle?"))
            #expect(hits.map(\.id) == [31, 42, 30].map { i in
                let c = chunks[i]
                return try! SharedData.url("milvus-faq/" + (c["file"] as! String)).path + "#" + String(c["part"] as! Int)
            })
            let top3 = (reference["query"] as! [String: Any])["top3"] as! [[String: Any]]
            for (hit, ref) in zip(hits, top3) {
                #expect(abs(Double(hit.distance) - (ref["score"] as! Double)) < 1e-4)
            }
        }
    }
}

import QuiverMiniLM

/// The tutorial's case with the built-in model (skipped when its weights are absent).
@Suite struct TutorialWithBuiltInModelTests {
    @Test(.enabled(if: SharedData.isAvailable, SharedData.absent), .enabled(if: MiniLM.locateModelDirectory() != nil, "MiniLM weights not found: run `quiver model fetch` or set QUIVER_MODEL_DIR"))
    func tutorialRetrievalWithTheBuiltInModel() async throws {
        try await withTemporaryDatabase { db, _ in
            let rag = RAGPipeline(database: db, embedder: try LocalMiniLMEmbedding.loadDefault())
            let report = try await rag.ingest(files: try SharedData.markdownFiles("milvus-faq"), splitter: SeparatorSplitter(separator: "# "))
            #expect(report.chunks == 72)
            let hits = try await rag.retrieve("How is data stored in milvus?", limit: 3, mode: .dense)
            #expect(hits.count == 3)
            let starts = ["Where does Milvus store data?", "How does Milvus flush data?", "What is the maximum dataset size Milvus can handle?"]
            for (hit, start) in zip(hits, starts) { #expect(hit.text.trimmingWhitespace().hasPrefix(start)) }
        }
    }
}


/// The whole Milvus documentation (224 pages) through every splitter and the store, with the
/// hashing embedder: checks that real pages split and store, and prints the throughput.
@Suite struct DocsCorpusTests {
    @Test(.enabled(if: SharedData.isAvailable, SharedData.absent), arguments: ["markdown", "recursive"])
    func ingestTheMilvusDocs(chunking: String) async throws {
        let files = try SharedData.markdownFiles("milvus-docs-en")
        #expect(files.count == 224)
        let splitter: any TextSplitter = chunking == "markdown" ? MarkdownSplitter() : RecursiveSplitter()
        let texts = try files.map { try String(contentsOfFile: $0, encoding: .utf8) }
        let splitStart = ContinuousClock.now
        let count = zip(files, texts).reduce(0) { $0 + splitter.split($1.1, source: $1.0).count }
        print("[docs] \(chunking): split alone \(count) chunks in \(ContinuousClock.now - splitStart)")
        try await withTemporaryDatabase { db, _ in
            let rag = RAGPipeline(database: db, embedder: HashingEmbedding(dimension: 384))
            let report = try await rag.ingest(files: files, splitter: splitter)
            print("[docs] \(chunking): \(report.documents) files, \(report.chunks) chunks in \(report.elapsed), \(Int(report.embeddingsPerSecond)) chunks/s (hashing embedder)")
            #expect(report.documents == 224)
            #expect(report.chunks > 224 * 2)
            #expect(try await db.collectionStats("docs").rowCount == report.chunks)
            let again = try await rag.ingest(files: files, splitter: splitter)
            #expect(again.unchanged == report.chunks && again.embedded == 0)
        }
    }
}
