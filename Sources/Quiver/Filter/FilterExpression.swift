/// A parsed and type-checked filter expression (Milvus's boolean expression language).
///
/// Placeholder until the filter language lands: the empty expression matches every row and
/// any other expression throws `.unsupported`.
struct FilterExpression: Sendable {
    /// Parses `text` and checks it against `schema`; `params` binds `{name}` templates.
    static func compile(_ text: String, params: [String: Value], schema: CollectionSchema) throws -> FilterExpression {
        guard text.allSatisfy(\.isWhitespace) else {
            throw QuiverError(.unsupported, "filter expressions are not supported yet: '\(text)'")
        }
        return FilterExpression()
    }

    /// `true` for the empty expression, which matches every row.
    var matchesAll: Bool { true }

    /// The rows of `segment` that match (deleted rows are the caller's concern).
    func evaluate(on segment: some SegmentColumns) -> Bitset {
        Bitset(count: segment.rowCount, allSet: true)
    }
}
