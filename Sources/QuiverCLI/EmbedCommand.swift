import ArgumentParser
import Foundation
import QuiverMiniLM

/// `quiver embed`: texts in, a JSON array of 384-dimensional vectors out.
struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts with all-MiniLM-L6-v2 and print a JSON array of vectors.",
        discussion: """
            Prints one L2-normalised 384-dimensional vector per text, in order: the texts of \
            --file first, then the TEXT arguments. The model comes from $QUIVER_MODEL_DIR or the \
            cache directory; run `quiver model fetch` first.
            """
    )

    @Option(name: .long, help: "A JSONL file with one JSON string per line.")
    var file: String?

    @Option(name: .long, help: "Threads to use (default: all cores).")
    var threads: Int?

    @Argument(help: "Texts to embed.")
    var texts: [String] = []

    func validate() throws {
        if file == nil && texts.isEmpty {
            throw ValidationError("give at least one TEXT or --file TEXTS.jsonl")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        var inputs: [String] = []
        if let file { inputs += try Self.readJSONL(file) }
        inputs += texts
        let model = try MiniLM.loadDefault()
        let vectors = try model.embed(inputs, threads: threads)
        var out = "["
        for (i, v) in vectors.enumerated() {
            out += i == 0 ? "\n  [" : ",\n  ["
            out += v.map { "\($0)" }.joined(separator: ", ")
            out += "]"
        }
        out += vectors.isEmpty ? "]\n" : "\n]\n"
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    /// Reads a file of one JSON string per line; blank lines are skipped.
    static func readJSONL(_ path: String) throws -> [String] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
        var result: [String] = []
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            guard let text = try? JSONDecoder().decode(String.self, from: Data(line.utf8)) else {
                throw ValidationError("\(path):\(n + 1): expected a JSON string")
            }
            result.append(text)
        }
        return result
    }
}
