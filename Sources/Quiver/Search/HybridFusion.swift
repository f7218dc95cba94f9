import Foundation

/// The fusion step of a hybrid search: the ranked lists of its requests for one query become one
/// ranking, as Milvus's proxy reranks (`internal/util/function/rerank`: `rrf_function.go`,
/// `weighted_function.go`, `util.go`), in `Float` arithmetic as there:
///
/// 1. Score: each row's fused score is accumulated over the lists in request order (RRF:
///    1 / (k + rank), rank from 1; Weighted: wᵢ · normalize(score)). A row's entity is the one of
///    its first appearance.
/// 2. Order: by fused score (descending, except a raw weighted sum of distances), ties by
///    primary key ascending (integers by value, strings by their UTF-8 bytes, as Go compares).
/// 3. Page: without grouping, the rows at `offset ..< offset + limit`. With grouping, rows in
///    descending score order fill their group up to `groupSize`; groups rank by their
///    ``GroupScorer`` score descending, then the larger group, then the smaller first key; the
///    groups at `offset ..< offset + limit` are returned, each with its hits in order, and with
///    `strictGroupSize` a group with fewer than `groupSize` hits is left out.
/// 4. Round: scores are rounded to `roundDecimal` decimals (half up) when it is not -1.
struct HybridFusion {
    /// Grouping of the fused hits.
    struct Grouping {
        var field: String
        var size: Int
        var strict: Bool
        var scorer: GroupScorer
    }

    /// What a request's scores are, for the Weighted ranker's normalization: those of a metric,
    /// or BM25 scores (a search by text of a BM25 function's output), which Milvus normalizes
    /// on their own (`2·arctan(s) / π`: non-negative, larger is better).
    enum Scoring: Equatable {
        case metric(MetricType)
        case bm25

        var higherIsBetter: Bool {
            switch self {
            case .metric(let m): m.higherIsBetter
            case .bm25: true
            }
        }
    }

    var ranker: Ranker
    /// The scoring of each request, in request order.
    var scorings: [Scoring]
    var limit: Int
    var offset: Int
    var grouping: Grouping?
    var roundDecimal: Int

    /// Whether a larger fused score ranks first.
    var descending: Bool {
        switch ranker {
        case .rrf: true
        case .weighted(_, let normalize): normalize || scorings.contains(where: \.higherIsBetter)
        }
    }

    /// Fuses the lists of one query (`lists[i]` is request i's ranking, best first).
    func fuse(_ lists: [[Hit]]) -> [Hit] {
        // One entry per distinct row, in order of first appearance: its first hit (whose entity
        // is returned) and its fused score; the keys are hashed once per hit, never while sorting.
        var hits: [Hit] = []
        var scores: [Float] = []
        // A few dozen hits (the usual limits) are found faster by comparing keys than by hashing them.
        let total = lists.reduce(0) { $0 + $1.count }
        let small = total <= 32
        var slot = [Value: Int](minimumCapacity: small ? 0 : total)
        hits.reserveCapacity(total)
        scores.reserveCapacity(total)
        let transforms = lists.indices.map(scoreTransform)
        for (i, list) in lists.enumerated() {
            for (rank, hit) in list.enumerated() {
                let contribution = transforms[i](hit.distance, rank)
                if let j = small ? hits.firstIndex(where: { $0.id == hit.id }) : slot[hit.id] {
                    scores[j] = scores[j] + contribution
                } else {
                    if !small { slot[hit.id] = hits.count }
                    hits.append(hit)
                    scores.append(contribution)
                }
            }
        }
        let descending = grouping == nil ? self.descending : true
        let order = hits.indices.sorted { a, b in
            let sa = scores[a], sb = scores[b]
            if sa != sb { return descending ? sa > sb : sa < sb }
            return Self.keyPrecedes(hits[a].id, hits[b].id)
        }
        let ranked: [(index: Int, score: Float)]
        if let grouping {
            ranked = grouped(order, scores: scores, hits: hits, grouping)
        } else {
            ranked = order.dropFirst(offset).prefix(limit).map { (index: $0, score: scores[$0]) }
        }
        return ranked.map { j, score in
            Hit(id: hits[j].id, distance: rounded(score), entity: hits[j].entity)
        }
    }

