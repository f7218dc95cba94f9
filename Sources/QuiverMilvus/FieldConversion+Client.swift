import Foundation
import Quiver
import QuiverMilvusProtocol

/// The client's directions of the column conversion: rows to send (insert, upsert) and the rows
/// of a query or search result. The server's directions are in `FieldConversion.swift`; both use
/// the same per-type column code (`values(of:type:count:)` and `column(_:id:values:)`).
extension FieldConversion {
    // MARK: Rows → request columns

    /// The columns of an insert or upsert of `stored` rows (as ``CollectionSchema/validatedRows(_:upsert:)``
    /// returns them: every field present, dynamic keys in an object under `$meta`).
    ///
    /// Nullable fields go in pymilvus's compact layout, the valid rows' values only with
    /// `valid_data` flagging every row, which Milvus and Milvus Lite accept; a generated (`autoID`)
    /// key is left out of an insert, as pymilvus leaves it out, and so is a function's output field.
    package static func requestColumns(of stored: [Row], schema: CollectionSchema, upsert: Bool) -> [Column] {
        var columns = [Column]()
        for field in schema.fields {
            if field.isPrimaryKey && field.autoID && !upsert { continue }
            // A function's output is computed by the server (pymilvus never sends it either).
            if schema.function(writing: field.name) != nil { continue }
            let values = stored.map { $0[field.name] ?? .null }
            var c = column(field, id: fieldID(of: field.name, in: schema), values: values)
            if field.nullable {
                let present = values.filter { !$0.isNull }
                var compact = column(field, id: c.fieldID, values: present)
                compact.validData = values.map { !$0.isNull }
                c = compact
            }
            columns.append(c)
        }
        if schema.enableDynamicField {
            var meta = Column()
            meta.type = .json
            meta.fieldName = dynamicFieldName
            meta.isDynamic = true
            var json = Milvus_Proto_Schema_JSONArray()
            json.data = stored.map { row in Data((row[dynamicFieldName] ?? .object([:])).jsonString.utf8) }
            var scalars = Milvus_Proto_Schema_ScalarField()
            scalars.data = .jsonData(json)
            meta.field = .scalars(scalars)
            columns.append(meta)
        }
        return columns
    }

    // MARK: Result columns → rows

    /// The rows of a query or search result: one per entry of its columns, each with the schema
    /// fields the server returned and the dynamic keys, flattened, that were asked for.
    ///
    /// As pymilvus reads them: the dynamic keys kept are the names in the response's
    /// `output_fields` that are not columns, or all of them when there are none such (or `$meta`
    /// itself was asked for). Columns that are neither schema fields nor `$meta` (such as
    /// `count(*)`) are left to the caller.
    ///
    /// - Parameter count: the number of rows (hits of a search); `nil` takes it from the columns.
    /// - Throws: `MilvusError` for a column whose length does not match, or malformed data.
    package static func resultRows(
        from columns: [Column], count: Int?, outputFields: [String], schema: CollectionSchema
    ) throws -> [Row] {
        let named = columns.filter { $0.isDynamic || $0.fieldName == dynamicFieldName || schema.field(named: $0.fieldName) != nil }
        let rowCount: Int
        if let count {
            rowCount = count
        } else if let first = named.first {
            rowCount = try length(of: first, schema: schema)
        } else {
            rowCount = 0
        }
        var rows = [Row](repeating: [:], count: rowCount)
        guard rowCount > 0 else { return rows }
        let columnNames = Set(columns.map(\.fieldName))
        var dynamicKeys = Set<String>()
        for name in outputFields {
            if name == dynamicFieldName || name == "*" {
                dynamicKeys.removeAll()
                break
            }
            if !columnNames.contains(name) && schema.field(named: name) == nil { dynamicKeys.insert(name) }
        }
        for column in named {
            if column.isDynamic || column.fieldName == dynamicFieldName {
                for (i, object) in try values(of: column, type: .json, count: rowCount).enumerated() {
                    guard case .object(let keys) = object else { continue }
                    for (key, value) in keys where dynamicKeys.isEmpty || dynamicKeys.contains(key) {
                        rows[i][key] = value
                    }
                }
            } else if let field = schema.field(named: column.fieldName) {
                for (i, value) in try values(of: column, type: field.dataType, count: rowCount).enumerated() {
                    rows[i][field.name] = value
                }
            }
        }
        return rows
    }

    /// Primary keys from the wire (`IDs`: int64 or varchar).
    package static func keys(_ ids: Milvus_Proto_Schema_IDs) -> [Value] {
        switch ids.idField {
        case .intID(let a)?: a.data.map { .int($0) }
        case .strID(let a)?: a.data.map { .string($0) }
        case nil: []
        }
    }

    /// A filter's template values (`expr_template_values`) from Quiver's filter parameters, as
    /// pymilvus's `filter_params` sends them: scalars as themselves, lists as typed arrays (mixed
    /// or nested ones as JSON), objects as JSON.
    package static func templateValues(_ params: [String: Value]) throws -> [String: Milvus_Proto_Schema_TemplateValue] {
        try params.mapValues { value in
            var t = Milvus_Proto_Schema_TemplateValue()
            switch value {
            case .bool(let b): t.boolVal = b
            case .int(let i): t.int64Val = i
            case .double(let d): t.floatVal = d
            case .string(let s): t.stringVal = s
            case .array(let elements): t.arrayVal = templateArray(elements)
            case .null, .object, .vector, .bytes, .sparse:
                throw QuiverError(.invalidArgument, "filter parameter of kind \(value) cannot be sent as a template value; use a bool, number, string or list")
            }
            return t
        }
    }

    private static func templateArray(_ elements: [Value]) -> Milvus_Proto_Schema_TemplateArrayValue {
        var a = Milvus_Proto_Schema_TemplateArrayValue()
        if elements.allSatisfy({ if case .bool = $0 { true } else { false } }) && !elements.isEmpty {
            a.boolData.data = elements.compactMap(\.boolValue)
        } else if elements.allSatisfy({ if case .int = $0 { true } else { false } }) {
            a.longData.data = elements.compactMap(\.intValue)
        } else if elements.allSatisfy({ if case .int = $0 { true } else if case .double = $0 { true } else { false } }) {
            a.doubleData.data = elements.compactMap(\.doubleValue)
        } else if elements.allSatisfy({ if case .string = $0 { true } else { false } }) {
            a.stringData.data = elements.compactMap(\.stringValue)
        } else if elements.allSatisfy({ if case .array = $0 { true } else { false } }) {
            a.arrayData.data = elements.map { templateArray($0.arrayValue ?? []) }
        } else {
            a.jsonData.data = elements.map { Data($0.jsonString.utf8) }
        }
        return a
    }
}
