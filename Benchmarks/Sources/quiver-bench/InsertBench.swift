import ArgumentParser
import BenchSupport
import Foundation
import Quiver

/// `quiver-bench insert`: bulk insert throughput of the row API against the columnar one.
struct Insert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Insert a float32 .npy into a fresh collection; print one JSON object.",
        discussion: """
            The base is streamed in blocks of --batch rows; each block is one insert call: rows \
            (a Row per row, the vector boxed as a Value) or, with --columnar, one ColumnBatch (the \
            block's [Float] as a float vector column, ids as an int64 column). The database has \
            the default DatabaseOptions but --durability (flushes at the default thresholds, \
            background compaction on).

            JSON fields: rows, dimension, batch, columnar, durability, insert_s (the insert calls \
            only), rows_per_s (rows / insert_s), wall_s (reading the file included), flush_s (the \
            final flush), peak_rss_mb (VmHWM; measure with /usr/bin/time -v as well).
            """)

    @Option(help: "Base vectors: float32 .npy, N×d, C order.") var base: String
    @Flag(help: "Insert ColumnBatch columns instead of rows.") var columnar = false
    @Option(help: "none, batched or always.") var durability: String = "batched"
    @Option(help: "Rows per insert call.") var batch: Int = 10_000
    @Option(help: "Database directory (must not exist; default: a temporary one, removed afterwards).") var db: String?

    func run() throws {
        let mode: Durability
        switch durability {
        case "none": mode = .none
        case "batched": mode = .batched
        case "always": mode = .always
        default: throw ValidationError("--durability must be none, batched or always")
        }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        let directory = db ?? NSTemporaryDirectory() + "quiver-insert-bench-\(ProcessInfo.processInfo.processIdentifier)"
        guard !FileManager.default.fileExists(atPath: directory) else { throw ValidationError("\(directory) exists") }
        defer { if db == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let d = try NPY.readFloat32Header(base).columns
        var options = DatabaseOptions()
        options.durability = mode
        let database = try Database.open(at: directory, options: options)
        try database.createCollection("bench", dimension: d, metric: .l2)
        var insertSeconds = 0.0
        var rows = 0
        let wallStart = now()
        try NPY.forEachFloat32Block(base, batch: batch) { first, values in
            let n = values.count / d
            let start = now()
            if columnar {
                _ = try database.insert("bench", columns: ColumnBatch([
                    "id": .int64((0..<Int64(n)).map { Int64(first) + $0 }),
                    "vector": .floatVectors(values, dimension: d),
                ]))
            } else {
                _ = try database.insert("bench", rows: Search.rows(first: first, values[...], dimension: d))
            }
            insertSeconds += now() - start
            rows += n
        }
        let wall = now() - wallStart
        let flushStart = now()
        try database.flush("bench")
        let flushSeconds = now() - flushStart
        try database.close()
        let fields: [(String, String)] = [
            ("rows", "\(rows)"), ("dimension", "\(d)"), ("batch", "\(batch)"), ("columnar", "\(columnar)"),
            ("durability", "\"\(durability)\""), ("insert_s", fmt(insertSeconds)),
            ("rows_per_s", String(format: "%.0f", Double(rows) / insertSeconds)), ("wall_s", fmt(wall)),
            ("flush_s", fmt(flushSeconds)), ("peak_rss_mb", fmt(peakRSSMiB())),
        ]
        print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }
}
