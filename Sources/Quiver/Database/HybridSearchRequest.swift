/// How a hybrid search fuses the ranked lists of its requests into one (Milvus's rankers).
///
/// ```swift
/// let rrf = Ranker.rrf()                          // Σ 1 / (60 + rank)
/// let weighted = Ranker.weighted([0.7, 0.3])      // Σ wᵢ · normalize(scoreᵢ)
/// ```
public enum Ranker: Sendable, Hashable {
    /// Reciprocal rank fusion: a row's score is Σ 1 / (k + rank) over the lists it appears in,
    /// its rank counted from 1 in each list. `k` must be in 0 < k < 16384 (Milvus's bounds); 60 is
    /// the usual choice (Cormack, Clarke and Büttcher, SIGIR 2009) and Milvus's default.
    case rrf(k: Double = 60)
    /// A weighted sum of the requests' scores, one weight in 0...1 per request, in request order.
    ///
    /// With `normalizeScores` (the default, Milvus's `norm_score=True`), each score is first mapped
    /// into 0...1 by its metric, as Milvus does: COSINE (1 + s) / 2; IP ½ + arctan(s) / π; BM25
    /// (a search by text) 2·arctan(s) / π; L2, HAMMING and JACCARD distances 1 − 2·arctan(d) / π;
    /// and the sum ranks descending. Without it,
    /// raw scores are summed: descending when any request's metric is a similarity (a distance
    /// is then first turned by 1 − 2·arctan(d) / π), ascending when every metric is a distance.
    case weighted([Float], normalizeScores: Bool = true)
}

/// How a group's score is derived from its hits' fused scores when a hybrid search groups
/// (Milvus's `rank_group_scorer`). Groups are ranked by it, descending.
public enum GroupScorer: String, Sendable, Hashable, CaseIterable {
    /// The best hit's score (the default).
    case max
    /// The sum of the group's hits' scores.
    case sum
    /// The mean of the group's hits' scores.
    case avg
}

/// A hybrid search: several searches of one collection (each with its own vector field,
/// queries, filter, parameters and limit) whose results are fused by a ``Ranker``, as Milvus's
/// `hybrid_search`.
///
/// ```swift
/// let request = HybridSearchRequest(
///     requests: [
///         SearchRequest(queries: .vectors([titleQuery]), limit: 20, annsField: "title_vector"),
///         SearchRequest(queries: .vectors([bodyQuery]), limit: 20, filter: "lang == 'en'", annsField: "body_vector"),
///     ],
///     ranker: .rrf(), limit: 5, outputFields: ["title"])
/// let hits = try db.hybridSearch("docs", request)    // one list per query, fused scores descending
/// ```
///
/// Every request must have the same number of queries (nq); the i-th queries of all requests
/// form the i-th fused result list. Each request runs through the same path as ``Database/search(_:_:)-2djs6``
/// (so a request can be anything a search can be), over one snapshot of the collection. Its
/// `limit` is how many hits it contributes to the fusion; `outputFields` and grouping are the
/// hybrid search's (a request giving its own is refused).
public struct HybridSearchRequest: Sendable, Hashable {
    /// The searches to fuse, at least one. Their `outputFields` must be `nil`, their `offset` 0
    /// and their `options.groupBy` unset: output fields, paging and grouping are given here.
    public var requests: [SearchRequest]
    /// How the requests' ranked lists are fused.
    public var ranker: Ranker
    /// Fused results per query, 1 or more; `limit + offset` at most ``maxTopK``. With
    /// ``groupBy``, the number of groups.
    public var limit: Int
    /// Fused results (or groups) to skip before the first one returned.
    public var offset: Int
    /// Fields to return in ``Hit/entity``; `nil` for none.
    public var outputFields: [String]?
    /// A scalar field (bool, an integer type or varchar) to group by: each request searches with
    /// this grouping, and the fused hits are grouped again, at most ``groupSize`` per value.
    public var groupBy: String?
    /// Hits per group (1…1024).
    public var groupSize: Int
    /// Drop the groups that have fewer than ``groupSize`` hits.
    public var strictGroupSize: Bool
    /// How a group's score is derived from its hits' scores.
    public var groupScorer: GroupScorer
    /// Round the fused scores to this many decimals (0…6); -1 leaves them as computed.
    public var roundDecimal: Int
    /// Search only these partitions in the requests that name none; empty for all.
    public var partitions: [String]

    /// A hybrid search; see `Database.hybridSearch(_:_:)`.
    public init(
        requests: [SearchRequest], ranker: Ranker = .rrf(), limit: Int = 10, offset: Int = 0,
        outputFields: [String]? = nil, groupBy: String? = nil, groupSize: Int = 1, strictGroupSize: Bool = false,
        groupScorer: GroupScorer = .max, roundDecimal: Int = -1, partitions: [String] = []
    ) {
        self.requests = requests
        self.ranker = ranker
        self.limit = limit
        self.offset = offset
        self.outputFields = outputFields
        self.groupBy = groupBy
        self.groupSize = groupSize
        self.strictGroupSize = strictGroupSize
        self.groupScorer = groupScorer
        self.roundDecimal = roundDecimal
        self.partitions = partitions
    }
}

extension HybridSearchRequest {
    /// Checks what needs no collection: at least one request, the same number of queries in
    /// each, the ranker's parameters against the requests, paging, and no output fields,
    /// offset or grouping in a request. Every backend runs it before searching (a remote one before sending).
    ///
    /// - Throws: `.invalidArgument` naming what is wrong.
    public func validate() throws {
        guard !requests.isEmpty else {
            throw QuiverError.invalidArgument("a hybrid search needs at least one search request")
        }
        let nq = requests[0].queries.count
        for (i, r) in requests.enumerated() {
            guard r.queries.count == nq else {
                throw QuiverError.invalidArgument(
                    "every request of a hybrid search needs the same number of queries: request 0 has \(nq), request \(i) has \(r.queries.count)")
            }
            guard r.outputFields == nil else {
                throw QuiverError.invalidArgument("request \(i) of a hybrid search gives output fields; give them to the hybrid search")
            }
            guard r.offset == 0 else {
                throw QuiverError.invalidArgument("request \(i) of a hybrid search has an offset; give offset to the hybrid search")
            }
            guard r.options.groupBy == nil else {
                throw QuiverError.invalidArgument("request \(i) of a hybrid search groups; give group_by to the hybrid search")
            }
        }
        switch ranker {
        case .rrf(let k):
            guard k > 0 && k < 16384 else { throw QuiverError.invalidArgument("RRF k must be in 0 < k < 16384, got \(k)") }
        case .weighted(let weights, _):
            guard weights.count == requests.count else {
                throw QuiverError.invalidArgument(
                    "the weighted ranker has \(weights.count) weights for \(requests.count) search requests; give one per request")
            }
            for w in weights where !(0...1).contains(w) {
                throw QuiverError.invalidArgument("every weight must be in 0...1, got \(w)")
            }
        }
        try Database.checkPaging(limit: limit, offset: offset)
    }
}

extension SearchRequest.Queries {
    /// The number of queries (Milvus's nq).
    public var count: Int {
        switch self {
        case .vectors(let v): v.count
        case .binaryVectors(let v): v.count
        case .ids(let ids): ids.count
        case .sparseVectors(let v): v.count
        case .texts(let t): t.count
        }
    }
}
