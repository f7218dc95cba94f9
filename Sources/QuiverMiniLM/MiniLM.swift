import Foundation

/// The sentence-transformers model all-MiniLM-L6-v2, in-process and offline: text in,
/// L2-normalised 384-dimensional vectors out (so cosine similarity is the inner product).
///
/// ```swift
/// import QuiverMiniLM
///
/// let model = try MiniLM.loadDefault()          // QUIVER_MODEL_DIR or ~/.cache/quiver/models/...
/// let vectors = try model.embed(["How is data stored in milvus?", "Where does Milvus store data?"])
/// let cosine = zip(vectors[0], vectors[1]).reduce(0) { $0 + $1.0 * $1.1 }
/// ```
///
/// The pipeline is the one in `shared/data/embeddings/README.md`: BERT uncased WordPiece
/// (``BertTokenizer``), truncation to 256 tokens, 6 post-LN BERT layers with exact GELU, mean
/// pooling over the real tokens, L2 normalisation. Vectors match the sentence-transformers
/// reference to about 1e-6 per component.
///
/// Thread safety: a `MiniLM` is immutable after `init`; `embed` may be called concurrently.
public final class MiniLM: Sendable {
    /// The output dimension, 384.
    public static let dimension: Int = 384
    /// The maximum sequence length in tokens, `[CLS]` and `[SEP]` included (sentence-transformers' `max_seq_length`).
    public static let maxTokens: Int = 256
    /// The directory name under the cache root.
    public static let modelName = "all-MiniLM-L6-v2"
    /// The environment variable naming a directory that holds `vocab.txt` and `model.safetensors`.
    public static let modelDirectoryEnvironmentVariable = "QUIVER_MODEL_DIR"

    /// The WordPiece tokenizer loaded from `vocab.txt`.
    public let tokenizer: BertTokenizer
    let encoder: BertEncoder
    /// The directory the model was loaded from.
    public let modelDirectory: URL

    /// Loads `vocab.txt` and `model.safetensors` from `modelDirectory`.
    ///
    /// - Throws: ``MiniLMError`` `.modelNotFound` (naming `quiver model fetch`) when a file is
    ///   missing, `.corruption` when the weights are damaged or of another shape.
    /// - Complexity: reads and repacks ~91 MB of weights (about 0.1–0.3 s).
    public convenience init(modelDirectory: URL) throws {
        try self.init(modelDirectory: modelDirectory, kernels: .selected)
    }

    /// Loads the model with its weights packed for `kernels` (tests run every variant the CPU has).
    init(modelDirectory: URL, kernels: Kernels) throws {
        let fm = FileManager.default
        for name in ["vocab.txt", "model.safetensors"] {
            let path = modelDirectory.appendingPathComponent(name).path
            if !fm.fileExists(atPath: path) {
                throw MiniLMError.modelNotFound("\(name) is missing from \(modelDirectory.path)")
            }
        }
        self.modelDirectory = modelDirectory
        tokenizer = try BertTokenizer(vocabURL: modelDirectory.appendingPathComponent("vocab.txt"), maxTokens: Self.maxTokens)
        let file = try SafeTensorsFile(url: modelDirectory.appendingPathComponent("model.safetensors"))
        encoder = try BertEncoder(file: file, kernels: kernels)
        guard tokenizer.vocabularySize == encoder.config.vocabSize else {
            throw MiniLMError(.corruption, "vocab.txt has \(tokenizer.vocabularySize) tokens but the embedding matrix has \(encoder.config.vocabSize) rows")
        }
    }

