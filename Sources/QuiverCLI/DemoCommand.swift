import ArgumentParser
import Foundation
import Quiver

/// SplitMix64: fast, seeded random numbers for sample data.
struct DemoRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension QuiverCommand {
    /// A walk-through of the engine: create, insert, flush, reopen, search.
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk through the engine: create a collection, insert, flush, reopen and search.")
        @Argument(help: "The database directory (created when missing), or a Milvus server's http(s):// URL.") var db: String = "./quiver_demo.quiver"
        @OptionGroup var connection: ConnectionArguments
        @Option(help: "Rows to insert.") var rows: Int = 10_000
        @Option(help: "Vector dimension.") var dimension: Int = 32

        func run() async throws {
            let d = dimension
            var generator = DemoRandom(state: 42)
            let vectors = (0..<rows).map { _ in (0..<d).map { _ in Float.random(in: -1...1, using: &generator) } }
            let colors = ["red", "green", "blue"]
            do {
                let db = try await connection.open(db)
                if try await db.hasCollection("demo") { try await db.dropCollection("demo") }
                try await db.createCollection("demo", dimension: d, metric: .cosine)
                let start = Date()
                for batchStart in stride(from: 0, to: rows, by: 10_000) {
                    let batch = (batchStart..<min(batchStart + 10_000, rows)).map { i -> Row in
                        ["id": .int(Int64(i)), "vector": .vector(vectors[i]), "color": .string(colors[i % 3]), "n": .int(Int64(i))]
                    }
                    _ = try await db.insert("demo", rows: batch)
                }
                print("inserted \(rows) rows of \(d) dimensions in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
                let flushStart = Date()
                try await db.flush("demo")
                print("flushed in \(String(format: "%.2f", Date().timeIntervalSince(flushStart))) s; closing and reopening")
                try await db.close()
            }
            let start = Date()
            let db = try await connection.open(db)
            print("reopened in \(String(format: "%.1f", Date().timeIntervalSince(start) * 1000)) ms; stats:", try await db.collectionStats("demo"))
            let query = vectors[42]
            let hits = try await db.search("demo", vectors: [query], limit: 3, outputFields: ["color", "n"])
            print("top 3 for the vector of row 42 (cosine similarity):")
            for hit in hits[0] {
                print("  id \(hit.id.jsonString)  distance \(hit.distance)  \(Value.object(hit.entity).jsonString)")
            }
            try await db.close()
        }
    }
}
