/// A secret API key. It prints as `<redacted>` so it cannot leak into logs, errors or dumps.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The key itself, for building the `Authorization` header.
    public let value: String

    /// Wraps a key, e.g. `APIKey(ProcessInfo.processInfo.environment["DEEPSEEK_API_KEY"]!)`.
    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// `text` with every occurrence of the key (and of its long prefixes and suffixes, which
    /// servers like to echo, e.g. "sk-abc…xyz") replaced by `<redacted>`.
    func redact(_ text: String) -> String {
        guard value.count >= 4 else { return text }
        var out = text.replacingAll(value, with: "<redacted>")
        if value.count >= 12 {
            out = out.replacingAll(String(value.prefix(value.count / 2)), with: "<redacted>")
            out = out.replacingAll(String(value.suffix(value.count / 2)), with: "<redacted>")
        }
        return out
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        return splitKeepingEmpty(separator: target).joined(separator: replacement)
    }
}
