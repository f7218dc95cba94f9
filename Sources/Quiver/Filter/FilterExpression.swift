import Synchronization

/// A parsed and type-checked filter expression (Milvus's boolean expression language).
///
/// ```swift
/// let filter = try FilterExpression.compile(
///     #"price > 100 AND color IN ["red", "blue"] AND meta["lang"] == {lang}"#,
///     params: ["lang": "en"], schema: schema)
/// let rows = filter.evaluate(on: segment)   // a Bitset of matching rows
/// ```
///
/// The language is the one of Milvus 2.5/2.6 (`Plan.g4` in milvus-io/milvus): comparisons,
/// chained ranges, arithmetic, `IN`, `LIKE`, `AND`/`OR`/`NOT` in all spellings, JSON paths,
/// array indexing, dynamic fields, `json_contains*`, `array_contains*`, `array_length`,
/// `IS [NOT] NULL`, `EXISTS` and `{name}` templates. See `Documentation/Filtering.md`.
///
/// Null semantics follow SQL three-valued logic: a comparison involving null (or a missing JSON
/// key) is unknown, `NOT unknown` stays unknown, and only rows whose result is true match.
struct FilterExpression: Sendable {
    /// `nil` for the empty expression.
    let predicate: FilterPredicate?
    let text: String

    /// Parses `text` and checks it against `schema`; `params` binds `{name}` templates.
    ///
    /// Compiled expressions are cached (keyed by text, schema and parameters).
    ///
    /// - Throws: `.filterSyntax` for a syntax or type error, `.invalidArgument` for an unbound
    ///   or unusable template parameter, `.unsupported` for Milvus operators Quiver does not
    ///   evaluate (`=~`); the message quotes the expression and points at the column.
    /// - Complexity: O(length of `text`) on a cache miss.
    static func compile(_ text: String, params: [String: Value], schema: CollectionSchema) throws -> FilterExpression {
        if text.allSatisfy(\.isWhitespace) { return FilterExpression(predicate: nil, text: text) }
        // Large expressions and parameter lists (generated id lists) bypass the cache: hashing
        // them costs about as much as compiling, and keeping 256 of them could hold a lot of memory.
        guard text.utf8.count <= FilterCache.maxTextBytes, FilterCache.weight(of: params) <= FilterCache.maxParamValues else {
            return try compileUncached(text, params: params, schema: schema)
        }
        let key = FilterCache.Key(text: text, schema: schema, params: params)
        if let hit = FilterCache.shared.withLock({ $0.get(key) }) { return hit }
        let compiled = try compileUncached(text, params: params, schema: schema)
        FilterCache.shared.withLock { $0.put(key, compiled) }
        return compiled
    }

    static func compileUncached(_ text: String, params: [String: Value], schema: CollectionSchema) throws -> FilterExpression {
        do {
            let tree = try FilterParser.parse(text)
            let predicate = try FilterChecker(schema: schema, params: params).predicate(tree)
            return FilterExpression(predicate: predicate, text: text)
        } catch let diagnostic {
            throw diagnostic.error(in: text)
        }
    }

    /// `true` for the empty expression, which matches every row.
    var matchesAll: Bool { predicate == nil }

    /// The rows of `segment` that match (deleted rows are the caller's concern).
    ///
    /// - Complexity: O(rows × operators); numeric comparisons skip sealed blocks whose min/max
    ///   rule them out.
    func evaluate(on segment: some SegmentColumns) -> Bitset {
        guard let predicate else { return Bitset(count: segment.rowCount, allSet: true) }
        return FilterEvaluator(segment: segment).evaluate(predicate).matches
    }
}

extension FilterDiagnostic {
    /// The error to throw: the message, the column (1-based, in characters), then the
    /// expression and a caret under the column on two indented lines:
    /// ```
    /// unknown field 'colr'; … at column 13 of filter:
    ///     age > 1 and colr == "x"
    ///                 ^
    /// ```
    func error(in text: String) -> QuiverError {
        let utf8 = Array(text.utf8)
        let clamped = Swift.min(Swift.max(offset, 0), utf8.count)
        let prefix = String(decoding: utf8[..<clamped], as: UTF8.self)
        let column = prefix.count + 1
        // Newlines and tabs become spaces so that the caret lines up under the column.
        var line = text.map { $0.isNewline || $0 == "\t" ? " " : $0 }
        var caret = column - 1
        // Long expressions (generated id lists) are quoted around the column only.
        let radius = 60
        if line.count > 2 * radius + 40 {
            let start = Swift.max(0, caret - radius), end = Swift.min(line.count, caret + radius)
            let head: [Character] = start > 0 ? ["…"] : []
            let tail: [Character] = end < line.count ? ["…"] : []
            line = head + Array(line[start..<end]) + tail
            caret = caret - start + head.count
        }
        return QuiverError(
            code,
            "\(message) at column \(column) of filter:\n    \(String(line))\n    " + String(repeating: " ", count: caret) + "^")
    }
}

/// A small LRU of compiled expressions shared by all collections.
struct FilterCache: Sendable {
    struct Key: Hashable, Sendable {
        var text: String
        var schema: CollectionSchema
        var params: [String: Value]
    }

    static let shared = Locked(FilterCache(capacity: 256))
    static let maxTextBytes = 4096
    static let maxParamValues = 1024

    /// The number of scalar values in `params` (lists counted by their elements).
    static func weight(of params: [String: Value]) -> Int {
        func weight(_ v: Value) -> Int {
            switch v {
            case .array(let items): items.reduce(1) { $0 + weight($1) }
            case .object(let o): o.values.reduce(1) { $0 + weight($1) }
            case .vector(let f): 1 + f.count
            default: 1
            }
        }
        return params.values.reduce(0) { $0 + weight($1) }
    }

    let capacity: Int
    private var entries: [Key: (value: FilterExpression, stamp: UInt64)] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { entries.count }

    mutating func get(_ key: Key) -> FilterExpression? {
        guard let entry = entries[key] else { return nil }
        clock += 1
        entries[key] = (entry.value, clock)
        return entry.value
    }

    mutating func put(_ key: Key, _ value: FilterExpression) {
        clock += 1
        if entries[key] == nil, entries.count >= capacity,
            let oldest = entries.min(by: { $0.value.stamp < $1.value.stamp })?.key
        {
            entries.removeValue(forKey: oldest)
        }
        entries[key] = (value, clock)
    }
}
