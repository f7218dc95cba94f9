import Foundation
import Quiver
import Synchronization
@testable import QuiverRAG

/// A deterministic embedder: hashed bag of lower-cased words, L2-normalised.
struct HashingEmbedding: EmbeddingFunction {
    var dimension: Int = 64
    var name: String { "test:hashing-\(dimension)" }
    let calls = CallCounter()

    func encodeDocuments(_ texts: [String]) async throws -> [[Float]] {
        calls.add(texts.count)
        return texts.map(vector)
    }

    func encodeQueries(_ texts: [String]) async throws -> [[Float]] { texts.map(vector) }

    func vector(_ text: String) -> [Float] {
        var v = [Float](repeating: 0, count: dimension)
        for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in word.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            v[Int(h % UInt64(dimension))] += 1
        }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm == 0 { v[0] = 1; return v }
        return v.map { $0 / norm }
    }
}

/// A hashed bag of words that cannot see identifiers (words with `_` or a digit): a stand-in
/// for an embedding model that blurs exact technical terms, which BM25 matches exactly.
struct IdentifierBlindEmbedding: EmbeddingFunction {
    var dimension: Int { 256 }
    var name: String { "test:identifier-blind-256" }

    func encodeDocuments(_ texts: [String]) async throws -> [[Float]] { texts.map(vector) }
    func encodeQueries(_ texts: [String]) async throws -> [[Float]] { texts.map(vector) }

    func vector(_ text: String) -> [Float] {
        var v = [Float](repeating: 0, count: dimension)
        for word in text.lowercased().split(whereSeparator: { $0.isWhitespace || ($0.isPunctuation && $0 != "_") }) {
            guard !word.contains(where: { $0 == "_" || $0.isNumber }) else { continue }
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in word.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            v[Int(h % UInt64(dimension))] += 1
        }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm == 0 { v[0] = 1; return v }
        return v.map { $0 / norm }
    }
}

/// Counts the texts an embedder was asked to embed.
final class CallCounter: Sendable {
    private let n = Mutex(0)
    func add(_ k: Int) { n.withLock { $0 += k } }
    var count: Int { n.withLock { $0 } }
}

/// Reference vectors looked up by exact text (all-MiniLM-L6-v2 computed elsewhere).
struct PrecomputedEmbedding: EmbeddingFunction {
    let vectors: [String: [Float]]
    var name: String { "test:precomputed-minilm" }
    var dimension: Int { 384 }

    func encodeDocuments(_ texts: [String]) async throws -> [[Float]] { try texts.map(lookup) }
    func encodeQueries(_ texts: [String]) async throws -> [[Float]] { try texts.map(lookup) }

    private func lookup(_ text: String) throws -> [Float] {
        guard let v = vectors[text] else { throw RAGError(.invalidArgument, "no reference vector for \(text.prefix(40).debugDescription)") }
        return v
    }
}

/// A chat model that records the messages and answers with a fixed text.
final class RecordingChatModel: ChatModel {
    let model = "recording"
    private let seen = Mutex<[[ChatMessage]]>([])
    var requests: [[ChatMessage]] { seen.withLock { $0 } }

    func complete(_ messages: [ChatMessage], options: ChatOptions) async throws -> ChatCompletion {
        seen.withLock { $0.append(messages) }
        return ChatCompletion(text: "answer", model: model)
    }

    func stream(_ messages: [ChatMessage], options: ChatOptions) async throws -> TextDeltaStream {
        seen.withLock { $0.append(messages) }
        return TextDeltaStream { c in
            c.yield("an")
            c.yield("swer")
            c.finish()
        }
    }
}

/// A fresh database directory under the temporary folder, removed afterwards.
func withTemporaryDatabase<R>(_ body: (Database, String) async throws -> R) async throws -> R {
    let path = NSTemporaryDirectory() + "quiver-rag-\(UUID().uuidString)"
    var options = DatabaseOptions()
    options.durability = .none
    let db = try await Database.open(at: path, options: options)
    defer {
        try? db.close()
        try? FileManager.default.removeItem(atPath: path)
    }
    return try await body(db, path)
}
