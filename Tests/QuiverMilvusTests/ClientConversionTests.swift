import Foundation
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol
import Testing

/// The client's directions of the wire conversions (rows → request columns, result columns →
/// rows, filter parameters → template values, status → QuiverError), each checked against the
/// server's direction of the same message and against wire layouts written out by hand.
@Suite struct ClientConversionTests {
    static let schema = try! ConversionTests.everyTypeSchema()

    @Test func requestColumnsOfEveryTypeReadBackByTheServer() throws {
        let stored = try Self.schema.validatedRows(ConversionTests.rows, upsert: false)
        let columns = FieldConversion.requestColumns(of: stored, schema: Self.schema, upsert: false)
        #expect(columns.map(\.fieldName) == Self.schema.fields.map(\.name) + ["$meta"])
        ConversionTests.expectSameValues(
            try FieldConversion.rows(from: columns, numRows: stored.count, schema: Self.schema), ConversionTests.rows)
        // Nullable columns in pymilvus's compact layout: only the valid rows' values.
        let i32 = try #require(columns.first { $0.fieldName == "i32" })
        #expect(i32.validData == [true, false] && i32.scalars.intData.data == [70_000])
        let text = try #require(columns.first { $0.fieldName == "text" })
        #expect(text.validData == [true, false] && text.scalars.stringData.data == ["héllo"])
        // Non-nullable columns carry no validity flags; vectors are flattened with their dimension.
        let v = try #require(columns.first { $0.fieldName == "v" })
        #expect(v.validData.isEmpty && v.vectors.dim == 2 && v.vectors.floatVector.data == [0.5, -1, 0, 0])
        let bits = try #require(columns.first { $0.fieldName == "bits" })
        #expect(bits.vectors.binaryVector == Data([0xA5, 0x01, 0x00, 0xFF]))
        let meta = try #require(columns.last)
        #expect(meta.isDynamic && meta.type == .json)
        #expect(meta.scalars.jsonData.data == [Data(#"{"extra":"dyn"}"#.utf8), Data("{}".utf8)])
    }

    @Test func generatedKeysAreLeftOutOfInsertsOnly() throws {
        let schema = try CollectionSchema.quick(dimension: 2, autoID: true)
        let inserted = try schema.validatedRows([["vector": .vector([1, 2])]], upsert: false)
        #expect(FieldConversion.requestColumns(of: inserted, schema: schema, upsert: false).map(\.fieldName) == ["vector", "$meta"])
        let upserted = try schema.validatedRows([["id": 5, "vector": .vector([1, 2])]], upsert: true)
        let columns = FieldConversion.requestColumns(of: upserted, schema: schema, upsert: true)
        #expect(columns.map(\.fieldName) == ["id", "vector", "$meta"])
        #expect(columns[0].scalars.longData.data == [5])
    }

    @Test func validationFailsBeforeAnythingIsSent() throws {
        let schema = try CollectionSchema.quick(dimension: 2)
        #expect(throws: QuiverError.self) { try schema.validatedRows([["id": 1, "vector": .vector([1, 2, 3])]], upsert: false) }
        do {
            _ = try schema.validatedRows([["id": 1, "vector": .vector([1, 2, 3])]], upsert: false)
        } catch let error as QuiverError {
            #expect(error.code == .dimensionMismatch)
        }
        do {
            _ = try schema.validatedRows([["id": 1, "vector": .vector([1, 2])], ["id": 1, "vector": .vector([3, 4])]], upsert: true)
            Issue.record("a key repeated in one call must be rejected")
        } catch let error as QuiverError {
            #expect(error.code == .invalidArgument && error.message.contains("row 1"))
        }
    }

    @Test func resultRowsReadWhatTheServerSends() throws {
        // Every field and every dynamic key ("*"), in Milvus's result layout (nulls flagged in
        // full-length columns).
        let all = FieldConversion.Projection(["*"], schema: Self.schema, includePrimaryKey: true)
        let columns = FieldConversion.columns(of: ConversionTests.rows, projection: all, schema: Self.schema)
        let rows = try FieldConversion.resultRows(from: columns, count: nil, outputFields: all.outputNames, schema: Self.schema)
        ConversionTests.expectSameValues(rows, ConversionTests.rows)
        #expect(zip(rows, ConversionTests.rows).allSatisfy { Set($0.keys) == Set($1.keys) })
        // Asked for one dynamic key: the others in `$meta` are dropped, as pymilvus drops them.
        let twoKeys: [Row] = [["pk": "a", "extra": "dyn", "other": 1]]
        let one = FieldConversion.Projection(["extra"], schema: Self.schema, includePrimaryKey: true)
        var metaColumns = FieldConversion.columns(of: twoKeys, projection: one, schema: Self.schema)
        #expect(metaColumns.last?.scalars.jsonData.data == [Data(#"{"extra":"dyn","other":1}"#.utf8)])
        var got = try FieldConversion.resultRows(from: metaColumns, count: nil, outputFields: one.outputNames, schema: Self.schema)
        #expect(got == [["pk": "a", "extra": "dyn"]])
        // A key absent from a row stays absent; no rows is no rows.
        metaColumns = FieldConversion.columns(of: [["pk": "b"]], projection: one, schema: Self.schema)
        got = try FieldConversion.resultRows(from: metaColumns, count: nil, outputFields: one.outputNames, schema: Self.schema)
        #expect(got == [["pk": "b"]])
        #expect(try FieldConversion.resultRows(from: [], count: nil, outputFields: [], schema: Self.schema).isEmpty)
    }

