import Foundation
import Testing
@testable import Quiver

/// `Database.changeMetric`: allowed while a collection has no index (Milvus picks the metric with
/// the first index); rows written before survive, in memory and on disk, and searches use the new metric.
@Suite struct ChangeMetricTests {
    @Test func changesTheMetricOfAnUnindexedCollectionDurably() throws {
        let dir = TemporaryDirectory()
        var db = try Database.open(at: dir.path)
        try db.createCollection("c", dimension: 2, metric: .cosine)
        _ = try db.insert("c", rows: [["id": 1, "vector": .vector([3, 0])], ["id": 2, "vector": .vector([0, 1])]])
        try db.flush("c")
        _ = try db.insert("c", rows: [["id": 3, "vector": .vector([1, 1])]])  // still in the growing segment
        try db.changeMetric(of: "c", to: .l2)
        #expect(try db.describeCollection("c").metric == .l2)
        // L2 squared from (3, 0): row 1 at 0, row 3 at 5, row 2 at 10 (COSINE would rank 3 before 2 too, but score 1, 0.71, 0).
        let hits = try db.search("c", vectors: [[3, 0]], limit: 3)
        #expect(hits[0].map(\.id) == [1, 3, 2])
        #expect(hits[0].map(\.distance) == [0, 5, 10])
        try db.close()
        db = try Database.open(at: dir.path)
        #expect(try db.describeCollection("c").metric == .l2)
        #expect(try db.collectionStats("c").rowCount == 3)
        try db.close()
    }

    @Test func refusesWithAnIndexOrAWrongKindOfMetric() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path)
        try db.createCollection("c", dimension: 2, metric: .cosine)
        #expect(throws: QuiverError.self) { try db.changeMetric(of: "c", to: .hamming) }
        #expect(throws: QuiverError.self) { try db.changeMetric(of: "missing", to: .l2) }
        try db.createIndex("c", field: "vector", type: .flat)
        #expect { try db.changeMetric(of: "c", to: .ip) } throws: { ($0 as? QuiverError)?.code == .invalidArgument }
        try db.changeMetric(of: "c", to: .cosine)  // the same metric: nothing to change
        #expect(try db.describeCollection("c").metric == .cosine)
        try db.close()
    }
}
