import Foundation
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol
import Testing

/// The wire conversions shared by `quiver serve` and the remote client: schemas, every field type's column both ways,
/// nullable columns in both wire layouts, half-precision bits, malformed columns, error mapping.
@Suite struct ConversionTests {
    /// A schema with every field type Quiver has.
    static func everyTypeSchema() throws -> CollectionSchema {
        try CollectionSchema(fields: [
            FieldSchema(name: "pk", dataType: .varchar(maxLength: 16), isPrimaryKey: true),
            FieldSchema(name: "flag", dataType: .bool),
            FieldSchema(name: "i8", dataType: .int8),
            FieldSchema(name: "i16", dataType: .int16),
            FieldSchema(name: "i32", dataType: .int32, nullable: true),
            FieldSchema(name: "i64", dataType: .int64, defaultValue: 7),
            FieldSchema(name: "f", dataType: .float),
            FieldSchema(name: "d", dataType: .double),
            FieldSchema(name: "text", dataType: .varchar(maxLength: 64), nullable: true),
            FieldSchema(name: "meta", dataType: .json),
            FieldSchema(name: "tags", dataType: .array(elementType: .varchar(maxLength: 8), maxCapacity: 4)),
            FieldSchema(name: "nums", dataType: .array(elementType: .int32, maxCapacity: 4)),
            FieldSchema(name: "v", dataType: .floatVector(dimension: 2)),
            FieldSchema(name: "h", dataType: .float16Vector(dimension: 2)),
            FieldSchema(name: "b", dataType: .bfloat16Vector(dimension: 2)),
            FieldSchema(name: "bits", dataType: .binaryVector(dimension: 16)),
        ], enableDynamicField: true, description: "all types")
    }

    static let rows: [Row] = [
        ["pk": "a", "flag": true, "i8": -8, "i16": 300, "i32": 70_000, "i64": .int(1 << 40), "f": 1.5, "d": -2.25,
         "text": "héllo", "meta": ["k": [1, "x"]], "tags": ["x", "y"], "nums": [1, -2],
         "v": .vector([0.5, -1]), "h": .vector([1, -2]), "b": .vector([0.5, 3]), "bits": .bytes([0xA5, 0x01]), "extra": "dyn"],
        ["pk": "b", "flag": false, "i8": 127, "i16": -1, "i32": nil, "i64": 0, "f": 0, "d": 1e300,
         "text": nil, "meta": [1, 2.5], "tags": [], "nums": [],
         "v": .vector([0, 0]), "h": .vector([0.25, 65504]), "b": .vector([-1, 2]), "bits": .bytes([0, 0xFF])],
    ]

    @Test func schemaRoundTripsThroughTheWire() throws {
        let schema = try Self.everyTypeSchema()
        let wire = SchemaConversion.wireSchema(name: "c", schema: schema)
        #expect(wire.fields.map(\.fieldID) == (100..<116).map(Int64.init))
        #expect(wire.fields.first { $0.name == "v" }?.typeParams.first { $0.key == "dim" }?.value == "2")
        #expect(wire.fields.first { $0.name == "tags" }?.elementType == .varChar)
        // Through bytes, as CreateCollectionRequest.schema carries it.
        let decoded = try Milvus_Proto_Schema_CollectionSchema(serializedBytes: try wire.serializedData())
        #expect(try SchemaConversion.schema(from: decoded) == schema)
    }

