import Foundation
import Testing
@_spi(Benchmarks) @testable import Quiver

/// Sparse search: exact over growing and sealed segments, and through `SPARSE_INVERTED_INDEX`
/// (MaxScore), checked against a brute-force model written here (Double sums over dictionaries,
/// not the engine's scorer) and against each other, with filters, deletes, paging and
/// `drop_ratio_search`.
@Suite struct SparseSearchTests {
    /// Weights are multiples of 1/8 (many ties; sums of a few products are exact in Float and
    /// Double alike, so the model's scores equal the engine's).
    static func weights(_ g: inout SeededGenerator, vocabulary: UInt32, maxTerms: Int) -> [UInt32: Float] {
        SparseStorageTests.randomSparse(&g, vocabulary: vocabulary, maxTerms: maxTerms)
    }

    /// The model's score: Σ q[i] × d[i] over the indices both hold, in Double.
    static func score(_ q: [UInt32: Float], _ d: [UInt32: Float]) -> Double {
        q.reduce(0.0) { sum, pair in sum + Double(pair.value) * Double(d[pair.key] ?? 0) }
    }

    /// `q` without its ⌊count × ratio⌋ smallest weights (ties: the higher index goes first).
    static func dropped(_ q: [UInt32: Float], ratio: Double) -> [UInt32: Float] {
        let drop = Int((Double(q.count) * ratio).rounded(.down))
        let order = q.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }
        var out = q
        for (key, _) in order.prefix(drop) { out[key] = nil }
        return out
    }

    /// Checks `hits` is a correct top-`limit` after `offset` of `rows` (id → vector) for `query`:
    /// each hit's score is the model's, scores descend, ids are distinct, and the scores are the
    /// model's ranked scores at those positions (so any row better than the last hit is there).
    static func check(
        _ hits: [Hit], query: [UInt32: Float], rows: [Int64: [UInt32: Float]], limit: Int, offset: Int, _ label: String
    ) {
        let scored = rows.map { ($0.key, score(query, $0.value)) }.filter { $0.1 > 0 }
        let ranked = scored.map(\.1).sorted(by: >)
        let expected = Array(ranked.dropFirst(offset).prefix(limit))
        #expect(hits.map { Double($0.distance) } == expected, "\(label): scores")
        #expect(Set(hits.map(\.id)).count == hits.count, "\(label): distinct ids")
        let byID = Dictionary(uniqueKeysWithValues: scored.map { (Value.int($0.0), $0.1) })
        for hit in hits { #expect(byID[hit.id] == Double(hit.distance), "\(label): score of \(hit.id)") }
        // Above the last returned score, the hits are exactly the rows that score more (within the page).
        if offset == 0, let last = hits.last?.distance {
            let better = Set(scored.filter { $0.1 > Double(last) }.map { Value.int($0.0) })
            #expect(better.isSubset(of: Set(hits.map(\.id))), "\(label): a better row is missing")
        }
    }

    static func schema() throws -> CollectionSchema {
        try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "dense", dataType: .floatVector(dimension: 2)),
            FieldSchema(name: "sparse", dataType: .sparseFloatVector),
            FieldSchema(name: "tag", dataType: .int64),
        ])
    }

    /// A collection of sealed and growing rows with deletes; returns the live rows' vectors and tags.
    static func populate(_ db: Database, seed: UInt64, vocabulary: UInt32 = 60) throws -> (rows: [Int64: [UInt32: Float]], tags: [Int64: Int64]) {
        var g = SeededGenerator(seed: seed)
        var rows = [Int64: [UInt32: Float]](), tags = [Int64: Int64]()
        for batch in 0..<4 {
            var batchRows = [Row]()
            for i in 0..<400 {
                let id = Int64(batch * 400 + i)
                let v = weights(&g, vocabulary: vocabulary, maxTerms: 10)
                rows[id] = v
                tags[id] = id % 5
                batchRows.append(["id": .int(id), "dense": .vector([0, 1]), "sparse": .sparse(try SparseVector(v)), "tag": .int(id % 5)])
            }
            _ = try db.insert("c", rows: batchRows)
            if batch < 3 { try db.flush("c") }  // three sealed segments, one growing
        }
        let deleted = (0..<200).map { _ in Int64.random(in: 0..<1600, using: &g) }
        _ = try db.delete("c", ids: deleted.map { .int($0) })
        for id in deleted { rows[id] = nil; tags[id] = nil }
        return (rows, tags)
    }

    @Test(arguments: [UInt64(1), 2])
    func searchesMatchTheModelWithAndWithoutTheIndex(seed: UInt64) throws {
        let dir = TemporaryDirectory()
        var db = try Database.open(at: dir.path, options: manualCompactionOptions())
        try db.createCollection("c", schema: try Self.schema(), metric: .l2)
        let (rows, tags) = try Self.populate(db, seed: seed)
        var g = SeededGenerator(seed: seed + 100)
        let queries = (0..<12).map { _ in Self.weights(&g, vocabulary: 60, maxTerms: 8) }.filter { !$0.isEmpty }
        typealias Case = (filter: String, limit: Int, offset: Int, ratio: Double)
        let cases: [Case] = [("", 10, 0, 0), ("tag == 2", 7, 0, 0), ("tag < 3", 5, 4, 0), ("", 50, 0, 0.3), ("id > 1500", 20, 0, 0)]
        func run(_ label: String) throws -> [[[Hit]]] {
            try cases.map { c in
                var options = SearchOptions()
                if c.ratio > 0 { options.params = ["drop_ratio_search": .double(c.ratio)] }
                let hits = try db.search(
                    "c", sparseVectors: try queries.map { try SparseVector($0) }, limit: c.limit, offset: c.offset, filter: c.filter,
                    annsField: "sparse", options: options)
                let live = rows.filter { id, _ in
                    switch c.filter {
                    case "tag == 2": tags[id] == 2
                    case "tag < 3": tags[id]! < 3
                    case "id > 1500": id > 1500
                    default: true
                    }
                }
                for (q, list) in hits.enumerated() {
                    Self.check(list, query: Self.dropped(queries[q], ratio: c.ratio), rows: live, limit: c.limit, offset: c.offset,
                               "seed \(seed) \(label) filter '\(c.filter)' query \(q)")
                }
                return hits
            }
        }
        let exact = try run("exact")
        try db.createIndex("c", field: "sparse", type: .sparseInvertedIndex)
        try db.waitForIndexBuilds("c")
        #expect(try db.describeIndex("c", field: "sparse").state == .finished)
        #expect(try db.describeIndex("c", field: "sparse").metric == .ip)
        // The index gives the exact results, order and distances included.
        #expect(try run("indexed") == exact)
        try db.close()
        db = try Database.open(at: dir.path, options: manualCompactionOptions())
        #expect(try run("reopened") == exact)
        _ = try db.compact("c")
        try db.waitForIndexBuilds("c")
        _ = try run("compacted")
        try db.close()
    }

    /// The index's MaxScore against the exact scan on arbitrary float weights (rounding matters
    /// here), many terms per row, every k, with and without an allowed set: equal to the bit.
    @Test func invertedIndexEqualsExactScanBitForBit() throws {
        var g = SeededGenerator(seed: 77)
        for round in 0..<30 {
            let vocabulary = UInt32.random(in: 5...400, using: &g)
            let count = Int.random(in: 1...700, using: &g)
            var vectors = [SparseVector]()
            for _ in 0..<count {
                var pairs = [UInt32: Float]()
                for _ in 0..<Int.random(in: 0...30, using: &g) {
                    // A few coarse weights make ties; the rest are arbitrary.
                    pairs[UInt32.random(in: 0..<vocabulary, using: &g)] = Bool.random(using: &g) ? Float(Int.random(in: 0...3, using: &g)) : Float.random(in: 0...5, using: &g)
                }
                vectors.append(try SparseVector(pairs))
            }
            let rows = SparseRows(vectors)
            let index = try #require(SparseInvertedIndex.build(rows))
            var allowed: Bitset? = nil
            if round % 2 == 1 {
                var b = Bitset(count: count)
                for r in 0..<count where Int.random(in: 0..<3, using: &g) > 0 { b[r] = true }
                allowed = b
            }
            for _ in 0..<10 {
                var q = [UInt32: Float]()
                for _ in 0..<Int.random(in: 1...40, using: &g) { q[UInt32.random(in: 0..<(vocabulary + 3), using: &g)] = Float.random(in: 0...3, using: &g) }
                let query = try SparseVector(q)
                let k = [1, 3, 10, 100, 1000].randomElement(using: &g)!
                let exact = SparseScan.topK(queries: [query], rows: rows, k: k, allowed: allowed, threads: 1)[0]
                let indexed = index.search(query, k: k, allowed: allowed)
                #expect(indexed == exact, "round \(round) k \(k)")
                // And the exact scan's scores are the dot products.
                for hit in exact { #expect(hit.distance == query.dot(vectors[hit.row])) }
            }
        }
    }

    @Test func metricsIndexTypesAndParametersFollowMilvus() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("c", schema: try Self.schema(), metric: .cosine)
        _ = try db.insert("c", rows: [["id": 1, "dense": .vector([1, 0]), "sparse": ["1": 1.0], "tag": 0]])
        let q = [try SparseVector([1: 2])]
        #expect(try db.search("c", sparseVectors: q, annsField: "sparse", metric: .ip)[0].map(\.distance) == [2])
        #expect { _ = try db.search("c", sparseVectors: q, annsField: "sparse", metric: .cosine) } throws: {
            ($0 as? QuiverError)?.code == .invalidArgument
        }
        #expect(throws: QuiverError.self) { _ = try db.search("c", vectors: [[1, 0]], annsField: "sparse") }
        #expect(throws: QuiverError.self) { _ = try db.search("c", sparseVectors: q, annsField: "dense") }
        // Several vector fields: the field must be named.
        #expect(throws: QuiverError.self) { _ = try db.search("c", sparseVectors: q) }
        var bad = SearchOptions()
        bad.params = ["drop_ratio_search": 1.0]
        #expect(throws: QuiverError.self) { _ = try db.search("c", sparseVectors: q, annsField: "sparse", options: bad) }
        #expect(throws: QuiverError.self) { try db.createIndex("c", field: "sparse", type: .hnsw) }
        #expect(throws: QuiverError.self) { try db.createIndex("c", field: "dense", type: .sparseInvertedIndex) }
        #expect(throws: QuiverError.self) { try db.createIndex("c", field: "sparse", type: .sparseInvertedIndex, metric: .l2) }
        #expect { try db.createIndex("c", field: "sparse", type: .sparseWAND, params: ["drop_ratio_build": 0.2]) } throws: {
            ($0 as? QuiverError)?.code == .unsupported
        }
        // AUTOINDEX on a sparse field is the sparse inverted index; the dense metric is unchanged.
        try db.createIndex("c", field: "sparse", type: .autoIndex, metric: .ip, params: [:])
        #expect(try db.describeIndex("c", field: "sparse").type == .sparseInvertedIndex)
        #expect(try db.describeCollection("c").metric == .cosine)
        // By ids: the stored sparse vectors are the queries.
        #expect(try db.search("c", ids: [1], annsField: "sparse")[0].map(\.distance) == [1])
        // Range search works as for dense IP fields (radius < score ≤ range_filter).
        var range = SearchOptions()
        range.radius = 1.5
        #expect(try db.search("c", sparseVectors: q, annsField: "sparse", options: range)[0].count == 1)
        range.radius = 2
        #expect(try db.search("c", sparseVectors: q, annsField: "sparse", options: range)[0].isEmpty)
        try db.close()
    }

    /// A damaged sparse index file is `.corruption` when the collection loads.
    @Test func damagedIndexFileIsCorruption() throws {
        let dir = TemporaryDirectory()
        try SparseStorageTests.filledDatabase(dir, rows: 300, seed: 4) { db in
            try db.createIndex("c", field: "sparse", type: .sparseInvertedIndex)
            try db.waitForIndexBuilds("c")
        }
        let collection = dir.path + "/c1"
        let file = try #require(try FileSystem.listDirectory(collection).first { $0.hasSuffix(".qidx") })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: collection + "/" + file)))
        bytes[IndexFile.headerSize + 9] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: collection + "/" + file))
        #expect { try openAndUse(dir.path) } throws: { ($0 as? QuiverError)?.code == .corruption }
    }
}
