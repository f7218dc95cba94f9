extension Database {
    /// Hybrid search: runs several searches of one collection and fuses their rankings with a
    /// ``Ranker`` (reciprocal rank fusion or a weighted sum of normalized scores), as Milvus's
    /// `hybrid_search`. One list of hits per query, best first; ``Hit/distance`` is the fused
    /// score.
    ///
    /// ```swift
    /// let hits = try db.hybridSearch("docs", HybridSearchRequest(
    ///     requests: [
    ///         SearchRequest(queries: .vectors([q1]), limit: 20, annsField: "dense"),
    ///         SearchRequest(queries: .vectors([q2]), limit: 20, filter: "year > 2020", annsField: "title"),
    ///     ],
    ///     ranker: .weighted([0.8, 0.2]), limit: 5, outputFields: ["text"]))
    /// ```
    ///
    /// Every request runs through the one search path (``search(_:_:)-2djs6``'s checks and engine), all
    /// over the same snapshot, so a request can be any search the collection allows; then the
    /// lists of each query are fused as Milvus's proxy does (see ``Ranker``; ties go to the smaller
    /// primary key).
    ///
    /// - Throws: `.invalidArgument` for no requests, requests with different numbers of queries,
    ///   a weight count other than the request count, a weight outside 0...1, an RRF `k` outside
    ///   0 < k < 16384, output fields, an offset or grouping given in a request, or bad paging or grouping;
    ///   any error of ``search(_:_:)-2djs6`` for a request (its message names the request's index).
    /// - Complexity: the sum of the requests' searches, plus O(n log n) for the n hits they return.
    public func hybridSearch(_ collection: String, _ request: HybridSearchRequest) throws -> [[Hit]] {
        try withEngine(collection, .read) { e in try e.hybridSearch(checkedHybrid(e, request)) }
    }

    /// Hybrid search of `requests` fused by `ranker`; see `hybridSearch(_:_:)`.
    ///
    /// - Throws: as `hybridSearch(_:_:)`.
    public func hybridSearch(
        _ collection: String, requests: [SearchRequest], ranker: Ranker = .rrf(), limit: Int = 10, offset: Int = 0,
        outputFields: [String]? = nil
    ) throws -> [[Hit]] {
        try hybridSearch(collection, HybridSearchRequest(
            requests: requests, ranker: ranker, limit: limit, offset: offset, outputFields: outputFields))
    }

    /// A ``HybridSearchRequest`` checked against the collection: each request through
    /// ``checkedSearch(_:_:)`` (with the hybrid's output fields, grouping and partitions), and the
    /// fusion's own parameters.
    func checkedHybrid(_ e: CollectionEngine, _ request: HybridSearchRequest) throws -> CollectionEngine.HybridSearch {
        try request.validate()
        var grouping = SearchOptions()
        grouping.groupBy = request.groupBy
        grouping.groupSize = request.groupSize
        grouping.strictGroupSize = request.strictGroupSize
        grouping.roundDecimal = request.roundDecimal
        _ = try grouping.validate(metric: e.metric, schema: e.schema, limit: request.limit, offset: request.offset)
        // The group field travels in each request's entities, so fusion can group; it is
        // removed from the returned entities unless it was asked for.
        var fields = request.outputFields
        var dropGroupField = false
        if let group = request.groupBy {
            let requested = try OutputFields.resolve(request.outputFields, schema: e.schema, includePrimaryKey: false)
            if !requested.schemaFields.contains(where: { $0.name == group }) {
                fields = (fields ?? []) + [group]
                dropGroupField = true
            }
        }
        let searches = try request.requests.enumerated().map { i, r in
            var r = r
            r.outputFields = fields
            r.options.groupBy = request.groupBy
            r.options.groupSize = request.groupSize
            r.options.strictGroupSize = request.strictGroupSize
            if r.partitions.isEmpty { r.partitions = request.partitions }
            do {
                return try checkedSearch(e, r)
            } catch let error as QuiverError {
                throw QuiverError(error.code, "request \(i) of the hybrid search: \(error.message)", cause: error.cause)
            }
        }
        let fusion = HybridFusion(
            ranker: request.ranker, scorings: searches.map(e.scoring), limit: request.limit,
            offset: request.offset,
            grouping: request.groupBy.map {
                .init(field: $0, size: request.groupSize, strict: request.strictGroupSize, scorer: request.groupScorer)
            },
            roundDecimal: request.roundDecimal)
        return .init(searches: searches, fusion: fusion, dropField: dropGroupField ? request.groupBy : nil)
    }
}

extension CollectionEngine {
    /// A checked hybrid search: its requests, ready for ``search(_:in:)``, and their fusion.
    struct HybridSearch {
        var searches: [SearchRequest]
        var fusion: HybridFusion
        /// A field fetched only to group by, removed from the returned entities.
        var dropField: String?
    }

    /// The metric a search of `field` ranks by: the one place that says it (a search's checks and
    /// a hybrid search's normalization): IP for a sparse field (Milvus's only sparse metric), the
    /// collection's otherwise.
    func metric(searching field: FieldSchema) -> MetricType { field.dataType.isSparseVector ? .ip : metric }

    /// What a checked request's scores are for the Weighted ranker: BM25 scores for a search by
    /// text, else those of ``metric(searching:)``.
    func scoring(_ request: SearchRequest) -> HybridFusion.Scoring {
        if case .texts = request.queries { return .bm25 }
        return .metric(metric(searching: request.field))
    }

    /// Runs every request over one snapshot, then fuses the lists of each query.
    func hybridSearch(_ hybrid: HybridSearch) throws -> [[Hit]] {
        let snap = try snapshot()
        let lists = try hybrid.searches.map { try search($0, in: snap) }
        let nq = lists[0].count
        return (0..<nq).map { q in
            var hits = hybrid.fusion.fuse(lists.map { $0[q] })
            if let field = hybrid.dropField {
                for i in hits.indices { hits[i].entity[field] = nil }
            }
            return hits
        }
    }
}
