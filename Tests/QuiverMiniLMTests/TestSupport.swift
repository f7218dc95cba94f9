import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverMiniLM

/// Locates the reference data (`../shared/data/embeddings`, beside the repository) and the model.
enum TestSupport {
    static let embeddingsDirectory: URL? = try? SharedData.url("embeddings")

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

    /// The rows of a float32 `.npy` of the reference data.
    static func npy(_ name: String) throws -> [[Float]] {
        try SharedData.npy("embeddings/" + name)
    }

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}
