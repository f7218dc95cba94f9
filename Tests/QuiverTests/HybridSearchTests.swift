import Foundation
import Testing
@testable import Quiver

/// Hybrid search against a model written here: brute-force rankings per request and a fusion
/// that follows Milvus's definitions (RRF Σ 1/(k + rank); Weighted Σ w·normalize(score); ties by
/// the smaller key), in Float arithmetic accumulated in request order, as Milvus does.
@Suite struct HybridSearchTests {
    /// Two vector fields `a` (6 dimensions) and `b` (4), an int group `g` and a tag `t`, 240
    /// rows, half sealed when `seal`.
    struct Fixture {
        let dir = TemporaryDirectory()
        let db: Database
        let metric: MetricType
        var a: [Int64: [Float]] = [:]
        var b: [Int64: [Float]] = [:]
        var g: [Int64: Int64] = [:]
        var t: [Int64: Int64] = [:]

        init(metric: MetricType, seal: Bool) throws {
            self.metric = metric
            db = try Database.open(at: dir.path, options: quietOptions())
            let schema = try CollectionSchema(fields: [
                FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
                FieldSchema(name: "a", dataType: .floatVector(dimension: 6)),
                FieldSchema(name: "b", dataType: .floatVector(dimension: 4)),
                FieldSchema(name: "g", dataType: .int64),
                FieldSchema(name: "t", dataType: .int64),
            ])
            try db.createCollection("h", schema: schema, metric: metric)
            var rng = SeededGenerator(seed: 18)
            var rows = [Row]()
            for i in Int64(0)..<240 {
                a[i] = randomVector(6, using: &rng)
                b[i] = randomVector(4, using: &rng)
                g[i] = i % 9
                t[i] = i % 4
                rows.append(["id": .int(i), "a": .vector(a[i]!), "b": .vector(b[i]!), "g": .int(g[i]!), "t": .int(t[i]!)])
            }
            _ = try db.insert("h", rows: Array(rows[..<120]))
            if seal { try db.flush("h") }
            _ = try db.insert("h", rows: Array(rows[120...]))
        }

        /// The model's ranking of one request: rows passing `keep`, by distance, ids ascending on ties.
        func ranking(_ field: [Int64: [Float]], _ q: [Float], limit: Int, keep: (Int64) -> Bool) -> [(id: Int64, score: Float)] {
            let higher = metric.higherIsBetter
            var scored = [(id: Int64, score: Float)]()
            for (id, v) in field where keep(id) {
                scored.append((id: id, score: Float(referenceDistance(metric, q, v))))
            }
            scored.sort { x, y in
                if x.score != y.score { return higher ? x.score > y.score : x.score < y.score }
                return x.id < y.id
            }
            return Array(scored.prefix(limit))
        }
    }

    enum ModelRanker { case rrf(Float), weighted([Float], Bool) }

    /// Milvus's normalization, written out here independently of the engine.
    static func modelNormalize(_ s: Float, _ metric: MetricType) -> Float {
        switch metric {
        case .cosine: return (1 + s) * 0.5
        case .ip: return 0.5 + Float(atan(Double(s))) / Float.pi
        default: return 1 - 2 * Float(atan(Double(s))) / Float.pi
        }
    }

    /// The model's fused scores, best first, ties by smaller id.
    static func modelFuse(_ lists: [[(id: Int64, score: Float)]], _ ranker: ModelRanker, metric: MetricType) -> [(id: Int64, score: Float)] {
        var fused = [Int64: Float]()
        for (i, list) in lists.enumerated() {
            for (r, hit) in list.enumerated() {
                let add: Float
                switch ranker {
                case .rrf(let k): add = 1 / (k + Float(r + 1))
                case .weighted(let w, let norm): add = w[i] * (norm ? modelNormalize(hit.score, metric) : hit.score)
                }
                fused[hit.id] = fused[hit.id].map { $0 + add } ?? add
            }
        }
        var descending = true
        if case .weighted(_, false) = ranker { descending = metric.higherIsBetter }
        return fused.map { (id: $0.key, score: $0.value) }
            .sorted { x, y in x.score != y.score ? (descending ? x.score > y.score : x.score < y.score) : x.id < y.id }
    }

