import Foundation

import QuiverMiniLM

/// The built-in all-MiniLM-L6-v2 (384-d, L2-normalised), computed in-process by `QuiverMiniLM`.
///
/// ```swift
/// let embedder = try LocalMiniLMEmbedding.loadDefault()   // QUIVER_MODEL_DIR or ~/.cache/quiver/models/…
/// ```
public struct LocalMiniLMEmbedding: EmbeddingFunction {
    /// The loaded model; it may be shared by several embedders.
    public let model: MiniLM
    /// Threads for the forward pass; `nil` lets the model choose.
    public var threads: Int?

    /// An embedder over an already loaded model.
    ///
    /// - Parameters:
    ///   - model: the model, e.g. `try MiniLM(modelDirectory: url)`.
    ///   - threads: threads for the forward pass; `nil` (the default) uses all active processors.
    public init(model: MiniLM, threads: Int? = nil) {
        self.model = model
        self.threads = threads
    }

    /// Loads the weights from their default place.
    ///
    /// - Throws: the model's error, which names `quiver model fetch`, when the weights are missing.
    public static func loadDefault(threads: Int? = nil) throws -> LocalMiniLMEmbedding {
        LocalMiniLMEmbedding(model: try MiniLM.loadDefault(), threads: threads)
    }

    public var name: String { BuiltInEmbedding.name }
    public var dimension: Int { MiniLM.dimension }

    public func encodeDocuments(_ texts: [String]) async throws -> [[Float]] {
        try model.embed(texts, threads: threads)
    }

    public func encodeQueries(_ texts: [String]) async throws -> [[Float]] {
        try model.embed(texts, threads: threads)
    }
}

/// The built-in local embedder.
public enum BuiltInEmbedding {
    /// The name chunks embedded by the built-in model are stored with.
    public static let name = "local:all-MiniLM-L6-v2"

    /// `true` when the built-in model's weights are on disk.
    public static var isAvailable: Bool {
        MiniLM.locateModelDirectory() != nil
    }

    /// Loads the built-in model.
    ///
    /// - Throws: the model's own error (naming `quiver model fetch`) when its weights are missing.
    public static func load() throws -> any EmbeddingFunction {
        try LocalMiniLMEmbedding.loadDefault()
    }
}
