extension CollectionSchema {
    /// Checks the rows of an insert or upsert as the engine does before writing anything, and
    /// returns them in stored form: every schema field present (null where absent and nullable,
    /// the default where one is set), values in their stored types (vectors as `.vector`, integer
    /// ranges and varchar lengths checked), and, when dynamic fields are on, the unknown keys
    /// gathered into an object under ``dynamicFieldName``.
    ///
    /// A remote backend calls this before sending rows, so that bad input fails with the same
    /// codes and messages as on the embedded engine and nothing reaches the server.
    ///
    /// ```swift
    /// let stored = try schema.validatedRows([["id": 1, "vector": .vector(v), "text": "hi"]], upsert: false)
    /// ```
    ///
    /// - Parameters:
    ///   - rows: the rows as the caller gives them to `insert` or `upsert`.
    ///   - upsert: `false` for an insert: an `autoID` key must then be absent (it is generated).
    /// - Throws: `.dimensionMismatch` for a vector of the wrong length; `.invalidArgument` naming
    ///   the row and field for any other bad value, a missing field, or a primary key repeated in
    ///   `rows`.
    /// - Complexity: O(total size of the rows).
    public func validatedRows(_ rows: [Row], upsert: Bool) throws -> [Row] {
        let generatesKeys = primaryField.autoID && !upsert
        let stored = try rows.enumerated().map { i, row in
            try RowPreparer.prepare(row, index: i, schema: self, generatesKeys: generatesKeys)
        }
        guard !generatesKeys else { return stored }
        var seen = Set<Value>(minimumCapacity: stored.count)
        for (i, row) in stored.enumerated() {
            let key = row[primaryField.name] ?? .null
            guard seen.insert(key).inserted else {
                throw QuiverError(.invalidArgument, "row \(i): primary key \(key.jsonString) appears more than once in this call")
            }
        }
        return stored
    }
}
