import Foundation
import Testing
@testable import Quiver

/// `queryIterator` and `searchIterator`: every row exactly once, in a stable order, from the
/// snapshot taken when the iterator was made, whatever is written during the walk.
@Suite struct IteratorTests {
    static let schema = try! CollectionSchema(fields: [
        FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
        FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)),
        FieldSchema(name: "tag", dataType: .varchar(maxLength: 4)),
        FieldSchema(name: "n", dataType: .int64),
    ])

    /// Collection "c" with `count` rows whose ids are 0, 3, 6, … inserted in a shuffled order,
    /// spread over sealed segments and the growing one; `n` is the id, `tag` cycles a, b, c.
    static func filled(_ dir: TemporaryDirectory, count: Int, seed: UInt64 = 7) throws -> (Database, [Int64]) {
        let db = try Database.open(at: dir.path, options: manualCompactionOptions())
        try db.createCollection("c", schema: schema, metric: .l2)
        var g = SeededGenerator(seed: seed)
        let ids = (0..<Int64(count)).map { $0 * 3 }.shuffled(using: &g)
        for chunk in stride(from: 0, to: count, by: 10_000) {
            let part = Array(ids[chunk..<min(chunk + 10_000, count)])
            _ = try db.insert("c", columns: ColumnBatch([
                "id": .int64(part),
                "vector": .floatVectors(part.flatMap { [Float($0 % 101), Float($0 % 7)] }, dimension: 2),
                "tag": .strings(part.map { ["a", "b", "c"][Int($0 / 3 % 3)] }),
                "n": .int64(part),
            ]))
            if chunk + 10_000 < count { try db.flush("c") }
        }
        return (db, ids.sorted())
    }

    /// A limit smaller than the matching rows keeps only the smallest keys (a bounded heap rather
    /// than a sort of every row): the model is the sorted keys' prefix, for int and string keys,
    /// over sealed segments, the growing one and deletes.
    @Test(arguments: [0, 1, 2, 7, 999, 10_000, 24_998, 24_999, 25_000, 40_000])
    func aLimitKeepsTheSmallestKeys(_ limit: Int) throws {
        let dir = TemporaryDirectory()
        let (db, ids) = try Self.filled(dir, count: 25_000, seed: UInt64(limit) + 3)
        defer { try? db.close() }
        _ = try db.delete("c", ids: [.int(ids[1]), .int(ids[24_999])])
        let live = ids.filter { $0 != ids[1] && $0 != ids[24_999] }
        let walk: QueryIterator = try db.queryIterator("c", batchSize: maxTopK, limit: limit)
        var seen = [Int64]()
        while let batch = walk.next() { seen += batch.map { $0["id"]!.intValue! } }
        #expect(seen == Array(live.prefix(limit)))

        let strings = TemporaryDirectory()
        let sdb = try Database.open(at: strings.path, options: manualCompactionOptions())
        defer { try? sdb.close() }
        try sdb.createCollection("s", dimension: 2, metric: .l2, idType: .varchar(maxLength: 16))
        var g = SeededGenerator(seed: UInt64(limit) + 11)
        let keys = (0..<3_000).map { "k\($0 * 7 % 3_001)" }.shuffled(using: &g)
        _ = try sdb.insert("s", rows: keys.prefix(2_000).map { ["id": .string($0), "vector": .vector([0, 1])] })
        try sdb.flush("s")
        _ = try sdb.insert("s", rows: keys.dropFirst(2_000).map { ["id": .string($0), "vector": .vector([0, 1])] })
        let swalk: QueryIterator = try sdb.queryIterator("s", batchSize: 1_000, limit: limit)
        var sseen = [String]()
        while let batch = swalk.next() { sseen += batch.map { $0["id"]!.stringValue! } }
        #expect(sseen == Array(keys.sorted().prefix(limit)))
    }

    @Test func queryIteratorWalksEveryRowOnceInKeyOrderWhileWritesGoOn() throws {
        let dir = TemporaryDirectory()
        let (db, ids) = try Self.filled(dir, count: 52_000)
        defer { try? db.close() }
        let walk = try db.queryIterator("c", batchSize: 5_000, outputFields: ["n"])
        #expect(walk.count == ids.count)
        var seen = [Int64]()
        var batches = 0
        while let batch = walk.next() {
            #expect(batch.count <= 5_000 && !batch.isEmpty)
            for row in batch {
                seen.append(row["id"]!.intValue!)
                #expect(row["n"] == row["id"] && row.count == 2)
            }
            batches += 1
            // Writes, deletes, upserts, a flush and a compaction during the walk.
            if batches == 2 {
                _ = try db.insert("c", rows: [["id": 1, "vector": [0, 0], "tag": "new", "n": 1], ["id": 999_999, "vector": [0, 0], "tag": "new", "n": 0]])
                _ = try db.delete("c", ids: ids.suffix(1000).map { .int($0) } + [.int(ids[20_000])])
                _ = try db.upsert("c", rows: [["id": .int(ids[30_000]), "vector": [9, 9], "tag": "up", "n": -1]])
                try db.flush("c")
                try db.compact("c")
            }
        }
        #expect(batches == 11)
        #expect(seen == ids)
        #expect(walk.next() == nil)
        // A new iterator sees the writes.
        let after = try db.queryIterator("c", batchSize: 16_384, outputFields: ["n"])
        var rows = [Row]()
        while let batch = after.next() { rows += batch }
        #expect(rows.count == ids.count - 1001 + 2)
        #expect(rows.first?["id"] == 0 && rows[1]["id"] == 1 && rows.last?["id"] == 999_999)
        #expect(rows.first { $0["id"] == .int(ids[30_000]) }?["n"] == -1)
    }

    @Test func queryIteratorFilterOutputFieldsLimitAndAsync() async throws {
        let dir = TemporaryDirectory()
        let (db, ids) = try Self.filled(dir, count: 25_000)
        defer { try? db.close() }
        var tags = [Int64]()
        // In async code a call without `await` needs its type named: `await` picks VectorDatabase's BatchSequence.
        let walk: QueryIterator = try db.queryIterator("c", batchSize: 777, filter: "tag == {t}", filterParams: ["t": "b"], outputFields: ["tag"])
        for await batch in walk {
            for row in batch {
                #expect(row["tag"] == "b" && row["n"] == nil)
                tags.append(row["id"]!.intValue!)
            }
        }
        #expect(tags == ids.filter { $0 / 3 % 3 == 1 })
        let limited: QueryIterator = try db.queryIterator("c", batchSize: 400, limit: 1_000)
        var sizes = [Int]()
        var last = [Row]()
        while let batch = limited.next() { sizes.append(batch.count); last = batch }
        #expect(sizes == [400, 400, 200])
        #expect(last.last?["id"] == .int(ids[999]) && last.last?.count == 1)
    }

    @Test func badIteratorArgumentsAreTypedErrors() throws {
        let dir = TemporaryDirectory()
        let (db, _) = try Self.filled(dir, count: 10)
        defer { try? db.close() }
        for size in [0, -1, maxTopK + 1] {
            #expect(Self.code { _ = try db.queryIterator("c", batchSize: size) } == .invalidArgument)
            #expect(Self.code { _ = try db.searchIterator("c", vector: [0, 0], batchSize: size) } == .invalidArgument)
        }
        #expect(Self.code { _ = try db.queryIterator("c", limit: -1) } == .invalidArgument)
        #expect(Self.code { _ = try db.queryIterator("c", outputFields: ["nope"]) } == .invalidArgument)
        #expect(Self.code { _ = try db.queryIterator("c", outputFields: ["count(*)"]) } == .invalidArgument)
        #expect(Self.code { _ = try db.queryIterator("c", filter: "tag ==") } == .filterSyntax)
        #expect(Self.code { _ = try db.queryIterator("nope") } == .notFound)
        #expect(Self.code { _ = try db.searchIterator("c", vector: [0, 0, 0]) } == .dimensionMismatch)
        #expect(Self.code { _ = try db.searchIterator("c", vector: [.nan, 0]) } == .invalidArgument)
    }

    static func code(_ body: () throws -> Void) -> QuiverError.Code? {
        do { try body() } catch let e as QuiverError { return e.code } catch { return nil }
        return nil
    }

    /// Every row once, best first: the distances are those of a brute-force ranking, ties (many
    /// rows share a vector) included, and writes during the walk change nothing.
    @Test(arguments: [MetricType.l2, .ip])
    func searchIteratorWalksEveryRowOnceBestFirst(_ metric: MetricType) throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { try? db.close() }
        try db.createCollection("s", schema: Self.schema, metric: metric)
        let count = 12_000
        // 600 distinct vectors, 20 rows each: every batch boundary falls inside a tie.
        let vectors = (0..<count).map { i -> [Float] in [Float(i % 600) / 100, Float(i % 600 % 13) / 10] }
        for chunk in stride(from: 0, to: count, by: 4_000) {
            let part = Array(chunk..<chunk + 4_000)
            _ = try db.insert("s", columns: ColumnBatch([
                "id": .int64(part.map { Int64($0) }), "vector": .floatVectors(part.flatMap { vectors[$0] }, dimension: 2),
                "tag": .strings(part.map { $0 % 2 == 0 ? "even" : "odd" }), "n": .int64(part.map { Int64($0) }),
            ]))
            try db.flush("s")
        }
        let q: [Float] = [1.234, 0.5]
        func score(_ v: [Float]) -> Float {
            metric == .l2 ? (v[0] - q[0]) * (v[0] - q[0]) + (v[1] - q[1]) * (v[1] - q[1]) : v[0] * q[0] + v[1] * q[1]
        }
        let walk = try db.searchIterator("s", vector: q, batchSize: 1_000, outputFields: ["n"])
        var hits = [Hit]()
        var batches = 0
        while let batch = try walk.next() {
            #expect(batch.count <= 1_000)
            hits += batch
            batches += 1
            if batches == 1 {
                _ = try db.insert("s", rows: [["id": 50_000, "vector": .vector(q), "tag": "x", "n": 0]])
                _ = try db.delete("s", filter: "n < 100")
            }
        }
        #expect(hits.count == count)
        #expect(Set(hits.map(\.id)).count == count)
        #expect(!hits.contains { $0.id == 50_000 })
        let expected = (0..<count).map { score(vectors[$0]) }.sorted { metric == .l2 ? $0 < $1 : $0 > $1 }
        for (hit, want) in zip(hits, expected) {
            #expect(abs(hit.distance - want) <= 1e-4 * max(1, abs(want)))
            #expect(hit.entity["n"] == hit.id)
        }
        // Filtered and limited.
        let odd = try db.searchIterator("s", vector: q, batchSize: 333, limit: 2_000, filter: "tag == 'odd'")
        var oddHits = [Hit]()
        while let batch = try odd.next() { oddHits += batch }
        #expect(oddHits.count == 2_000 && Set(oddHits.map(\.id)).count == 2_000)
        #expect(oddHits.allSatisfy { ($0.id.intValue ?? 0) % 2 == 1 })
        #expect(zip(oddHits, oddHits.dropFirst()).allSatisfy { metric == .l2 ? $0.distance <= $1.distance : $0.distance >= $1.distance })
    }

    /// Both iterators walk only the partitions given: every row of them once, none of the others,
    /// across a flush; an unknown partition is `.notFound`.
    @Test func iteratorsWalkOnlyTheirPartitions() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: manualCompactionOptions())
        defer { try? db.close() }
        try db.createCollection("p", schema: Self.schema, metric: .l2)
        try db.createPartition("p", partition: "left")
        func rows(_ ids: Range<Int64>) -> ColumnBatch {
            ColumnBatch([
                "id": .int64(Array(ids)), "vector": .floatVectors(ids.flatMap { [Float($0), 0] }, dimension: 2),
                "tag": .strings(ids.map { _ in "t" }), "n": .int64(Array(ids)),
            ])
        }
        _ = try db.insert("p", columns: rows(0..<1_500), partition: "left")
        _ = try db.insert("p", columns: rows(1_500..<2_000))
        try db.flush("p")
        _ = try db.insert("p", columns: rows(2_000..<2_700), partition: "left")
        let walk = try db.queryIterator("p", batchSize: 400, partitions: ["left"])
        var seen = [Int64]()
        while let batch = walk.next() { seen += batch.compactMap { $0["id"]?.intValue } }
        #expect(seen == Array(0..<1_500) + Array(2_000..<2_700))
        let near = try db.searchIterator("p", vector: [1_600, 0], batchSize: 300, partitions: ["_default"])
        var hits = [Int64]()
        while let batch = try near.next() { hits += batch.compactMap { $0.id.intValue } }
        #expect(hits.count == 500 && Set(hits) == Set(1_500..<2_000))
        #expect(hits.first == 1_600)
        let unknownQuery = #expect(throws: QuiverError.self) { _ = try db.queryIterator("p", partitions: ["nope"]) }
        let unknownSearch = #expect(throws: QuiverError.self) { _ = try db.searchIterator("p", vector: [0, 0], partitions: ["nope"]) }
        #expect(unknownQuery?.code == .notFound && unknownSearch?.code == .notFound)
    }
}