    /// `$QUIVER_MODEL_DIR` if set, else the cache directory, when `model.safetensors` and
    /// `vocab.txt` exist there; `nil` otherwise.
    public static func locateModelDirectory() -> URL? {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment[modelDirectoryEnvironmentVariable], !env.isEmpty {
            candidates.append(URL(fileURLWithPath: env, isDirectory: true))
        } else {
            candidates.append(defaultCacheDirectory)
        }
        return candidates.first { dir in
            fm.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path)
                && fm.fileExists(atPath: dir.appendingPathComponent("vocab.txt").path)
        }
    }

    /// `$XDG_CACHE_HOME/quiver/models/all-MiniLM-L6-v2`, else `~/.cache/quiver/models/all-MiniLM-L6-v2`.
    public static var defaultCacheDirectory: URL {
        let env = ProcessInfo.processInfo.environment
        let root: URL
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty {
            root = URL(fileURLWithPath: xdg, isDirectory: true)
        } else {
            let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            root = URL(fileURLWithPath: home, isDirectory: true).appendingPathComponent(".cache", isDirectory: true)
        }
        return root.appendingPathComponent("quiver/models/\(modelName)", isDirectory: true)
    }

    /// The directory `quiver model fetch` writes to: `$QUIVER_MODEL_DIR` if set, else the cache directory.
    public static var configuredModelDirectory: URL {
        if let env = ProcessInfo.processInfo.environment[modelDirectoryEnvironmentVariable], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return defaultCacheDirectory
    }

    /// Loads the model from ``locateModelDirectory()``.
    ///
    /// - Throws: `.modelNotFound` naming `quiver model fetch` when no model is installed.
    public static func loadDefault() throws -> MiniLM {
        guard let dir = locateModelDirectory() else {
            throw MiniLMError.modelNotFound("all-MiniLM-L6-v2 weights were not found in \(configuredModelDirectory.path)")
        }
        return try MiniLM(modelDirectory: dir)
    }

    /// Token ids of `text`: `[CLS]` … `[SEP]`, truncated to ``maxTokens``.
    public func tokenize(_ text: String) -> [Int32] {
        tokenizer.encode(text)
    }

    /// Embeds `texts` into L2-normalised 384-dimensional vectors, one per text, in order.
    ///
    /// Sequences are packed without padding and processed in passes of at most
    /// ``maxTokensPerPass`` tokens (bounding memory at ~65 MB of activations on top of ~92 MB of
    /// weights), longest first; matrix multiplies and attention run on `threads` threads
    /// (default: all active processors).
    ///
    /// - Throws: `.invalidArgument` if `threads` is less than 1.
    /// - Complexity: O(n · L · d²) for n texts of L tokens.
    public func embed(_ texts: [String], threads: Int? = nil) throws -> [[Float]] {
        try embed(tokenIDs: texts.map(tokenize), threads: threads)
    }

    /// Embeds already-tokenized sequences (as ``tokenize(_:)`` returns them).
    ///
    /// - Throws: `.invalidArgument` for a token id outside the vocabulary, a sequence longer
    ///   than ``maxTokens``, or `threads` < 1.
    public func embed(tokenIDs: [[Int32]], threads: Int? = nil) throws -> [[Float]] {
        let threads = threads ?? Parallel.defaultThreads
        guard threads >= 1 else { throw MiniLMError(.invalidArgument, "threads must be at least 1") }
        let vocab = Int32(encoder.config.vocabSize)
        for ids in tokenIDs {
            guard ids.count <= Self.maxTokens else {
                throw MiniLMError(.invalidArgument, "a sequence has \(ids.count) tokens; the maximum is \(Self.maxTokens)")
            }
            guard ids.allSatisfy({ $0 >= 0 && $0 < vocab }) else {
                throw MiniLMError(.invalidArgument, "a token id is outside the vocabulary 0..<\(vocab)")
            }
        }
        // Longest first, so passes fill up evenly; results go back to the caller's order.
        let order = tokenIDs.indices.sorted { tokenIDs[$0].count > tokenIDs[$1].count }
        var result = [[Float]](repeating: [], count: tokenIDs.count)
        var start = 0
        while start < order.count {
            var end = start
            var tokens = 0
            while end < order.count && (end == start || tokens + tokenIDs[order[end]].count <= Self.maxTokensPerPass) {
                tokens += tokenIDs[order[end]].count
                end += 1
            }
            let vectors = encoder.forward(order[start..<end].map { tokenIDs[$0] }, threads: threads)
            for (i, v) in zip(order[start..<end], vectors) { result[i] = v }
            start = end
        }
        return result
    }

    /// The variant of the C kernels this process embeds with: `skylake` (AVX-512), `haswell`
    /// (AVX2 + FMA), `baseline` (SSE2) or `neon` (arm64), chosen from the CPU's features at run
    /// time and capped by the environment variable `QUIVER_CPU=baseline|avx2|avx512`.
    public static var kernelVariant: String { Kernels.selected.name }

    /// The most tokens one forward pass holds (activations ≈ 15.4 KiB per token).
    public static let maxTokensPerPass = BertEncoder.maxTokensPerPass
}
