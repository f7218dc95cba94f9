/// Options of a search beyond the basics, with Milvus's names and semantics.
///
/// ```swift
/// var options = SearchOptions()
/// options.radius = 0.5          // L2: keep rows with rangeFilter ≤ d < radius
/// options.groupBy = "doc_id"    // at most `groupSize` hits per distinct doc_id
/// options.roundDecimal = 3
/// let hits = try db.search("docs", vectors: [q], limit: 5, options: options)
/// ```
public struct SearchOptions: Sendable, Hashable {
    /// Range search: the outer bound. L2 keeps `d < radius`; IP and COSINE keep `d > radius`.
    public var radius: Float?
    /// Range search: the inner bound. L2 keeps `d ≥ rangeFilter`; IP and COSINE keep `d ≤ rangeFilter`.
    public var rangeFilter: Float?
    /// A scalar field (bool, an integer type or varchar): return at most `groupSize` hits for
    /// each distinct value, and `limit` groups. Null values form one group.
    public var groupBy: String?
    /// Hits per group (1…1024).
    public var groupSize: Int = 1
    /// Exact search always fills each group as far as the data allows; the flag is accepted for
    /// Milvus compatibility and matters only to approximate indexes.
    public var strictGroupSize: Bool = false
    /// Round distances to this many decimals (0…6); -1 leaves them as computed.
    public var roundDecimal: Int = -1
    /// Threads this search may use; `nil` uses `DatabaseOptions.searchThreads`.
    public var threads: Int?
    /// Index search parameters (such as `ef` or `nprobe`), as in Milvus's `search_params["params"]`.
    public var params: [String: Value] = [:]

    /// The defaults: no range search, no grouping (group size 1), distances not rounded,
    /// ``DatabaseOptions/searchThreads`` threads, the index's default search parameters.
    public init() {}
}

extension SearchOptions {
    /// Checks the options against the collection; returns the group-by field, if any.
    func validate(metric: MetricType, schema: CollectionSchema, limit: Int, offset: Int) throws -> FieldSchema? {
        if let radius, !radius.isFinite { throw QuiverError.invalidArgument("radius must be finite") }
        if let rangeFilter, !rangeFilter.isFinite { throw QuiverError.invalidArgument("range_filter must be finite") }
        if let radius, let rangeFilter {
            if metric.higherIsBetter {
                guard radius < rangeFilter else {
                    throw QuiverError.invalidArgument("for \(metric.rawValue), range search needs radius < range_filter (got \(radius) and \(rangeFilter))")
                }
            } else {
                guard rangeFilter < radius else {
                    throw QuiverError.invalidArgument("for \(metric.rawValue), range search needs range_filter < radius (got \(rangeFilter) and \(radius))")
                }
            }
        }
        guard roundDecimal == -1 || (0...6).contains(roundDecimal) else {
            throw QuiverError.invalidArgument("round_decimal must be -1 or 0…6, got \(roundDecimal)")
        }
        if let threads, threads < 1 { throw QuiverError.invalidArgument("threads must be at least 1, got \(threads)") }
        guard let groupBy else { return nil }
        guard let field = schema.field(named: groupBy) else {
            throw QuiverError.invalidArgument("group_by field '\(groupBy)' is not in the schema")
        }
        switch field.dataType {
        case .bool, .int8, .int16, .int32, .int64, .varchar: break
        default:
            throw QuiverError.invalidArgument("group_by field '\(groupBy)' is \(field.dataType.name); use bool, an integer type or varchar")
        }
        guard (1...1024).contains(groupSize) else {
            throw QuiverError.invalidArgument("group_size must be in 1…1024, got \(groupSize)")
        }
        guard (limit + offset) * groupSize <= maxTopK else {
            throw QuiverError.invalidArgument("(limit + offset) × group_size must be at most \(maxTopK), got \((limit + offset) * groupSize)")
        }
        return field
    }
}
