import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Quiver
import QuiverMilvusProtocol
import QuiverServer
import Synchronization
import Testing

/// `MilvusServer` in process, called through a real gRPC client over HTTP/2 on a free loopback
/// port: the messages pymilvus sends, built by hand, and the answers it reads.
@Suite struct RoundTripTests {
    typealias Service = Milvus_Proto_Milvus_MilvusService.Client<HTTP2ClientTransport.Posix>

    /// Runs `body` with a client of a server on a fresh database (and `token`, if given).
    func withServer(token: String? = nil, _ body: (Service) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-serve-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try await Database.open(at: directory)
        var configuration = MilvusServerConfiguration()
        configuration.port = 0
        configuration.token = token
        let server = MilvusServer(database: database, configuration: configuration)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run { _, port in portContinuation.yield(port) } }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in
                try await body(Service(wrapping: client))
            }
            server.shutdown()
            try await group.waitForAll()
        }
        try await database.close()
    }

    static func floats(_ v: [Float]) -> Data {
        var data = Data()
        for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    /// pymilvus's quick setup: `id` int64 key, a 4-d `vector`, dynamic fields on.
    static func quickSchema() throws -> Data {
        var schema = Milvus_Proto_Schema_CollectionSchema()
        schema.name = "docs"
        schema.enableDynamicField = true
        var id = Milvus_Proto_Schema_FieldSchema()
        id.name = "id"
        id.dataType = .int64
        id.isPrimaryKey = true
        var vector = Milvus_Proto_Schema_FieldSchema()
        vector.name = "vector"
        vector.dataType = .floatVector
        var dim = Milvus_Proto_Common_KeyValuePair()
        dim.key = "dim"
        dim.value = "4"
        vector.typeParams = [dim]
        schema.fields = [id, vector]
        return try schema.serializedData()
    }

    static func pair(_ key: String, _ value: String) -> Milvus_Proto_Common_KeyValuePair {
        var p = Milvus_Proto_Common_KeyValuePair()
        p.key = key
        p.value = value
        return p
    }

    @Test func createInsertSearchQuery() async throws {
        try await withServer { milvus in
            #expect(try await milvus.connect(Milvus_Proto_Milvus_ConnectRequest()).status.code == 0)

            var create = Milvus_Proto_Milvus_CreateCollectionRequest()
            create.collectionName = "docs"
            create.schema = try Self.quickSchema()
            #expect(try await milvus.createCollection(create).code == 0)

            var index = Milvus_Proto_Milvus_CreateIndexRequest()
            index.collectionName = "docs"
            index.fieldName = "vector"
            index.extraParams = [Self.pair("index_type", "AUTOINDEX"), Self.pair("metric_type", "L2"), Self.pair("params", "{}")]
            let created = try await milvus.createIndex(index)
            #expect(created.code == 0, "\(created.reason)")

            // Four rows; the dynamic key `text` travels in `$meta`.
            var insert = Milvus_Proto_Milvus_InsertRequest()
            insert.collectionName = "docs"
            insert.numRows = 4
            var ids = Milvus_Proto_Schema_FieldData()
            ids.fieldName = "id"
            ids.type = .int64
            ids.scalars.longData.data = [1, 2, 3, 4]
            var vectors = Milvus_Proto_Schema_FieldData()
            vectors.fieldName = "vector"
            vectors.type = .floatVector
            vectors.vectors.dim = 4
            vectors.vectors.floatVector.data = [0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0]
            var meta = Milvus_Proto_Schema_FieldData()
            meta.fieldName = "$meta"
            meta.type = .json
            meta.isDynamic = true
            meta.scalars.jsonData.data = ["a", "b", "c", "d"].map { Data(#"{"text":"\#($0)"}"#.utf8) }
            insert.fieldsData = [ids, vectors, meta]
            let inserted = try await milvus.insert(insert)
            #expect(inserted.status.code == 0, "\(inserted.status.reason)")
            #expect(inserted.insertCnt == 4 && inserted.ids.intID.data == [1, 2, 3, 4])

            // Inserting key 2 again is refused with a reason naming it; nothing is written.
            var duplicate = insert
            duplicate.numRows = 1
            duplicate.fieldsData[0].scalars.longData.data = [2]
            duplicate.fieldsData[1].vectors.floatVector.data = [9, 9, 9, 9]
            duplicate.fieldsData[2].scalars.jsonData.data = [Data("{}".utf8)]
            let refused = try await milvus.insert(duplicate)
            #expect(refused.status.code == 1100 && refused.status.reason.contains("2"))

            // Two queries near rows 2 and 4, L2, with a template filter and an output dynamic key.
            var group = Milvus_Proto_Common_PlaceholderGroup()
            var placeholder = Milvus_Proto_Common_PlaceholderValue()
            placeholder.tag = "$0"
            placeholder.type = .floatVector
            placeholder.values = [Self.floats([0.9, 0, 0, 0]), Self.floats([0, 0, 2.9, 0])]
            group.placeholders = [placeholder]
            var search = Milvus_Proto_Milvus_SearchRequest()
            search.collectionName = "docs"
            search.placeholderGroup = try group.serializedData()
            search.dsl = "id != {skip}"
            search.dslType = .boolExprV1
            var skip = Milvus_Proto_Schema_TemplateValue()
            skip.int64Val = 3
            search.exprTemplateValues = ["skip": skip]
            search.outputFields = ["text"]
            search.nq = 2
            search.searchParams = [Self.pair("topk", "2"), Self.pair("params", #"{"ef": 16}"#), Self.pair("metric_type", "L2")]
            let found = try await milvus.search(search)
            #expect(found.status.code == 0, "\(found.status.reason)")
            let results = found.results
            #expect(results.topks == [2, 2])
            #expect(results.ids.intID.data == [2, 1, 4, 1])  // 3 is filtered out
            let expected: [Float] = [0.01, 0.81, 0.01, 2.9 * 2.9]
            for (score, want) in zip(results.scores, expected) { #expect(abs(score - want) < 1e-4) }
            #expect(results.outputFields == ["text"])
            let texts = try #require(results.fieldsData.first { $0.isDynamic }).scalars.jsonData.data
            #expect(texts.map { String(decoding: $0, as: UTF8.self) } == [#"{"text":"b"}"#, #"{"text":"a"}"#, #"{"text":"d"}"#, #"{"text":"a"}"#])

            // A wrong dimension is an invalid parameter with a reason.
            placeholder.values = [Self.floats([1, 2, 3])]
            group.placeholders = [placeholder]
            search.placeholderGroup = try group.serializedData()
            let wrong = try await milvus.search(search)
            #expect(wrong.status.code == 1100 && wrong.status.reason.contains("dimension"))

            // Query: a filter, then count(*), then a bad filter.
            var query = Milvus_Proto_Milvus_QueryRequest()
            query.collectionName = "docs"
            query.expr = "id >= 2"
            query.outputFields = ["*"]
            query.queryParams = [Self.pair("limit", "2")]
            let rows = try await milvus.query(query)
            #expect(rows.status.code == 0, "\(rows.status.reason)")
            #expect(rows.fieldsData.first { $0.fieldName == "id" }?.scalars.longData.data == [2, 3])
            #expect(rows.fieldsData.first { $0.fieldName == "vector" }?.vectors.floatVector.data == [1, 0, 0, 0, 0, 2, 0, 0])
            query.outputFields = ["count(*)"]
            query.queryParams = []
            let count = try await milvus.query(query)
            #expect(count.fieldsData.first?.scalars.longData.data == [3])
            query.expr = "id >>> 2"
            let bad = try await milvus.query(query)
            #expect(bad.status.code == 1100 && bad.status.errorCode == .illegalArgument)

            // The index reports its metric and Finished; the collection is loaded.
            var describe = Milvus_Proto_Milvus_DescribeIndexRequest()
            describe.collectionName = "docs"
            let indexes = try await milvus.describeIndex(describe)
            #expect(indexes.indexDescriptions.first?.state == .finished)
            #expect(indexes.indexDescriptions.first?.params.first { $0.key == "metric_type" }?.value == "L2")
            var load = Milvus_Proto_Milvus_GetLoadStateRequest()
            load.collectionName = "docs"
            #expect(try await milvus.getLoadState(load).state == .loaded)
        }
    }

    @Test func missingCollectionIsCode100() async throws {
        try await withServer { milvus in
            var describe = Milvus_Proto_Milvus_DescribeCollectionRequest()
            describe.collectionName = "nope"
            let status = try await milvus.describeCollection(describe).status
            #expect(status.code == 100 && status.errorCode == .collectionNotExists)
            var has = Milvus_Proto_Milvus_HasCollectionRequest()
            has.collectionName = "nope"
            #expect(try await milvus.hasCollection(has).value == false)
        }
    }

    @Test func tokenIsRequiredWhenSet() async throws {
        try await withServer(token: "root:Milvus") { milvus in
            await #expect(throws: RPCError.self) {
                _ = try await milvus.connect(Milvus_Proto_Milvus_ConnectRequest())
            }
            do {
                _ = try await milvus.connect(Milvus_Proto_Milvus_ConnectRequest(), metadata: ["authorization": "d3Jvbmc="])
                Issue.record("a wrong token was accepted")
            } catch let error as RPCError {
                #expect(error.code == .unauthenticated)
            }
            // pymilvus sends base64("user:password").
            let encoded = Data("root:Milvus".utf8).base64EncodedString()
            let ok = try await milvus.connect(Milvus_Proto_Milvus_ConnectRequest(), metadata: ["authorization": "\(encoded)"])
            #expect(ok.status.code == 0)
        }
    }
}
