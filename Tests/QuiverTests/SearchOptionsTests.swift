import Testing
@testable import Quiver

/// Milvus search options, checked against brute force over growing and sealed segments.
@Suite struct SearchOptionsTests {
    struct Fixture {
        let dir = TemporaryDirectory()
        let db: Database
        var vectors: [Int64: [Float]] = [:]
        var groups: [Int64: Int64] = [:]

        init(metric: MetricType, seal: Bool) throws {
            db = try Database.open(at: dir.path, options: quietOptions())
            let schema = try CollectionSchema(fields: [
                FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
                FieldSchema(name: "v", dataType: .floatVector(dimension: 6)),
                FieldSchema(name: "g", dataType: .int32),
                FieldSchema(name: "w", dataType: .double),
            ])
            try db.createCollection("s", schema: schema, metric: metric)
            var g = SeededGenerator(seed: 7)
            var rows = [Row]()
            for i in 0..<300 {
                let v = randomVector(6, using: &g)
                vectors[Int64(i)] = v
                groups[Int64(i)] = Int64(i % 7)
                rows.append(["id": .int(Int64(i)), "v": .vector(v), "g": .int(Int64(i % 7)), "w": 1.5])
            }
            _ = try db.insert("s", rows: Array(rows[..<150]))
            if seal { try db.flush("s") }
            _ = try db.insert("s", rows: Array(rows[150...]))
        }

        func ranking(_ metric: MetricType, _ q: [Float]) -> [(Int64, Double)] {
            vectors.map { ($0.key, referenceDistance(metric, q, $0.value)) }
                .sorted { metric.higherIsBetter ? $0.1 > $1.1 : $0.1 < $1.1 }
        }
    }

    @Test(arguments: [MetricType.l2, .ip, .cosine], [false, true])
    func rangeSearchKeepsMilvusBounds(metric: MetricType, seal: Bool) throws {
        let f = try Fixture(metric: metric, seal: seal)
        var g = SeededGenerator(seed: 99)
        let q = randomVector(6, using: &g)
        let ranking = f.ranking(metric, q)
        // Bounds between ranks 9 and 10 and between 39 and 40 (not on a row, where float32 and
        // the double reference may disagree), so ranks 10…39 are in range.
        let inner = Float((ranking[9].1 + ranking[10].1) / 2), outer = Float((ranking[39].1 + ranking[40].1) / 2)
        var options = SearchOptions()
        options.radius = outer
        options.rangeFilter = inner
        let hits = try f.db.search("s", vectors: [q], limit: 100, options: options)[0]
        // L2 keeps rangeFilter ≤ d < radius; IP/COSINE keep radius < d ≤ rangeFilter: ranks 10…39.
        #expect(hits.map(\.id) == ranking[10..<40].map { .int($0.0) })
        let limited = try f.db.search("s", vectors: [q], limit: 5, options: options)[0]
        #expect(limited.map(\.id) == ranking[10..<15].map { .int($0.0) })
        try f.db.close()
    }

    @Test func rangeBoundsAreInclusiveAndExclusiveAsInMilvus() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("l2", dimension: 2, metric: .l2)
        try db.createCollection("ip", dimension: 2, metric: .ip)
        let rows: [Row] = [["id": 1, "vector": [1, 0]], ["id": 2, "vector": [2, 0]], ["id": 3, "vector": [3, 0]]]
        _ = try db.insert("l2", rows: rows)
        _ = try db.insert("ip", rows: rows)
        var options = SearchOptions()
        options.radius = 9  // L2 distances 1, 4, 9: keep 1 ≤ d < 9
        options.rangeFilter = 1
        #expect(try db.search("l2", vectors: [[0, 0]], limit: 10, options: options)[0].map(\.id) == [1, 2])
        options.radius = 1  // IP scores 1, 2, 3: keep 1 < d ≤ 3
        options.rangeFilter = 3
        #expect(try db.search("ip", vectors: [[1, 0]], limit: 10, options: options)[0].map(\.id) == [3, 2])
        try db.close()
    }

    @Test func rangeBoundsInTheWrongOrderAreRejected() throws {
        let f = try Fixture(metric: .l2, seal: false)
        var options = SearchOptions()
        options.radius = 0.1
        options.rangeFilter = 0.5
        #expect(throws: QuiverError.self) { try f.db.search("s", vectors: [[0, 0, 0, 0, 0, 0]], options: options) }
        try f.db.close()
    }

    @Test(arguments: [false, true])
    func groupByReturnsGroupsOfGroupSize(seal: Bool) throws {
        let f = try Fixture(metric: .l2, seal: seal)
        let q: [Float] = [0.1, -0.2, 0.3, 0, 0.5, -0.1]
        var options = SearchOptions()
        options.groupBy = "g"
        options.groupSize = 3
        let hits = try f.db.search("s", vectors: [q], limit: 4, outputFields: ["g"], options: options)[0]
        // Expected: walk the ranking, first 4 distinct groups, 3 best of each, groups by best hit.
        var order = [Int64]()
        var members = [Int64: [Int64]]()
        for (id, _) in f.ranking(.l2, q) {
            let group = f.groups[id]!
            if members[group] == nil {
                if order.count == 4 { continue }
                order.append(group)
            }
            if members[group, default: []].count < 3 { members[group, default: []].append(id) }
        }
        #expect(hits.map(\.id) == order.flatMap { members[$0]! }.map { .int($0) })
        #expect(hits.map { $0.entity["g"]! } == order.flatMap { g in Array(repeating: Value.int(g), count: 3) })
        var bad = options
        bad.groupBy = "w"
        #expect(throws: QuiverError.self) { try f.db.search("s", vectors: [q], limit: 4, options: bad) }
        try f.db.close()
    }

    @Test func roundDecimalOffsetAndSearchByIDs() throws {
        let f = try Fixture(metric: .ip, seal: true)
        let q = f.vectors[17]!
        var options = SearchOptions()
        options.roundDecimal = 2
        let rounded = try f.db.search("s", vectors: [q], limit: 3, options: options)[0]
        for hit in rounded { #expect(abs(hit.distance * 100 - (hit.distance * 100).rounded()) < 1e-3) }
        let byID = try f.db.search("s", ids: [17], limit: 10)[0]
        let byVector = try f.db.search("s", vectors: [q], limit: 10)[0]
        #expect(byID == byVector)
        let page2 = try f.db.search("s", vectors: [q], limit: 5, offset: 5)[0]
        #expect(page2.map(\.id) == Array(byVector[5...].map(\.id)))
        #expect(throws: QuiverError.self) { try f.db.search("s", ids: [100_000], limit: 1) }
        #expect(throws: QuiverError.self) { try f.db.search("s", vectors: [q], limit: 16_000, offset: 385) }
        #expect(throws: QuiverError.self) { try f.db.search("s", vectors: [q], limit: 0) }
        #expect(throws: QuiverError.self) { try f.db.search("s", vectors: [q], metric: .l2) }
        try f.db.close()
    }

    @Test func cosineOfZeroVectorIsZero() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("z", dimension: 3, metric: .cosine)
        _ = try db.insert("z", rows: [["id": 1, "vector": [0, 0, 0]], ["id": 2, "vector": [1, 0, 0]]])
        let hits = try db.search("z", vectors: [[0, 0, 0], [2, 0, 0]], limit: 2)
        #expect(hits[0].map(\.distance) == [0, 0])
        #expect(hits[1].map(\.id) == [2, 1])
        #expect(hits[1].map(\.distance) == [1, 0])
        try db.close()
    }
}
