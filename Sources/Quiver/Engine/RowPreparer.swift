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
            if let field = try declaredField(key, schema: schema, generatesKeys: generatesKeys, row: index) {
                stored[key] = try storedValue(value, field: field, row: index)
            } else {
                meta[key] = try dynamicValue(value, key: key, row: index)
            }
        }
        for field in schema.fields where stored[field.name] == nil {
            if (field.isPrimaryKey && generatesKeys) || schema.function(writing: field.name) != nil { continue }
            stored[field.name] = try absentValue(field, row: index)
        }
        schema.applyFunctions(to: &stored)
        if schema.enableDynamicField { stored[dynamicFieldName] = .object(meta) }
        return stored
    }

    // The checks of one key or value, shared by rows and columns (`ColumnPreparer`).

    /// The schema field a row key or column name names; `nil` for a dynamic field.
    ///
    /// - Throws: `.invalidArgument` for a generated primary key, a function's output field,
    ///   `$meta`, or an unknown name when dynamic fields are off.
    static func declaredField(_ key: String, schema: CollectionSchema, generatesKeys: Bool, row index: Int) throws -> FieldSchema? {
        if let field = schema.field(named: key) {
            if let function = schema.function(writing: key) {
                throw QuiverError.invalidArgument(
                    "row \(index): field '\(key)' is computed by \(function.type.rawValue) function '\(function.name)' from '\(function.inputFieldNames.joined(separator: "', '"))'; leave it out")
            }
            if field.isPrimaryKey && generatesKeys {
                throw QuiverError.invalidArgument(
                    "row \(index): primary key '\(key)' is generated (auto_id); leave it out of inserted rows")
            }
            return field
        } else if key == dynamicFieldName {
            throw QuiverError.invalidArgument("row \(index): '\(dynamicFieldName)' is reserved for dynamic fields")
        } else if schema.enableDynamicField {
            return nil
        } else {
            throw QuiverError.invalidArgument(
                "row \(index): unknown field '\(key)'; the collection has no such field and dynamic fields are off")
        }
    }

    /// The stored form of a given value of `field` (a null takes the field's default, if any).
    static func storedValue(_ value: Value, field: FieldSchema, row index: Int) throws -> Value {
        try FieldValidator.coerce(value.isNull ? (field.defaultValue ?? .null) : value, to: field, row: index)
    }

    /// The stored form of a dynamic field's value.
    static func dynamicValue(_ value: Value, key: String, row index: Int) throws -> Value {
        if case .bytes = value { throw QuiverError.invalidArgument("row \(index): dynamic field '\(key)' cannot hold bytes") }
        if case .double(let d) = value, !d.isFinite {
            throw QuiverError.invalidArgument("row \(index): dynamic field '\(key)' must be a finite number")
        }
        return FieldValidator.normalizeJSON(value)
    }

    /// The stored value of `field` in a row that leaves it out: its default, or null.
    ///
    /// - Throws: `.invalidArgument` when the field has no default and is not nullable.
    static func absentValue(_ field: FieldSchema, row index: Int) throws -> Value {
        if let defaultValue = field.defaultValue {
            return try FieldValidator.coerce(defaultValue, to: field, row: index)
        } else if field.nullable {
            return .null
        }
        throw QuiverError.invalidArgument("row \(index): missing field '\(field.name)' (\(field.dataType.name), not nullable)")
    }
}

extension RowPreparer {
    /// Checks a stored row read back from the WAL, whose checksum verified but whose content may
    /// still be anything: exactly the schema's fields (plus `$meta`, an object, when dynamic fields
    /// are on), each in a form `FieldValidator` accepts. Returns the row with each value coerced,
    /// the form `GrowingSegment.append` takes.
    ///
    /// - Throws: `.invalidArgument` (or `.dimensionMismatch`) naming the field; replay reports it
    ///   as `.corruption` of the WAL file.
    static func checkStored(_ row: Row, schema: CollectionSchema) throws -> Row {
        var checked = Row(minimumCapacity: row.count)
        for field in schema.fields {
            guard let value = row[field.name] else { throw QuiverError.invalidArgument("field '\(field.name)' is missing") }
            checked[field.name] = try FieldValidator.coerce(value, to: field, row: nil)
        }
        if schema.enableDynamicField {
            guard case .object? = row[dynamicFieldName] else { throw QuiverError.invalidArgument("'\(dynamicFieldName)' is not an object") }
            checked[dynamicFieldName] = try FieldValidator.coerce(row[dynamicFieldName]!, to: metaField, row: nil)
        }
        guard checked.count == row.count else {
            let unknown = row.keys.filter { checked[$0] == nil }.sorted()
            throw QuiverError.invalidArgument("unknown fields \(unknown)")
        }
        return checked
    }

    /// The hidden JSON column of dynamic fields, as a field to validate against.
    private static var metaField: FieldSchema { FieldSchema(name: dynamicFieldName, dataType: .json) }
}
