import Testing
@testable import Quiver

/// float16, bfloat16 and binary vector fields: stored, recovered and searched like float32.
@Suite struct VectorTypeTests {
    static func schema(_ type: DataType) throws -> CollectionSchema {
        try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "v", dataType: type),
        ])
    }

    @Test(arguments: [DataType.float16Vector(dimension: 19), .bfloat16Vector(dimension: 19)], [MetricType.l2, .ip, .cosine])
    func halfVectorsMatchBruteForceOnRoundedValues(type: DataType, metric: MetricType) throws {
        let dir = TemporaryDirectory()
        var db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("h", schema: try Self.schema(type), metric: metric)
        var g = SeededGenerator(seed: 5)
        var stored = [Int64: [Float]]()
        for batch in 0..<3 {
            var rows = [Row]()
            for i in 0..<100 {
                let id = Int64(batch * 100 + i)
                rows.append(["id": .int(id), "v": .vector(randomVector(19, using: &g))])
            }
            _ = try db.insert("h", rows: rows)
            if batch == 0 { try db.flush("h") }
        }
        // What was stored is the input rounded to the 16-bit format.
        for row in try db.query("h", limit: 1000, outputFields: ["v"]) {
            stored[row["id"]!.intValue!] = row["v"]!.floatVector!
        }
        #expect(stored.count == 300)
        for reopen in [false, true] {
            if reopen { try db.close(); db = try Database.open(at: dir.path, options: quietOptions()) }
            let q = randomVector(19, using: &g)
            let hits = try db.search("h", vectors: [q], limit: 10)[0]
            let expected = stored.map { ($0.key, referenceDistance(metric, q, $0.value)) }
                .sorted { metric.higherIsBetter ? $0.1 > $1.1 : $0.1 < $1.1 }.prefix(10)
            #expect(hits.map(\.id) == expected.map { .int($0.0) }, "reopen \(reopen)")
            for (hit, want) in zip(hits, expected) {
                #expect(abs(Double(hit.distance) - want.1) < 1e-4 * max(1, abs(want.1)))
            }
        }
        let one = try db.get("h", ids: [7], outputFields: ["v"])[0]["v"]!.floatVector!
        #expect(one == stored[7])
        // Beyond the format's range: 1e6 for float16 (max 65504); Float's largest rounds to ∞ in bfloat16.
        let huge: Float = type == .float16Vector(dimension: 19) ? 1e6 : .greatestFiniteMagnitude
        #expect(throws: QuiverError.self) { try db.insert("h", rows: [["id": 1000, "v": .vector(Array(repeating: huge, count: 19))]]) }
        try db.close()
    }

    @Test(arguments: [MetricType.hamming, .jaccard])
    func binaryVectorsMatchBruteForce(metric: MetricType) throws {
        let dir = TemporaryDirectory()
        var db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("b", schema: try Self.schema(.binaryVector(dimension: 64)), metric: metric)
        #expect(throws: QuiverError.self) {
            try db.createCollection("bad", schema: try Self.schema(.binaryVector(dimension: 64)), metric: .l2)
        }
        var g = SeededGenerator(seed: 9)
        var stored = [Int64: [UInt8]]()
        var rows = [Row]()
        for i in 0..<200 {
            let bytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &g) }
            stored[Int64(i)] = bytes
            rows.append(["id": .int(Int64(i)), "v": .bytes(bytes)])
        }
        _ = try db.insert("b", rows: Array(rows[..<120]))
        try db.flush("b")
        _ = try db.insert("b", rows: Array(rows[120...]))
        func reference(_ a: [UInt8], _ b: [UInt8]) -> Double {
            var diff = 0, union = 0, inter = 0
            for i in a.indices {
                diff += (a[i] ^ b[i]).nonzeroBitCount
                union += (a[i] | b[i]).nonzeroBitCount
                inter += (a[i] & b[i]).nonzeroBitCount
            }
            return metric == .hamming ? Double(diff) : (union == 0 ? 0 : 1 - Double(inter) / Double(union))
        }
        for reopen in [false, true] {
            if reopen { try db.close(); db = try Database.open(at: dir.path, options: quietOptions()) }
            let q = (0..<8).map { _ in UInt8.random(in: 0...255, using: &g) }
            let hits = try db.search("b", binaryVectors: [q], limit: 200)[0]
            #expect(hits.count == 200)
            // Distances are exact; ties make the order among equal distances ours (lower row first),
            // so compare the distance sequence and each hit's own distance.
            let expected = stored.values.map { reference(q, $0) }.sorted()
            #expect(hits.map { Double($0.distance) }.enumerated().allSatisfy { abs($0.element - expected[$0.offset]) < 1e-6 })
            for hit in hits { #expect(abs(Double(hit.distance) - reference(q, stored[hit.id.intValue!]!)) < 1e-6) }
        }
        #expect(try db.get("b", ids: [3], outputFields: ["v"]) == [["id": 3, "v": .bytes(stored[3]!)]])
        #expect(throws: QuiverError.self) { try db.search("b", binaryVectors: [[1, 2]], limit: 1) }
        #expect(throws: QuiverError.self) { try db.insert("b", rows: [["id": 999, "v": .bytes([1])]]) }
        let byID = try db.search("b", ids: [5], limit: 1)[0]
        #expect(byID.first?.distance == 0)
        try db.close()
    }
}
