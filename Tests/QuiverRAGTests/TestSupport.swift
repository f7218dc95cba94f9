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

enum SharedData {
    /// `…/shared/data`, found by walking up from this file.
    static let directory: URL? = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("shared/data")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    static func url(_ path: String) throws -> URL {
        guard let directory else { throw RAGError(.notConfigured, "shared/data not found above \(#filePath)") }
        return directory.appendingPathComponent(path)
    }

    /// The markdown files of a folder, recursively, sorted by path.
    static func markdownFiles(_ folder: String) throws -> [String] {
        let root = try url(folder)
        let e = FileManager.default.enumerator(atPath: root.path)!
        var out = [String]()
        while let p = e.nextObject() as? String {
            if p.hasSuffix(".md") { out.append(root.appendingPathComponent(p).path) }
        }
        return out.sorted()
    }

    /// The rows of a float32 NumPy array (format 1.0/2.0, little-endian, C order).
    static func npy(_ path: String) throws -> [[Float]] {
        let data = try Data(contentsOf: try url(path))
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes[0] == 0x93, String(decoding: bytes[1..<6], as: UTF8.self) == "NUMPY" else {
            throw RAGError(.invalidResponse, "\(path) is not a .npy file")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False") else {
            throw RAGError(.invalidResponse, "\(path): unsupported header \(header)")
        }
        let shapeText = header.components(separatedBy: "'shape': (")[1].components(separatedBy: ")")[0]
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let rows = shape[0]
        let cols = shape.count > 1 ? shape[1] : 1
        let start = headerStart + headerLength
        var out = [[Float]]()
        for r in 0..<rows {
            var row = [Float](repeating: 0, count: cols)
            for c in 0..<cols {
                let o = start + (r * cols + c) * 4
                let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
                row[c] = Float(bitPattern: bits)
            }
            out.append(row)
        }
        return out
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