    /// A BM25 function as pymilvus sends it (booleans as Python's `True`, analyzer params as JSON)
    /// becomes the engine's function, and comes back as Milvus describes it: the function with
    /// ids, the output field flagged `is_function_output`, the analyzer as type params.
    @Test func bm25FunctionsRoundTripThroughTheWire() throws {
        var wire = Milvus_Proto_Schema_CollectionSchema()
        func field(_ name: String, _ type: Milvus_Proto_Schema_DataType, _ params: [(String, String)], primary: Bool = false) {
            var f = Milvus_Proto_Schema_FieldSchema()
            f.name = name
            f.dataType = type
            f.isPrimaryKey = primary
            f.typeParams = params.map { SchemaConversion.keyValue($0.0, $0.1) }
            wire.fields.append(f)
        }
        field("id", .int64, [], primary: true)
        field("text", .varChar, [("max_length", "100"), ("enable_analyzer", "True"), ("analyzer_params", #"{"type": "english"}"#)])
        field("sparse", .sparseFloatVector, [])
        var function = Milvus_Proto_Schema_FunctionSchema()
        function.name = "bm25"
        function.type = .bm25
        function.inputFieldNames = ["text"]
        function.outputFieldNames = ["sparse"]
        wire.functions = [function]
        let schema = try SchemaConversion.schema(from: wire)
        #expect(schema.functions == [FunctionSchema(name: "bm25", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"])])
        #expect(schema.field(named: "text")?.enableAnalyzer == true)
        #expect(schema.field(named: "text")?.analyzerParams == ["type": "english"])

        let back = SchemaConversion.wireSchema(name: "c", schema: schema)
        #expect(back.functions.map(\.id) == [100] && back.functions[0].inputFieldIds == [101] && back.functions[0].outputFieldIds == [102])
        #expect(back.fields.map(\.isFunctionOutput) == [false, false, true])
        #expect(back.fields[1].typeParams.contains { $0.key == "enable_analyzer" && $0.value == "true" })
        #expect(try SchemaConversion.schema(from: back) == schema)

        // Metric BM25 belongs to the BM25 output field, and only BM25 does.
        #expect(try SchemaConversion.metric(wireName: "BM25", field: "sparse", schema: schema) == .ip)
        #expect(throws: MilvusError.self) { try SchemaConversion.metric(wireName: "IP", field: "sparse", schema: schema) }
        #expect(SchemaConversion.wireMetricName(.ip, field: "sparse", schema: schema) == "BM25")

        // Other function types are refused.
        wire.functions[0].type = .textEmbedding
        #expect(throws: MilvusError.self) { try SchemaConversion.schema(from: wire) }
    }

    @Test func schemaErrorsNameTheProblem() throws {
        var wire = SchemaConversion.wireSchema(name: "c", schema: try Self.everyTypeSchema())
        wire.fields[0].typeParams = []
        #expect(throws: MilvusError.invalid("type param(max_length) should be specified for the field(pk)")) {
            try SchemaConversion.schema(from: wire)
        }
        var int8 = Milvus_Proto_Schema_FieldSchema()
        int8.name = "i8v"
        int8.dataType = .int8Vector
        wire = SchemaConversion.wireSchema(name: "c", schema: try Self.everyTypeSchema())
        wire.fields.append(int8)
        #expect(throws: MilvusError.self) { try SchemaConversion.schema(from: wire) }
    }

    /// Sparse vectors travel as (u32 index, f32 weight) pairs per row in a `SparseFloatArray`
    /// whose `dim` is the largest index + 1; the server refuses rows that break the rules.
    @Test func sparseColumnsRoundTrip() throws {
        let field = FieldSchema(name: "s", dataType: .sparseFloatVector)
        let values: [Value] = [.sparse(try SparseVector([3: 0.5, 70_000: 2])), .sparse(SparseVector()), .sparse(try SparseVector([0: 1]))]
        let column = FieldConversion.column(field, id: 101, values: values)
        guard case .vectors(let v)? = column.field, case .sparseFloatVector(let a)? = v.data else {
            Issue.record("not a sparse column: \(column)")
            return
        }
        #expect(a.dim == 70_001 && a.contents.map(\.count) == [16, 0, 8])
        #expect(try FieldConversion.values(of: column, type: .sparseFloatVector, count: 3) == values)
        var bad = column
        var pairs = a
        var raw = [UInt8](pairs.contents[0])
        raw[4...7] = [0, 0, 0x80, 0xBF]  // weight -1.0
        pairs.contents[0] = Data(raw)
        var vectors = v
        vectors.data = .sparseFloatVector(pairs)
        bad.field = .vectors(vectors)
        #expect(throws: MilvusError.self) { try FieldConversion.values(of: bad, type: .sparseFloatVector, count: 3) }
        pairs.contents[0] = Data([1, 2, 3])
        vectors.data = .sparseFloatVector(pairs)
        bad.field = .vectors(vectors)
        #expect(throws: MilvusError.self) { try FieldConversion.values(of: bad, type: .sparseFloatVector, count: 3) }
    }

    /// The server's column insert: a request without dynamic keys becomes a batch whose float
    /// vector column is the wire's array and whose rows are `rows(from:)`'s; with them, nil.
    @Test func requestColumnsAsABatch() throws {
        let schema = try Self.everyTypeSchema()
        let projection = FieldConversion.Projection(["*"], schema: schema, includePrimaryKey: true)
        let plain = FieldConversion.columns(of: Self.rows.map { $0.filter { $0.key != "extra" } }, projection: projection, schema: schema)
        #expect(plain.last?.fieldName == "$meta")
        let batch = try #require(try FieldConversion.batch(from: plain, numRows: 2, schema: schema))
        let v = try #require(plain.first { $0.fieldName == "v" })
        #expect(batch["v"] == .floatVectors(v.vectors.floatVector.data, dimension: 2))
        #expect(batch["$meta"] == nil)
        #expect(try batch.rows() == FieldConversion.rows(from: plain, numRows: 2, schema: schema))
        let dynamic = FieldConversion.columns(of: Self.rows, projection: projection, schema: schema)
        #expect(try FieldConversion.batch(from: dynamic, numRows: 2, schema: schema) == nil)
    }

    @Test func everyFieldTypeRoundTripsThroughColumns() throws {
        let schema = try Self.everyTypeSchema()
        let projection = FieldConversion.Projection(["*"], schema: schema, includePrimaryKey: true)
        let columns = FieldConversion.columns(of: Self.rows, projection: projection, schema: schema)
        #expect(columns.map(\.fieldName) == schema.fields.map(\.name) + ["$meta"])
        Self.expectSameValues(try FieldConversion.rows(from: columns, numRows: 2, schema: schema), Self.rows)
        // The wire layout Milvus uses: nulls flagged, zero placeholders in dense scalar data.
        let i32 = try #require(columns.first { $0.fieldName == "i32" })
        #expect(i32.validData == [true, false])
        #expect(i32.scalars.intData.data == [70_000, 0])
        let h = try #require(columns.first { $0.fieldName == "h" })
        #expect(h.vectors.float16Vector == Data([0x00, 0x3C, 0x00, 0xC0, 0x00, 0x34, 0xFF, 0x7B]))
        let b = try #require(columns.first { $0.fieldName == "b" })
        #expect(b.vectors.bfloat16Vector == Data([0x00, 0x3F, 0x40, 0x40, 0x80, 0xBF, 0x00, 0x40]))
        let meta = try #require(columns.last)
        #expect(meta.isDynamic && meta.scalars.jsonData.data == [Data(#"{"extra":"dyn"}"#.utf8), Data("{}".utf8)])
    }

    /// Every value of `want` is in `got`: floats as float32 (the wire's precision), the rest exactly.
    static func expectSameValues(_ got: [Row], _ want: [Row], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == want.count, sourceLocation: sourceLocation)
        for (g, w) in zip(got, want) {
            for (key, value) in w {
                if key == "f" {
                    #expect(g[key]?.doubleValue == value.doubleValue.map { Double(Float($0)) }, "\(key)", sourceLocation: sourceLocation)
                } else {
                    #expect(g[key] == value, "\(key)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test func nullableColumnsAcceptTheCompactLayoutPymilvusSends() throws {
        let schema = try Self.everyTypeSchema()
        var column = Milvus_Proto_Schema_FieldData()
        column.fieldName = "i32"
        column.type = .int32
        column.validData = [false, true, false]
        column.scalars.intData.data = [42]  // only the valid row's value
        #expect(try FieldConversion.values(of: column, type: .int32, count: 3) == [.null, 42, .null])
        column.scalars.intData.data = [1, 2]  // neither one per row nor one per valid row
        #expect(throws: MilvusError.self) { try FieldConversion.values(of: column, type: .int32, count: 3) }
        _ = schema
    }

    @Test func malformedColumnsAreErrorsNotCrashes() throws {
        let schema = try Self.everyTypeSchema()
        var v = Milvus_Proto_Schema_FieldData()
        v.fieldName = "v"
        v.type = .floatVector
        v.vectors.dim = 2
        v.vectors.floatVector.data = [1, 2, 3]  // not a whole number of rows
        #expect(throws: MilvusError.self) { try FieldConversion.values(of: v, type: .floatVector(dimension: 2), count: 2) }
        v.vectors.dim = 3  // wrong dimension
        #expect(throws: MilvusError.invalid("the dim (3) of field data(v) is not equal to schema dim (2)")) {
            try FieldConversion.values(of: v, type: .floatVector(dimension: 2), count: 1)
        }
        var bits = Milvus_Proto_Schema_FieldData()
        bits.fieldName = "bits"
        bits.vectors.dim = 16
        bits.vectors.binaryVector = Data([1, 2, 3])
        #expect(throws: MilvusError.self) { try FieldConversion.values(of: bits, type: .binaryVector(dimension: 16), count: 2) }
        var json = Milvus_Proto_Schema_FieldData()
        json.fieldName = "meta"
        json.scalars.jsonData.data = [Data("{oops".utf8)]
        #expect(throws: MilvusError.self) { try FieldConversion.values(of: json, type: .json, count: 1) }
        var unknown = Milvus_Proto_Schema_FieldData()
        unknown.fieldName = "nope"
        unknown.scalars.longData.data = [1]
        #expect(throws: MilvusError.invalid("field 'nope' is not in the collection's schema")) {
            try FieldConversion.rows(from: [unknown], numRows: 1, schema: schema)
        }
        var short = Milvus_Proto_Schema_FieldData()
        short.fieldName = "i64"
        short.scalars.longData.data = [1, 2]
        #expect(throws: MilvusError.self) { try FieldConversion.rows(from: [short], numRows: 5, schema: schema) }
    }

    @Test func halfPrecisionBitsMatchIEEE754() {
        // (float, half bits) pairs from the IEEE 754 binary16 tables.
        let halves: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (1, 0x3C00), (-2, 0xC000), (0.5, 0x3800), (65504, 0x7BFF),
            (0x1p-24, 0x0001), (0x1p-14, 0x0400), (.infinity, 0x7C00), (1e6, 0x7C00),
            (1 + 0x1p-11, 0x3C00), (1 + 3 * 0x1p-11, 0x3C02),  // ties to even
        ]
        for (f, h) in halves {
            #expect(HalfFloat.half(from: f) == h, "\(f)")
        }
        for (f, h) in halves where f.isFinite && f < 65505 && f != 1 + 0x1p-11 && f != 1 + 3 * 0x1p-11 {
            #expect(HalfFloat.float(fromHalf: h) == f, "\(h)")
        }
        #expect(HalfFloat.float(fromHalf: 0x7E00).isNaN)
        #expect(HalfFloat.bfloat16(from: 1) == 0x3F80)
        #expect(HalfFloat.bfloat16(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie to even
        #expect(HalfFloat.bfloat16(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)
        #expect(HalfFloat.float(fromBFloat16: 0xC040) == -3)
    }

    @Test func templateValuesBecomeFilterParameters() throws {
        var list = Milvus_Proto_Schema_TemplateValue()
        list.arrayVal.longData.data = [1, 2]
        var text = Milvus_Proto_Schema_TemplateValue()
        text.stringVal = "en"
        #expect(try FieldConversion.templateValues(["ids": list, "lang": text]) == ["ids": [1, 2], "lang": "en"])
    }

    @Test func quiverErrorsMapToMilvusCodes() {
        let missing = MilvusError(QuiverError(.notFound, "collection 'docs' does not exist"))
        #expect(missing.code == 100 && missing.legacy == .collectionNotExists)
        #expect(missing.reason == "collection not found[database=default][collection=docs]")
        let index = MilvusError(QuiverError(.notFound, "field 'v' has no index"), indexNotFound: "docs")
        #expect(index.code == 700 && index.legacy == .indexNotExist)
        for code in [QuiverError.Code.invalidArgument, .dimensionMismatch, .alreadyExists] {
            let mapped = MilvusError(QuiverError(code, "why"))
            #expect(mapped.code == 1100 && mapped.legacy == .illegalArgument && mapped.reason == "invalid parameter: why")
        }
        let filter = MilvusError(QuiverError(.filterSyntax, "why"))
        #expect(filter.code == 1100 && filter.reason == "invalid parameter: cannot parse expression: why")
        #expect(MilvusError(QuiverError(.unsupported, "x")).code == 3000)
        let io = MilvusError(QuiverError(.io, "disk"))
        #expect(io.code == 65535 && io.legacy == .unexpectedError && io.reason.contains("disk"))
        #expect(MilvusError.databaseNotFound("other").code == 800)
    }
}
