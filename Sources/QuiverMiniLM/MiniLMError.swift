/// The one error type QuiverMiniLM throws.
///
/// Match on ``code``; read ``message`` for what went wrong and what to do about it. Messages
/// never contain input text or vector components.
///
/// ```swift
/// do {
///     let model = try MiniLM.loadDefault()
/// } catch let error as MiniLMError where error.code == .modelNotFound {
///     print(error.message)   // "... run `quiver model fetch` ..."
/// }
/// ```
public struct MiniLMError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The kind of failure. Extensible: new codes may be added in minor releases.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, e.g. `"modelNotFound"`; it is also what ``description`` prints.
        public let rawValue: String
        /// A code with the given name. Use the static codes below; a new name matches none of them.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The model files are not where they were looked for; `quiver model fetch` gets them.
        public static let modelNotFound = Code("modelNotFound")
        /// A model file is damaged: bad safetensors header, wrong size, shape or dtype, bad vocab.
        public static let corruption = Code("corruption")
        /// A downloaded file's SHA-256 differs from the expected one.
        public static let checksumMismatch = Code("checksumMismatch")
        /// The operating system refused an I/O operation (open, stat, mmap, rename).
        public static let io = Code("io")
        /// Fetching the model failed (no network, `pip` or `unzip` missing or failing).
        public static let fetchFailed = Code("fetchFailed")
        /// A caller passed a value the model cannot accept.
        public static let invalidArgument = Code("invalidArgument")
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation that says what to fix.
    public var message: String

    /// An error of the given kind, with a message that says what to fix.
    ///
    /// - Parameters:
    ///   - code: what kind of failure this is.
    ///   - message: a human-readable explanation, free of input text and vector components.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// The error for model files that are absent, naming the command that fetches them.
    static func modelNotFound(_ detail: String) -> MiniLMError {
        MiniLMError(
            .modelNotFound,
            "\(detail). Run `quiver model fetch` to download all-MiniLM-L6-v2 into "
                + "\(MiniLM.configuredModelDirectory.path) (QUIVER_MODEL_DIR, else the cache directory), "
                + "or set QUIVER_MODEL_DIR to a directory holding vocab.txt and model.safetensors.")
    }
}