    /// What one appearance of a row in list `i` adds to its fused score, from its score and its
    /// 0-based position.
    private func scoreTransform(_ i: Int) -> (Float, Int) -> Float {
        switch ranker {
        case .rrf(let k):
            let k = Float(k)
            return { _, rank in 1 / (k + Float(rank + 1)) }
        case .weighted(let weights, let normalize):
            let w = weights[i], scoring = scorings[i]
            let mixed = scorings.contains(where: \.higherIsBetter) && scorings.contains(where: { !$0.higherIsBetter })
            if normalize {
                return { score, _ in w * Self.normalized(score, scoring) }
            } else if mixed && !scoring.higherIsBetter {
                return { score, _ in w * Self.distanceToSimilarity(score) }
            } else {
                return { score, _ in w * score }
            }
        }
    }

    /// Milvus's normalization of a score into 0...1, larger is closer.
    static func normalized(_ score: Float, _ scoring: Scoring) -> Float {
        switch scoring {
        case .metric(.cosine): (1 + score) * 0.5
        case .metric(.ip): 0.5 + Float(atan(Double(score))) / Float.pi
        case .metric(.l2), .metric(.hamming), .metric(.jaccard): distanceToSimilarity(score)
        case .bm25: 2 * Float(atan(Double(score))) / Float.pi
        }
    }

    /// A distance (smaller is closer) mapped into 0...1, larger is closer: 1 − 2·arctan(d) / π.
    static func distanceToSimilarity(_ distance: Float) -> Float {
        1 - 2 * Float(atan(Double(distance))) / Float.pi
    }

    /// The tie order of primary keys: integers by value, strings by their UTF-8 bytes.
    static func keyPrecedes(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): x < y
        case (.string(let x), .string(let y)): x.utf8.lexicographicallyPrecedes(y.utf8)
        default: false
        }
    }

    /// Step 3 with grouping: `order` (indices into `hits` and `scores`) in descending score order.
    private func grouped(
        _ order: [Int], scores: [Float], hits: [Hit], _ grouping: Grouping
    ) -> [(index: Int, score: Float)] {
        struct Group {
            var members: [Int] = []
            var sum: Float = 0
        }
        var groups = [Value: Group]()
        var keys = [Value]()
        for j in order {
            let key = hits[j].entity[grouping.field] ?? .null
            if groups[key] == nil {
                groups[key] = Group()
                keys.append(key)
            }
            guard groups[key]!.members.count < grouping.size else { continue }
            groups[key]!.members.append(j)
            groups[key]!.sum += scores[j]
        }
        func score(_ g: Group) -> Float {
            switch grouping.scorer {
            case .max: scores[g.members[0]]
            case .sum: g.sum
            case .avg: g.sum / Float(g.members.count)
            }
        }
        let ranked = keys.map { groups[$0]! }.sorted { a, b in
            let sa = score(a), sb = score(b)
            if sa != sb { return sa > sb }
            if a.members.count != b.members.count { return a.members.count > b.members.count }
            return Self.keyPrecedes(hits[a.members[0]].id, hits[b.members[0]].id)
        }
        return ranked.dropFirst(offset).prefix(limit)
            .filter { !grouping.strict || $0.members.count == grouping.size }
            .flatMap { g in g.members.map { (index: $0, score: scores[$0]) } }
    }

    private func rounded(_ score: Float) -> Float {
        guard roundDecimal >= 0 else { return score }
        let m = pow(10, Double(roundDecimal))
        return Float((Double(score) * m + 0.5).rounded(.down) / m)
    }
}
