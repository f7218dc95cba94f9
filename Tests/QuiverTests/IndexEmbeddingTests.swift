import Foundation
import QuiverTestSupport
import Testing
@testable import Quiver

/// Real sentence embeddings (all-MiniLM-L6-v2, 72 Milvus FAQ chunks, 384 dimensions) through
/// every index type: the query's ranking and scores match the reference produced with NumPy.
@Suite struct IndexEmbeddingTests {
    @Test(.enabled(if: SharedData.isAvailable, SharedData.absent), arguments: [IndexType.flat, .hnsw, .ivfFlat, .ivfSQ8, .hnswSQ])
    func faqRankingMatchesReference(_ type: IndexType) throws {
        let chunks = try SharedData.npy("embeddings/faq_chunks.f32.npy")
        let query = try SharedData.npy("embeddings/faq_query.f32.npy")[0]
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: SharedData.url("embeddings/faq_chunks.json"))) as! [String: Any]
        let reference = ((json["query"] as! [String: Any])["all_scores"] as! [NSNumber]).map(\.doubleValue)
        #expect(chunks.count == 72 && reference.count == 72)

        let dir = TemporaryDirectory()
        var options = quietOptions()
        options.indexBuildThreads = 1  // deterministic builds: a fixed recall, not a sample
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("faq", dimension: 384, metric: .cosine)
        _ = try db.insert("faq", rows: chunks.enumerated().map { ["id": .int(Int64($0.offset)), "vector": .vector($0.element)] })
        try db.flush("faq")
        try db.createIndex("faq", field: "vector", type: type)
        try db.waitForIndexBuilds("faq")
        #expect(try db.engine("faq").snapshot().indexes.count == (type == .flat ? 0 : 1))

        let hits = try db.search("faq", vectors: [query], limit: 10)[0]
        let want = reference.enumerated().sorted { $0.element > $1.element }.prefix(10).map(\.offset)
        #expect(hits.map { Int($0.id.intValue!) } == want)
        for hit in hits {
            #expect(abs(Double(hit.distance) - reference[Int(hit.id.intValue!)]) < 1e-4)
        }
        // Every chunk finds itself first.
        let own = try db.search("faq", vectors: chunks, limit: 1)
        #expect(own.enumerated().allSatisfy { $0.element.first?.id.intValue == Int64($0.offset) })
        try db.close()
    }
}
