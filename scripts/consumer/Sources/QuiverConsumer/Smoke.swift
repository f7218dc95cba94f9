import Foundation
import Quiver
import QuiverMiniLM

/// Small and quick: does Quiver, linked as an app links it, give the right answers?
enum Smoke {
    static let dimension = 64, rowCount = 3000, limit = 10
    static let metrics: [MetricType] = [.ip, .cosine]

    static func run(referenceDirectory: String?) throws {
        try search()
        try embed(referenceDirectory: referenceDirectory)
        print("smoke: ok")
    }

    /// Inserts 3,000 rows into an IP and a COSINE collection and checks single and batched
    /// searches against brute force: in the growing segment, after a flush, and after reopening.
    static func search() throws {
        var random = SplitMix(state: 16)
        let rows = (0..<rowCount).map { _ in random.vector(dimension) }
        let queries = (0..<24).map { _ in random.vector(dimension) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-consumer-\(UUID().uuidString)").path
        defer { removeDatabase(at: path) }

        var db = try Database.open(at: path)
        for metric in metrics {
            try db.createCollection(name(metric), dimension: dimension, metric: metric)
            for start in stride(from: 0, to: rowCount, by: 1000) {
                let batch: [Row] = (start..<min(rowCount, start + 1000)).map { ["id": .int(Int64($0)), "vector": .vector(rows[$0])] }
                let result = try db.insert(name(metric), rows: batch)
                guard result.insertCount == batch.count else { throw Mismatch("inserted \(result.insertCount) of \(batch.count) rows") }
            }
        }
        try check(db, rows: rows, queries: queries, state: "growing segment")
        for metric in metrics { try db.flush(name(metric)) }
        try check(db, rows: rows, queries: queries, state: "flushed")
        try db.close()
        db = try Database.open(at: path)
        try check(db, rows: rows, queries: queries, state: "reopened")
        try db.close()
    }

    static func name(_ metric: MetricType) -> String { metric.rawValue.lowercased() }

    /// 8 single queries and one batch of 16 per collection, each checked against brute force.
    static func check(_ db: Database, rows: [[Float]], queries: [[Float]], state: String) throws {
        for metric in metrics {
            for (i, query) in queries.prefix(8).enumerated() {
                let results = try db.search(name(metric), vectors: [query], limit: limit)
                guard results.count == 1 else { throw Mismatch("one query gave \(results.count) result lists") }
                try BruteForce.check(results[0], query: query, rows: rows, metric: metric, limit: limit,
                                     context: "\(metric.rawValue), \(state), single query \(i)")
            }
            let batch = Array(queries.suffix(16))
            let results = try db.search(name(metric), vectors: batch, limit: limit)
            guard results.count == batch.count else { throw Mismatch("\(batch.count) queries gave \(results.count) result lists") }
            for (i, hits) in results.enumerated() {
                try BruteForce.check(hits, query: batch[i], rows: rows, metric: metric, limit: limit,
                                     context: "\(metric.rawValue), \(state), batched query \(i)")
            }
        }
        print("smoke: search, \(state): \(metrics.count) × 24 queries match brute force over \(rows.count) rows")
    }

    /// Embeds sentences with the built-in model when its weights are installed: against the
    /// reference vectors when `referenceDirectory` (../shared/data/embeddings) is given.
    static func embed(referenceDirectory: String?) throws {
        guard MiniLM.locateModelDirectory() != nil else {
            print("smoke: embedding not checked: the all-MiniLM-L6-v2 weights are absent (scripts/fetch-model.sh installs them)")
            return
        }
        let model = try MiniLM.loadDefault()
        if let referenceDirectory {
            struct Reference: Decodable {
                struct Sentence: Decodable {
                    let text: String
                    let embedding: [Float]
                }
                let sentences: [Sentence]
            }
            let file = URL(fileURLWithPath: referenceDirectory).appendingPathComponent("reference_sentences.json")
            let sentences = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: file)).sentences.prefix(8)
            let vectors = try model.embed(sentences.map(\.text))
            var worst: Float = 0
            for (vector, sentence) in zip(vectors, sentences) {
                guard vector.count == sentence.embedding.count else { throw Mismatch("embedding of \(vector.count) values, expected \(sentence.embedding.count)") }
                worst = max(worst, zip(vector, sentence.embedding).map { abs($0 - $1) }.max() ?? 0)
            }
            guard vectors.count == sentences.count, worst < 1e-4 else {
                throw Mismatch("embeddings differ from the reference by up to \(worst) (tolerance 1e-4)")
            }
            print("smoke: embedding: \(sentences.count) reference sentences match to \(worst) (max abs difference)")
        } else {
            // Without the reference vectors: unit length, and a paraphrase nearer than an unrelated sentence.
            let v = try model.embed(["How does Milvus store data?", "Where does Milvus keep its data?", "The cat slept in the sun."])
            let cosine = { (a: [Float], b: [Float]) in zip(a, b).map { $0 * $1 }.reduce(0, +) }
            guard v.allSatisfy({ $0.count == MiniLM.dimension && abs(cosine($0, $0) - 1) < 1e-4 }),
                  cosine(v[0], v[1]) > cosine(v[0], v[2]) + 0.2
            else { throw Mismatch("embeddings are not unit vectors, or a paraphrase is not nearer than an unrelated sentence") }
            print("smoke: embedding: 3 sentences, unit length, paraphrase nearer (no reference vectors given)")
        }
    }

    static func removeDatabase(at path: String) {
        do { try FileManager.default.removeItem(atPath: path) } catch {
            FileHandle.standardError.write(Data("quiver-consumer: could not remove \(path): \(error)\n".utf8))
        }
    }
}
