import Foundation
import Testing
@testable import QuiverMiniLM

/// Locates `shared/data/embeddings` (the reference data, outside the repository) and the model.
enum TestSupport {
    /// Walks up from this file until a directory holding `shared/data/embeddings` is found.
    static let embeddingsDirectory: URL? = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<8 {
            let candidate = dir.appendingPathComponent("shared/data/embeddings")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("README.md").path) {
                return candidate
            }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    static var referenceDataAvailable: Bool { embeddingsDirectory != nil }

    /// The tokenizer from the reference `model/vocab.txt` (no weights needed).
    static let tokenizer: BertTokenizer? = {
        guard let dir = embeddingsDirectory else { return nil }
        return try? BertTokenizer(vocabURL: dir.appendingPathComponent("model/vocab.txt"))
    }()

    /// The model, loaded once, when its weights are installed (`scripts/fetch-model.sh`).
    /// A load failure is kept and rethrown by ``loadModel()`` so damaged weights fail the tests
    /// instead of skipping them.
    static let modelResult: Result<MiniLM, any Error>? = {
        guard let dir = MiniLM.locateModelDirectory() else { return nil }
        return Result { try MiniLM(modelDirectory: dir) }
    }()

    static var modelAvailable: Bool { MiniLM.locateModelDirectory() != nil }

    static func loadModel() throws -> MiniLM {
        guard let modelResult else { throw MiniLMError(.modelNotFound, "weights absent") }
        return try modelResult.get()
    }

    static let skipMessage: Comment =
        "all-MiniLM-L6-v2 weights absent: run scripts/fetch-model.sh (or `quiver model fetch`), or set QUIVER_MODEL_DIR"

    struct Item: Decodable {
        let text: String
        let token_ids: [Int32]
    }

    struct Sentences: Decodable { let sentences: [Item] }
    struct Chunks: Decodable {
        let query: Item
        let chunks: [Item]
    }

    static func sentences() throws -> [Item] {
        try JSONDecoder().decode(Sentences.self, from: Data(contentsOf: embeddingsDirectory!.appendingPathComponent("reference_sentences.json"))).sentences
    }

    static func chunks() throws -> (query: Item, chunks: [Item]) {
        let c = try JSONDecoder().decode(Chunks.self, from: Data(contentsOf: embeddingsDirectory!.appendingPathComponent("faq_chunks.json")))
        return (c.query, c.chunks)
    }

    /// Rows of a float32 `.npy` (format v1.0, 128-byte header, C order) of width `width`.
    static func npy(_ name: String, width: Int = 384) throws -> [[Float]] {
        let data = try Data(contentsOf: embeddingsDirectory!.appendingPathComponent(name))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let start = 10 + headerLength
        let count = (data.count - start) / 4
        var floats = [Float](repeating: 0, count: count)
        _ = floats.withUnsafeMutableBytes { data.copyBytes(to: $0, from: start..<(start + count * 4)) }
        return stride(from: 0, to: count, by: width).map { Array(floats[$0..<($0 + width)]) }
    }

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}
