/// Shows the terms full-text search sees: Milvus's `run_analyzer`.
///
/// ```swift
/// let tokens = try db.analyze("docs", field: "text", texts: ["Running HNSW indexes"])
/// tokens[0].map(\.text)                                              // the field's terms
/// try db.analyze(["The runners"], params: ["type": "english"])[0].map(\.text)   // ["runner"]
/// ```
extension Database {
    /// The tokens of each text under an analyzed field's analyzer: the terms its rows are
    /// indexed by and its queries are matched with.
    ///
    /// - Throws: `.notFound` for an unknown collection or field; `.invalidArgument` when the field
    ///   is not analyzed (``FieldSchema/enableAnalyzer``); `.closed`.
    public func analyze(_ collection: String, field: String, texts: [String]) throws -> [[AnalyzerToken]] {
        let (_, slot) = try withCatalog { try $0.collection(collection) }
        guard let f = slot.schema.field(named: field) else {
            throw QuiverError.notFound("collection '\(collection)' has no field '\(field)'")
        }
        guard let analyzer = slot.schema.analyzer(for: f.name) else {
            throw QuiverError.invalidArgument("field '\(field)' is not analyzed; create it with enable_analyzer")
        }
        return texts.map(analyzer.analyze)
    }

    /// The tokens of each text under the analyzer `params` describe (Milvus's `analyzer_params`;
    /// `nil` for the standard analyzer), without a collection.
    ///
    /// - Throws: `.invalidArgument` for malformed parameters; `.unsupported` for a tokenizer,
    ///   filter or language Quiver lacks.
    public func analyze(_ texts: [String], params: Value? = nil) throws -> [[AnalyzerToken]] {
        let analyzer = try Analyzer(params: params)
        return texts.map(analyzer.analyze)
    }
}