    @Test func resultColumnsOfTheWrongLengthAreErrors() throws {
        var column = Milvus_Proto_Schema_FieldData()
        column.fieldName = "i64"
        column.scalars.longData.data = [1, 2]
        #expect(throws: MilvusError.self) {
            try FieldConversion.resultRows(from: [column], count: 3, outputFields: ["i64"], schema: Self.schema)
        }
    }

    @Test func filterParametersTravelAsTheServerReadsThem() throws {
        let params: [String: Value] = [
            "ids": [1, 2, 3], "names": ["a", "b"], "low": 1.5, "n": 7, "on": true, "lang": "en", "mixed": [1, 2.5],
            "nested": [[1], [2, 3]], "any": [1, "x"],
        ]
        let wire = try FieldConversion.templateValues(params)
        #expect(wire["ids"]?.arrayVal.longData.data == [1, 2, 3])
        #expect(wire["mixed"]?.arrayVal.doubleData.data == [1, 2.5])
        var back = try FieldConversion.templateValues(wire)
        #expect(back.removeValue(forKey: "mixed") == [1.0, 2.5])
        var expected = params
        expected["mixed"] = nil
        #expect(back == expected)
        #expect(throws: QuiverError.self) { try FieldConversion.templateValues(["v": .vector([1])]) }
    }

    @Test func statusCodesMapToQuiverCodes() throws {
        /// The code of a status with `code` and `legacy` (by default success for 0, else UnexpectedError).
        func code(_ code: Int32, _ legacy: Milvus_Proto_Common_ErrorCode? = nil) -> QuiverError.Code? {
            var status = Milvus_Proto_Common_Status()
            status.code = code
            status.errorCode = legacy ?? (code == 0 ? .success : .unexpectedError)
            status.reason = "why"
            return MilvusError(status: status)?.quiverCode
        }
        #expect(code(0) == nil)
        #expect(code(100) == .notFound && code(700) == .notFound && code(800) == .notFound && code(200) == .notFound)
        #expect(code(1100) == .invalidArgument && code(701) == .invalidArgument && code(1701) == .invalidArgument)
        #expect(code(2) == .unavailable && code(8) == .resourceExhausted && code(3000) == .unsupported)
        #expect(code(1400) == .permissionDenied && code(65535) == .serverError && code(5) == .serverError)
        // An old server that sets only the legacy code.
        #expect(code(0, .collectionNotExists) == .notFound && code(0, .illegalArgument) == .invalidArgument)
        #expect(code(0, .unexpectedError) == .serverError)

        // What `quiver serve` sends for each engine error comes back with the right code and reason.
        let missing = MilvusError(QuiverError(.notFound, "collection 'docs' does not exist")).status
        let error = try #require(MilvusError(status: missing)).quiverError
        #expect(error.code == .notFound && error.message.contains("collection=docs") && error.message.contains("code 100"))
        let bad = MilvusError(QuiverError(.filterSyntax, "unexpected token")).status
        #expect(MilvusError(status: bad)?.quiverError.code == .filterSyntax)
        for code in [QuiverError.Code.invalidArgument, .dimensionMismatch, .alreadyExists, .unsupported] {
            let engine = QuiverError(code, code == .dimensionMismatch ? "vector has 3 dimensions, the field has 2"
                : code == .alreadyExists ? "row 0: primary key 1 already exists; use upsert to replace it" : "why")
            #expect(MilvusError(status: MilvusError(engine).status)?.quiverCode == code, "\(code)")
        }
        #expect(MilvusError(status: bad)?.quiverError.message.contains("unexpected token") == true)
        #expect(MilvusError(status: MilvusError(QuiverError(.io, "disk")).status)?.quiverCode == .serverError)
    }

    /// Statuses `milvus-lite server` 3.2.2 sent (measured with pymilvus 3.0.2, 2026-12-02): its
    /// bad input is code 6 with legacy `error_code` 6 (not a value of the enum), its other
    /// failures code 1 with UnexpectedError. Before, a filter that does not parse came back as
    /// `.serverError`, and every failure of the second kind as `.unavailable`, which the client
    /// retries.
    @Test func milvusLiteStatusesMapToQuiverCodes() throws {
        func code(_ code: Int32, _ legacy: Int, _ reason: String) -> QuiverError.Code? {
            var status = Milvus_Proto_Common_Status()
            status.code = code
            status.errorCode = Milvus_Proto_Common_ErrorCode(rawValue: legacy) ?? .unexpectedError
            status.reason = reason
            return MilvusError(status: status)?.quiverCode
        }
        #expect(code(6, 6, "unexpected character '{' at column 6\n  n >= {low}\n       ^") == .filterSyntax)
        #expect(code(6, 6, "unexpected end of expression at column 7\n  tag ==\n        ^\nexpression cannot be empty") == .filterSyntax)
        #expect(code(6, 6, "group_by_field 'cat' not found in schema") == .invalidArgument)
        #expect(code(6, 6, "field 'bits' uses Milvus type BinaryVector which MilvusLite does not support. Phase 10.2 supports: "
            + "BOOL, INT8/16/32/64, FLOAT, DOUBLE, VARCHAR, JSON, ARRAY, GEOMETRY, TIMESTAMPTZ, FLOAT_VECTOR, SPARSE_FLOAT_VECTOR.") == .unsupported)
        #expect(code(1, 1, "matmul: Input operand 1 has a mismatch in its core dimension 0") == .serverError)
        // Milvus's own code 1 (service not ready) comes with NotReadyServe, and stays `.unavailable`.
        #expect(code(1, Milvus_Proto_Common_ErrorCode.notReadyServe.rawValue, "service not ready") == .unavailable)
        #expect(code(100, 4, "collection 'q_missing' does not exist") == .notFound)
        #expect(code(700, 11, "no index on field 'vector'") == .notFound)
    }
}