    static func expectClose(_ hits: [Hit], _ model: [(id: Int64, score: Float)], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(hits.map(\.id) == model.map { .int($0.id) }, sourceLocation: sourceLocation)
        for (h, m) in zip(hits, model) {
            #expect(abs(h.distance - m.score) <= 1e-5 * max(1, abs(m.score)), "id \(m.id)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [MetricType.l2, .ip, .cosine], [false, true])
    func rankersMatchTheModelWithFiltersPerRequest(metric: MetricType, seal: Bool) throws {
        let f = try Fixture(metric: metric, seal: seal)
        var rng = SeededGenerator(seed: 1000 + UInt64(seal ? 1 : 0))
        let qa = (0..<3).map { _ in randomVector(6, using: &rng) }
        let qb = (0..<3).map { _ in randomVector(4, using: &rng) }
        let requests = [
            SearchRequest(queries: .vectors(qa), limit: 25, filter: "t != 1", annsField: "a"),
            SearchRequest(queries: .vectors(qb), limit: 15, filter: "g < 6", annsField: "b"),
        ]
        let rankers: [(Ranker, ModelRanker)] = [
            (.rrf(), .rrf(60)), (.rrf(k: 5), .rrf(5)),
            (.weighted([0.7, 0.3]), .weighted([0.7, 0.3], true)),
            (.weighted([0.2, 1], normalizeScores: false), .weighted([0.2, 1], false)),
        ]
        for (ranker, model) in rankers {
            for (limit, offset) in [(10, 0), (7, 5), (100, 0)] {
                let hits = try f.db.hybridSearch("h", HybridSearchRequest(requests: requests, ranker: ranker, limit: limit, offset: offset))
                #expect(hits.count == 3)
                for q in 0..<3 {
                    let lists = [
                        f.ranking(f.a, qa[q], limit: 25) { f.t[$0]! != 1 },
                        f.ranking(f.b, qb[q], limit: 15) { f.g[$0]! < 6 },
                    ]
                    let expected = Array(Self.modelFuse(lists, model, metric: metric).dropFirst(offset).prefix(limit))
                    Self.expectClose(hits[q], expected)
                }
            }
        }
        try f.db.close()
    }

    @Test func outputFieldsComeFromTheRowsAndAsyncAgrees() async throws {
        let f = try Fixture(metric: .l2, seal: true)
        let qa = f.a[3]!, qb = f.b[3]!
        let request = HybridSearchRequest(
            requests: [
                SearchRequest(queries: .vectors([qa]), limit: 5, annsField: "a"),
                SearchRequest(queries: .vectors([qb]), limit: 5, annsField: "b"),
            ],
            limit: 4, outputFields: ["g", "t"])
        let synchronous: () throws -> [Hit] = { try f.db.hybridSearch("h", request)[0] }
        let hits = try synchronous()
        #expect(hits.first?.id == 3)  // first in both lists
        #expect(hits.first?.distance == 2 / Float(61))
        for h in hits {
            guard case .int(let id) = h.id else { Issue.record("not an int key"); continue }
            #expect(h.entity == ["g": .int(f.g[id]!), "t": .int(f.t[id]!)])
        }
        let asynchronous = try await f.db.hybridSearch("h", request)
        #expect(asynchronous == [hits])
        try await f.db.close()
    }

    /// Exact ties: equal fused scores order by the smaller primary key, integers and strings.
    @Test func tiesGoToTheSmallerKey() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        for (name, pk) in [("ints", DataType.int64), ("strings", .varchar(maxLength: 8))] {
            let schema = try CollectionSchema(fields: [
                FieldSchema(name: "id", dataType: pk, isPrimaryKey: true),
                FieldSchema(name: "x", dataType: .floatVector(dimension: 2)),
                FieldSchema(name: "y", dataType: .floatVector(dimension: 2)),
            ])
            try db.createCollection(name, schema: schema, metric: .l2)
            // x ranks 1, 2, 3, 4 for the query (0, 0); y ranks 2, 1, 4, 3: ids 1 and 2 tie,
            // and so do 3 and 4 (each sum is 1/(k+1) + 1/(k+2) or 1/(k+3) + 1/(k+4)).
            func key(_ i: Int64) -> Value { pk == .int64 ? .int(i) : .string(["", "b", "a", "Z", "c"][Int(i)]) }
            _ = try db.insert(name, rows: (Int64(1)...4).map { i in
                let yRank: [Int64: Float] = [1: 2, 2: 1, 3: 4, 4: 3]
                return ["id": key(i), "x": .vector([Float(i), 0]), "y": .vector([yRank[i]!, 0])]
            })
            let requests = [
                SearchRequest(queries: .vectors([[0, 0]]), limit: 4, annsField: "x"),
                SearchRequest(queries: .vectors([[0, 0]]), limit: 4, annsField: "y"),
            ]
            let hits = try db.hybridSearch(name, requests: requests, limit: 4)[0]
            #expect(hits[0].distance == hits[1].distance && hits[2].distance == hits[3].distance)
            if pk == .int64 {
                #expect(hits.map(\.id) == [1, 2, 3, 4])
            } else {
                // keys b, a, Z, c: a < b; and "Z" < "c" by bytes (0x5A < 0x63)
                #expect(hits.map(\.id) == ["a", "b", "Z", "c"])
            }
        }
        try db.close()
    }

    @Test(arguments: [GroupScorer.max, .sum, .avg], [false, true])
    func groupByMatchesTheModel(scorer: GroupScorer, strict: Bool) throws {
        let f = try Fixture(metric: .cosine, seal: true)
        var rng = SeededGenerator(seed: 77)
        let qa = randomVector(6, using: &rng), qb = randomVector(4, using: &rng)
        let groupSize = 3
        for (limit, offset) in [(4, 0), (3, 2)] {
            let request = HybridSearchRequest(
                requests: [
                    SearchRequest(queries: .vectors([qa]), limit: 5, annsField: "a"),
                    SearchRequest(queries: .vectors([qb]), limit: 5, filter: "t == 0 or t == 2", annsField: "b"),
                ],
                ranker: .rrf(), limit: limit, offset: offset, outputFields: ["t"], groupBy: "g", groupSize: groupSize,
                strictGroupSize: strict, groupScorer: scorer)
            let hits = try f.db.hybridSearch("h", request)[0]
            // Each request is a grouping search: `limit` groups of at most groupSize hits, the
            // groups by their best hit, hits within a group by rank.
            func groupedRanking(_ full: [(id: Int64, score: Float)], groups: Int) -> [(id: Int64, score: Float)] {
                var order = [Int64](), members = [Int64: [(id: Int64, score: Float)]]()
                for h in full {
                    let k = f.g[h.id]!
                    if members[k] == nil {
                        guard order.count < groups else { continue }
                        order.append(k)
                    }
                    if members[k, default: []].count < groupSize { members[k, default: []].append(h) }
                }
                return order.flatMap { members[$0]! }
            }
            let lists = [
                groupedRanking(f.ranking(f.a, qa, limit: 240) { _ in true }, groups: 5),
                groupedRanking(f.ranking(f.b, qb, limit: 240) { f.t[$0]! == 0 || f.t[$0]! == 2 }, groups: 5),
            ]
            let fused = Self.modelFuse(lists, .rrf(60), metric: .cosine)
            var groups = [Int64: [(id: Int64, score: Float)]]()
            for h in fused where groups[f.g[h.id]!, default: []].count < groupSize { groups[f.g[h.id]!, default: []].append(h) }
            func groupScore(_ m: [(id: Int64, score: Float)]) -> Float {
                switch scorer {
                case .max: return m[0].score
                case .sum: return m.reduce(0) { $0 + $1.score }
                case .avg: return m.reduce(0) { $0 + $1.score } / Float(m.count)
                }
            }
            let ordered = groups.values.sorted { x, y in
                let sx = groupScore(x), sy = groupScore(y)
                if sx != sy { return sx > sy }
                if x.count != y.count { return x.count > y.count }
                return x[0].id < y[0].id
            }
            let expected = ordered.dropFirst(offset).prefix(limit).filter { !strict || $0.count == groupSize }.flatMap { $0 }
            Self.expectClose(hits, expected)
            #expect(hits.allSatisfy { Set($0.entity.keys) == ["t"] })  // the group field is not returned unasked
        }
        try f.db.close()
    }

    @Test func roundingAndPartitionsApplyToTheFusion() throws {
        let f = try Fixture(metric: .ip, seal: false)
        let q = f.a[0]!
        let requests = [
            SearchRequest(queries: .vectors([q]), limit: 3, annsField: "a"),
            SearchRequest(queries: .vectors([f.b[0]!]), limit: 3, annsField: "b"),
        ]
        let hits = try f.db.hybridSearch("h", HybridSearchRequest(requests: requests, ranker: .weighted([0.5, 0.5]), roundDecimal: 2))[0]
        for h in hits { #expect((h.distance * 100).rounded() / 100 == h.distance) }
        try f.db.createPartition("h", partition: "p")
        _ = try f.db.insert("h", rows: [["id": 1000, "a": .vector(q), "b": .vector(f.b[0]!), "g": 0, "t": 0]], partition: "p")
        let inP = try f.db.hybridSearch("h", HybridSearchRequest(requests: requests, partitions: ["p"]))[0]
        #expect(inP.map(\.id) == [1000])
        try f.db.close()
    }

    /// A BM25 request fuses like any other: it goes through the same search path.
    @Test func bm25AndDenseRequestsFuse() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "vector", dataType: .floatVector(dimension: 2)),
            FieldSchema(name: "text", dataType: .varchar(maxLength: 200), enableAnalyzer: true),
            FieldSchema(name: "sparse", dataType: .sparseFloatVector),
        ], functions: [FunctionSchema(name: "bm25", type: .bm25, inputFieldNames: ["text"], outputFieldNames: ["sparse"])])
        try db.createCollection("t", schema: schema, metric: .l2)
        _ = try db.insert("t", rows: [
            ["id": 1, "vector": .vector([0, 0]), "text": "apples and pears"],
            ["id": 2, "vector": .vector([1, 0]), "text": "mmap enabled collections"],
            ["id": 3, "vector": .vector([2, 0]), "text": "nothing relevant here"],
        ])
        let dense = SearchRequest(queries: .vectors([[0, 0]]), limit: 3, annsField: "vector")
        let text = SearchRequest(queries: .texts(["mmap"]), limit: 3, annsField: "sparse")
        let bm25 = try db.search("t", text)[0]
        #expect(bm25.map(\.id) == [2])
        let fused = try db.hybridSearch("t", requests: [dense, text], limit: 3)[0]
        // dense ranks 1, 2, 3; BM25 ranks only 2: 2 has 1/62 + 1/61, more than 1's 1/61.
        #expect(fused.map(\.id) == [2, 1, 3])
        #expect(fused[0].distance == 1 / Float(62) + 1 / Float(61))
        // Weighted: a BM25 list is normalized as Milvus does for BM25, 2·arctan(s)/π (not as IP's
        // 1/2 + arctan(s)/π), the L2 list as 1 − 2·arctan(d)/π; row 2 is in both lists.
        let weighted = try db.hybridSearch("t", requests: [dense, text], ranker: .weighted([0.5, 1]), limit: 3)[0]
        let denseHits = try db.search("t", dense)[0]
        func model(_ id: Value) -> Float {
            var s: Float = 0
            if let d = denseHits.first(where: { $0.id == id })?.distance { s += 0.5 * (1 - 2 * Float(atan(Double(d))) / Float.pi) }
            if let b = bm25.first(where: { $0.id == id })?.distance { s += 1 * (2 * Float(atan(Double(b))) / Float.pi) }
            return s
        }
        #expect(weighted.map(\.id) == [2, 1, 3])
        for hit in weighted { #expect(hit.distance == model(hit.id), "row \(hit.id)") }
        try db.close()
    }

    @Test func badInputIsRefusedWithTypedErrors() throws {
        let f = try Fixture(metric: .l2, seal: false)
        let one = SearchRequest(queries: .vectors([f.a[0]!]), limit: 5, annsField: "a")
        let two = SearchRequest(queries: .vectors([f.b[0]!, f.b[1]!]), limit: 5, annsField: "b")
        func refused(_ r: HybridSearchRequest, _ code: QuiverError.Code, _ words: String) {
            do {
                _ = try f.db.hybridSearch("h", r)
                Issue.record("accepted: \(words)")
            } catch let e as QuiverError {
                #expect(e.code == code)
                #expect(e.message.contains(words), "\(e.message)")
            } catch { Issue.record("\(error)") }
        }
        refused(HybridSearchRequest(requests: []), .invalidArgument, "at least one")
        refused(HybridSearchRequest(requests: [one, two]), .invalidArgument, "same number of queries")
        refused(HybridSearchRequest(requests: [one, one], ranker: .weighted([1])), .invalidArgument, "1 weights for 2")
        refused(HybridSearchRequest(requests: [one, one], ranker: .weighted([1, 1.5])), .invalidArgument, "0...1")
        refused(HybridSearchRequest(requests: [one], ranker: .rrf(k: 0)), .invalidArgument, "0 < k < 16384")
        refused(HybridSearchRequest(requests: [one], ranker: .rrf(k: 16384)), .invalidArgument, "0 < k < 16384")
        refused(HybridSearchRequest(requests: [one], limit: 0), .invalidArgument, "limit")
        refused(HybridSearchRequest(requests: [one], offset: -1), .invalidArgument, "offset")
        refused(HybridSearchRequest(requests: [one], groupBy: "nope"), .invalidArgument, "nope")
        var unknown = one
        unknown.annsField = "c"
        refused(HybridSearchRequest(requests: [one, unknown]), .invalidArgument, "request 1 of the hybrid search: 'c'")
        var wrongDimension = one
        wrongDimension.annsField = "b"
        refused(HybridSearchRequest(requests: [wrongDimension]), .dimensionMismatch, "request 0")
        var badFilter = one
        badFilter.filter = "t =="
        refused(HybridSearchRequest(requests: [badFilter]), .filterSyntax, "request 0")
        var withFields = one
        withFields.outputFields = ["g"]
        refused(HybridSearchRequest(requests: [withFields]), .invalidArgument, "output fields")
        var paged = one
        paged.offset = 2
        refused(HybridSearchRequest(requests: [paged]), .invalidArgument, "offset")
        var grouping = one
        grouping.options.groupBy = "g"
        refused(HybridSearchRequest(requests: [grouping]), .invalidArgument, "group_by")
        try f.db.close()
    }
}
