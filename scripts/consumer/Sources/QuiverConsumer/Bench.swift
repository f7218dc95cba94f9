import Foundation
import Quiver
import QuiverMiniLM

/// The measurements of issue 16's table, from an app's point of view (default options).
enum Bench {
    static let dimension = 128, batchSize = 10_000, limit = 10

    static func run(rows rowCount: Int) throws {
        var random = SplitMix(state: 128)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-consumer-bench-\(UUID().uuidString)").path
        defer { Smoke.removeDatabase(at: path) }
        let db = try Database.open(at: path)
        try db.createCollection("bench", dimension: dimension, metric: .ip)

        // Insert: rows are built before each timed call; the time is the insert calls only.
        var insert = (wall: 0.0, cpu: 0.0)
        for start in stride(from: 0, to: rowCount, by: batchSize) {
            let batch: [Row] = (start..<min(rowCount, start + batchSize)).map { ["id": .int(Int64($0)), "vector": .vector(random.vector(dimension))] }
            let m = try measure { try db.insert("bench", rows: batch) }
            insert.wall += m.wall
            insert.cpu += m.cpu
            guard m.result.insertCount == batch.count else { throw Mismatch("inserted \(m.result.insertCount) of \(batch.count) rows") }
        }
        let flush = try measure { try db.flush("bench") }

        let queries = (0..<300).map { _ in random.vector(dimension) }
        _ = try db.search("bench", vectors: [queries[299]], limit: limit)  // warm-up
        let singles = try measure {
            for query in queries.prefix(100) {
                let hits = try db.search("bench", vectors: [query], limit: limit)
                guard hits.count == 1, hits[0].count == limit else { throw Mismatch("a single query returned \(hits.first?.count ?? 0) hits") }
            }
        }
        let batch = Array(queries[100..<300])
        let batched = try measure { try db.search("bench", vectors: batch, limit: limit) }
        guard batched.result.count == batch.count, batched.result.allSatisfy({ $0.count == limit }) else {
            throw Mismatch("the batch returned short results")
        }
        try db.close()

        let embedding = try embed()
        print("rows: \(rowCount) × \(dimension), IP, default DatabaseOptions, \(ProcessInfo.processInfo.activeProcessorCount) CPUs")
        print("insert, rows/s: \(format(Double(rowCount) / insert.wall, 0)) (CPU \(format(insert.cpu, 1)) s for \(format(insert.wall, 1)) s)")
        print("flush, s: \(format(flush.wall, 2))")
        print("single query, mean ms: \(format(singles.wall / 100 * 1000, 2)) (CPU \(format(singles.cpu / 100 * 1000, 2)) ms)")
        print("batch of 200 queries, q/s: \(format(Double(batch.count) / batched.wall, 1)) (CPU \(format(batched.cpu, 2)) s for \(format(batched.wall, 2)) s)")
        if let embedding {
            print("MiniLM, sentences/s: \(format(embedding.rate, 1)) (CPU \(format(embedding.cpu, 2)) s for \(format(embedding.wall, 2)) s)")
        } else {
            print("MiniLM, sentences/s: not measured, the weights are absent (scripts/fetch-model.sh)")
        }
    }

    /// Embeds 128 generated sentences of 8–40 words in one call, after a warm-up call: the
    /// median of three passes by rate; nil when the weights are absent.
    static func embed() throws -> (rate: Double, wall: Double, cpu: Double)? {
        guard MiniLM.locateModelDirectory() != nil else { return nil }
        let model = try MiniLM.loadDefault()
        let sentences = generatedSentences(128)
        _ = try model.embed(Array(sentences.prefix(8)))
        var passes = [(rate: Double, wall: Double, cpu: Double)]()
        for _ in 0..<3 {
            let m = try measure { try model.embed(sentences) }
            guard m.result.count == sentences.count else { throw Mismatch("\(m.result.count) embeddings for \(sentences.count) sentences") }
            passes.append((Double(sentences.count) / m.wall, m.wall, m.cpu))
        }
        return passes.sorted { $0.rate < $1.rate }[1]
    }

    /// Deterministic English-like sentences (the same on every run), 8 to 40 words each.
    static func generatedSentences(_ count: Int) -> [String] {
        let words = """
            the a vector database stores searches embeddings of documents and each collection holds rows with \
            an id field while segments are flushed to disk in columns so that queries find the nearest \
            neighbours by inner product or cosine similarity over every sealed segment index graph partition \
            when filters select rows by their scalar fields such as price language or date before ranking
            """.split(separator: " ").map(String.init)
        var random = SplitMix(state: 384)
        return (0..<count).map { _ in
            let n = Int.random(in: 8...40, using: &random)
            return (0..<n).map { _ in words[Int.random(in: 0..<words.count, using: &random)] }.joined(separator: " ") + "."
        }
    }

    static func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
}
