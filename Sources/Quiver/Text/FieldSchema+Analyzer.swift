extension FieldSchema {
    /// Checks the field's analyzer settings and returns its analyzer, `nil` when the field is not
    /// analyzed: the one place they are validated (``CollectionSchema`` keeps the result).
    ///
    /// - Throws: `.invalidArgument` for analyzer settings on a field that is not `varchar`,
    ///   `enableMatch` or `analyzerParams` without `enableAnalyzer`, or malformed parameters;
    ///   `.unsupported` for a tokenizer, filter or language Quiver lacks.
    func validatedAnalyzer() throws -> Analyzer? {
        guard enableAnalyzer else {
            if enableMatch {
                throw QuiverError.invalidArgument("field '\(name)' sets enable_match without enable_analyzer; text match needs analyzed text")
            }
            if analyzerParams != nil {
                throw QuiverError.invalidArgument("field '\(name)' has analyzer_params without enable_analyzer")
            }
            return nil
        }
        guard case .varchar = dataType else {
            throw QuiverError.invalidArgument("field '\(name)' of type \(dataType.name) cannot have an analyzer; only varchar fields can")
        }
        do {
            return try Analyzer(params: analyzerParams)
        } catch let error as QuiverError {
            throw QuiverError(error.code, "field '\(name)': \(error.message)", cause: error)
        }
    }
}

extension CollectionSchema {
    /// The analyzer of an analyzed field (``FieldSchema/enableAnalyzer``), `nil` for any other field.
    public func analyzer(for field: String) -> Analyzer? { analyzers[field] }
}
