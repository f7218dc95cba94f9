// embed-bench: throughput of QuiverMiniLM on a JSONL file of texts (one JSON string per line).
//
//   swift run -c release embed-bench --file texts.jsonl --threads 1 --batch 64 --seconds 10
//
// Prints one JSON object: sentences per second over whole passes of the file (texts → vectors,
// tokenization included), per wall-clock second and per CPU second of the process (the latter is
// less sensitive to other processes on a shared machine), and the process's peak RSS.
//
//   swift run -c release embed-bench --file texts.jsonl --out vectors.npy --threads 2
//
// With --out, embeds every text once instead (progress on standard error) and writes the vectors
// as a float32 .npy, texts × 384, in the file's order (Benchmarks/datasets/make_text_dataset.py).
import BenchSupport
import Foundation
import QuiverMiniLM

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

guard let file = argument("--file") else {
    FileHandle.standardError.write(Data(
        "usage: embed-bench --file TEXTS.jsonl [--threads N] [--batch B] [--seconds S] [--out VECTORS.npy]\n".utf8))
    exit(2)
}
let threads = Int(argument("--threads") ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
let batch = Int(argument("--batch") ?? "") ?? 64
let minSeconds = Double(argument("--seconds") ?? "") ?? 5

let texts = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map {
    try JSONDecoder().decode(String.self, from: Data($0.utf8))
}
let model = try MiniLM.loadDefault()

if let out = argument("--out") {
    try embedAll(to: out)
    exit(0)
}

func pass() throws {
    var i = 0
    while i < texts.count {
        let vectors = try model.embed(Array(texts[i..<min(texts.count, i + batch)]), threads: threads)
        precondition(vectors.count == min(batch, texts.count - i))
        i += batch
    }
}

try pass()  // warm-up
var passes = 0
let cpuStart = cpuSeconds()
let start = Date()
repeat {
    try pass()
    passes += 1
} while Date().timeIntervalSince(start) < minSeconds
let seconds = Date().timeIntervalSince(start)
let cpu = cpuSeconds() - cpuStart

let tokens = texts.reduce(0) { $0 + model.tokenize($1).count }
let result: [String: Any] = [
    "impl": "quiver-swift",
    "threads": threads,
    "batch": batch,
    "texts": texts.count,
    "mean_tokens": Double(tokens) / Double(texts.count),
    "passes": passes,
    "seconds": seconds,
    "sentences_per_sec": Double(passes * texts.count) / seconds,
    "cpu_seconds": cpu,
    "sentences_per_cpu_sec": Double(passes * texts.count) / cpu,
    "peak_rss_mb": peakRSSMiB(),
]
let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))

/// Embeds every text once and writes a float32 `.npy` (texts × 384, C order, in the file's order).
/// Texts are embedded in order of token count so that a batch pads little, then put back in place.
func embedAll(to path: String) throws {
    let d = MiniLM.dimension
    let lengths = texts.map { model.tokenize($0).count }
    let order = texts.indices.sorted { lengths[$0] < lengths[$1] }
    var matrix = [Float](repeating: 0, count: texts.count * d)
    let start = Date()
    var done = 0, lastReport = start
    while done < order.count {
        let chunk = Array(order[done..<min(order.count, done + batch)])
        let vectors = try model.embed(chunk.map { texts[$0] }, threads: threads)
        for (row, vector) in zip(chunk, vectors) { matrix.replaceSubrange(row * d..<(row + 1) * d, with: vector) }
        done += chunk.count
        if Date().timeIntervalSince(lastReport) >= 10 || done == order.count {
            lastReport = Date()
            let rate = Double(done) / lastReport.timeIntervalSince(start)
            FileHandle.standardError.write(Data(String(
                format: "embed-bench: %d / %d texts, %.0f texts/s, %.0f s left\n",
                done, order.count, rate, Double(order.count - done) / rate).utf8))
        }
    }
    // NumPy format 1.0: magic, version, little-endian header length, header padded to 64 bytes.
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(texts.count), \(d)), }"
    header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
    data.append(contentsOf: Array(header.utf8))
    matrix.withUnsafeBytes { data.append(contentsOf: $0) }
    try data.write(to: URL(fileURLWithPath: path))
    let seconds = Date().timeIntervalSince(start)
    let summary: [String: Any] = [
        "impl": "quiver-swift", "threads": threads, "batch": batch, "texts": texts.count, "out": path,
        "seconds": seconds, "sentences_per_sec": Double(texts.count) / seconds, "peak_rss_mb": peakRSSMiB(),
    ]
    print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
}
