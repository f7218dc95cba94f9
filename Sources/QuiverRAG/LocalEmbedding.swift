import Foundation

#if canImport(QuiverMiniLM)
import QuiverMiniLM

/// The built-in all-MiniLM-L6-v2 (384-d, L2-normalised), computed in-process by `QuiverMiniLM`.
///
/// ```swift
/// let embedder = try LocalMiniLMEmbedding.loadDefault()   // QUIVER_MODEL_DIR or ~/.cache/quiver/models/…
/// ```
public struct LocalMiniLMEmbedding: EmbeddingFunction {
    public let model: MiniLM
    /// Threads for the forward pass; `nil` lets the model choose.
    public var threads: Int?

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
#endif

/// The built-in local embedder, whether or not this build includes it.
public enum BuiltInEmbedding {
    /// The name chunks embedded by the built-in model are stored with.
    public static let name = "local:all-MiniLM-L6-v2"

    /// `true` when the package was built with `QuiverMiniLM`.
    public static var isCompiledIn: Bool {
        #if canImport(QuiverMiniLM)
        return true
        #else
        return false
        #endif
    }

    /// `true` when the built-in model is compiled in and its weights are on disk.
    public static var isAvailable: Bool {
        #if canImport(QuiverMiniLM)
        return MiniLM.locateModelDirectory() != nil
        #else
        return false
        #endif
    }

    /// Loads the built-in model.
    ///
    /// - Throws: ``RAGError/Code/notConfigured`` when this build has no built-in model; the
    ///   model's own error (naming `quiver model fetch`) when its weights are missing.
    public static func load() throws -> any EmbeddingFunction {
        #if canImport(QuiverMiniLM)
        return try LocalMiniLMEmbedding.loadDefault()
        #else
        throw RAGError(.notConfigured, "this build of Quiver has no built-in embedding model. \(EmbeddingConfiguration.environmentHelp)")
        #endif
    }
}
