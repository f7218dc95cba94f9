/// Validates user rows against a schema and converts them to stored rows.
///
/// A stored row has every schema field (null where absent and nullable, the default where one
/// is set), vectors as `.vector`, and — when dynamic fields are on — the unknown keys gathered
/// into an object under `$meta`. Errors name the row index and the field.
enum RowPreparer {
    /// - Parameter generatesKeys: `true` for inserts into an `autoID` collection: the key must be absent.
    static func prepare(_ row: Row, index: Int, schema: CollectionSchema, generatesKeys: Bool) throws -> Row {
        var stored = Row(minimumCapacity: schema.fields.count + 1)
        var meta = [String: Value]()
        for (key, value) in row {
            if let field = schema.field(named: key) {
                if field.isPrimaryKey && generatesKeys {
                    throw QuiverError.invalidArgument(
                        "row \(index): primary key '\(key)' is generated (auto_id); leave it out of inserted rows")
                }
                stored[key] = try FieldValidator.coerce(value.isNull ? (field.defaultValue ?? .null) : value, to: field, row: index)
            } else if key == dynamicFieldName {
                throw QuiverError.invalidArgument("row \(index): '\(dynamicFieldName)' is reserved for dynamic fields")
            } else if schema.enableDynamicField {
                if case .bytes = value { throw QuiverError.invalidArgument("row \(index): dynamic field '\(key)' cannot hold bytes") }
                if case .double(let d) = value, !d.isFinite {
                    throw QuiverError.invalidArgument("row \(index): dynamic field '\(key)' must be a finite number")
                }
                meta[key] = FieldValidator.normalizeJSON(value)
            } else {
                throw QuiverError.invalidArgument(
                    "row \(index): unknown field '\(key)'; the collection has no such field and dynamic fields are off")
            }
        }
        for field in schema.fields where stored[field.name] == nil {
            if field.isPrimaryKey && generatesKeys { continue }
            if let defaultValue = field.defaultValue {
                stored[field.name] = try FieldValidator.coerce(defaultValue, to: field, row: index)
            } else if field.nullable {
                stored[field.name] = .null
            } else {
                throw QuiverError.invalidArgument("row \(index): missing field '\(field.name)' (\(field.dataType.name), not nullable)")
            }
        }
        if schema.enableDynamicField { stored[dynamicFieldName] = .object(meta) }
        return stored
    }
}
