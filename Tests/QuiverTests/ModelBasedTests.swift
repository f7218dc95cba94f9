import Foundation
import Testing
@testable import Quiver

/// Random operations checked step by step against a dictionary and brute-force search.
@Suite struct ModelBasedTests {
    struct Model {
        var rows: [Int64: (vector: [Float], tag: Int64)] = [:]
    }

    @Test(arguments: [(UInt64(1), MetricType.l2), (2, .ip), (3, .cosine), (4, .l2)])
    func randomOperationsMatchModel(seed: UInt64, metric: MetricType) throws {
        var g = SeededGenerator(seed: seed)
        let dir = TemporaryDirectory()
        var options = quietOptions()
        options.flushRowThreshold = 150  // exercise automatic flushes too
        let d = 8
        var db = try Database.open(at: dir.path, options: options)
        try db.createCollection("m", dimension: d, metric: metric)
        var model = Model()
        var nextKey: Int64 = 0
        let steps = 2500
        for step in 0..<steps {
            let context = "seed \(seed) step \(step)"
            let roll = Int.random(in: 0..<100, using: &g)
            switch roll {
            case 0..<35:  // insert new keys, sometimes with a duplicate that must fail atomically
                let n = Int.random(in: 1...12, using: &g)
                var rows = [Row]()
                var fresh = [(Int64, [Float], Int64)]()
                for _ in 0..<n {
                    let v = randomVector(d, using: &g), tag = Int64.random(in: 0..<5, using: &g)
                    fresh.append((nextKey, v, tag))
                    rows.append(["id": .int(nextKey), "vector": .vector(v), "tag": .int(tag)])
                    nextKey += 1
                }
                if !model.rows.isEmpty && Int.random(in: 0..<10, using: &g) == 0 {
                    let existing = model.rows.keys.randomElement(using: &g)!
                    rows.append(["id": .int(existing), "vector": .vector(randomVector(d, using: &g))])
                    #expect(throws: QuiverError.self, "\(context)") { try db.insert("m", rows: rows) }
                } else {
                    let r = try db.insert("m", rows: rows)
                    #expect(r.insertCount == n, "\(context)")
                    for (k, v, t) in fresh { model.rows[k] = (v, t) }
                }
            case 35..<50:  // upsert existing and new keys
                var rows = [Row]()
                var keys = Set<Int64>()
                for _ in 0..<Int.random(in: 1...6, using: &g) {
                    let key = Bool.random(using: &g) && !model.rows.isEmpty ? model.rows.keys.randomElement(using: &g)! : nextKey
                    if key == nextKey { nextKey += 1 }
                    guard keys.insert(key).inserted else { continue }
                    let v = randomVector(d, using: &g), tag = Int64.random(in: 0..<5, using: &g)
                    rows.append(["id": .int(key), "vector": .vector(v), "tag": .int(tag)])
                    model.rows[key] = (v, tag)
                }
                _ = try db.upsert("m", rows: rows)
            case 50..<62:  // delete some existing and some missing keys
                var ids = [Value]()
                var expected = 0
                for _ in 0..<Int.random(in: 1...5, using: &g) {
                    if let key = model.rows.keys.randomElement(using: &g), Bool.random(using: &g) {
                        if model.rows.removeValue(forKey: key) != nil { expected += 1 }
                        ids.append(.int(key))
                    } else {
                        ids.append(.int(nextKey + 1000))
                    }
                }
                let r = try db.delete("m", ids: ids)
                #expect(r.deleteCount == expected, "\(context)")
            case 62..<65:
                try db.flush("m")
            case 65..<67:
                try db.compact("m")
            case 67..<70:
                try db.close()
                db = try Database.open(at: dir.path, options: options)
            case 70..<85:  // search against brute force
                let q = randomVector(d, using: &g)
                let k = Int.random(in: 1...15, using: &g)
                let hits = try db.search("m", vectors: [q], limit: k, outputFields: ["tag"])[0]
                let expected = model.rows.map { (key: $0.key, distance: referenceDistance(metric, q, $0.value.vector)) }
                    .sorted { metric.higherIsBetter ? $0.distance > $1.distance : $0.distance < $1.distance }
                    .prefix(k)
                #expect(hits.count == expected.count, "\(context)")
                for (hit, want) in zip(hits, expected) {
                    #expect(hit.id == .int(want.key), "\(context)")
                    #expect(abs(Double(hit.distance) - want.distance) <= 1e-4 * max(1, abs(want.distance)), "\(context)")
                    #expect(hit.entity["tag"] == .int(model.rows[want.key]!.tag), "\(context)")
                }
            default:  // get and count
                let keys = (0..<3).map { _ in Int64.random(in: 0..<max(1, nextKey), using: &g) }
                let rows = try db.get("m", ids: keys.map { .int($0) }, outputFields: ["vector", "tag"])
                var seen = Set<Int64>()
                let want = keys.filter { seen.insert($0).inserted && model.rows[$0] != nil }
                #expect(rows.map { $0["id"]! } == want.map { .int($0) }, "\(context)")
                for row in rows {
                    guard case .int(let k) = row["id"]! else { continue }
                    #expect(row["vector"] == .vector(model.rows[k]!.vector), "\(context)")
                }
                #expect(try db.collectionStats("m").rowCount == model.rows.count, "\(context)")
            }
        }
        try db.close()
        // A final reopen sees exactly the model.
        let final = try Database.open(at: dir.path, options: options)
        #expect(try final.collectionStats("m").rowCount == model.rows.count, "seed \(seed) final")
        #expect(try final.query("m", outputFields: ["count(*)"]) == [["count(*)": .int(Int64(model.rows.count))]])
        try final.close()
    }
}
