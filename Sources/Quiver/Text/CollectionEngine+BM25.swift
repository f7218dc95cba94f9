/// BM25 search of a BM25 function's output field: collection-wide statistics from one snapshot,
/// then each searched segment's rows scored through its postings.
///
/// The statistics (live rows with a term, their total length, each query term's document
/// frequency) are summed over every segment of the snapshot — all partitions, sealed and
/// growing, deleted rows excluded — whatever the request's filter and partitions, so a row's
/// score depends only on the collection's live rows: a flush or compaction (which move rows
/// without changing which are live) changes no score, and neither does which partition or
/// filter a search names. Nothing beyond the rows is stored: the statistics come from the term
/// frequencies in the output field (in segments and the WAL like any field), so recovery has
/// nothing else to restore, and they are as durable as the rows themselves.
///
/// A sealed segment's postings are built from its output column at its first BM25 search and
/// kept (`BM25PostingsCache`) until the segment leaves the collection (compaction, partition
/// drop); the growing segment's are built at each search (it holds at most a flush's worth of rows).
extension CollectionEngine {
    /// The BM25 inputs of a search, computed once per call from its snapshot.
    struct BM25Query {
        /// Per query text: its distinct term ids, each weighted by its count in the text × idf.
        var terms: [[(id: UInt32, weight: Double)]]
        var averageLength: Double
        var parameters: BM25.Parameters
        /// The postings of the snapshot's sealed segments, by id, and of its growing segment.
        var sealed: [UInt64: BM25Postings]
        var growing: BM25Postings
    }

    /// The statistics and postings a BM25 search of `field` with `texts` needs, from `snap`.
    func bm25Query(_ texts: [String], field: FieldSchema, in snap: Snapshot) -> BM25Query {
        let analyzer = schema.bm25(output: field.name)!.analyzer
        let parameters = snap.indexDefinitions.first { $0.field == field.name }?.params.bm25 ?? BM25.Parameters()
        let queryTerms = texts.map { BM25.queryTerms($0, analyzer: analyzer) }
        // The distinct ids of all texts, and where each is in that list.
        var distinct = queryTerms.count == 1 ? queryTerms[0].map(\.id) : []
        var slot = [UInt32: Int]()
        if queryTerms.count > 1 {
            for list in queryTerms {
                for t in list where slot[t.id] == nil {
                    slot[t.id] = distinct.count
                    distinct.append(t.id)
                }
            }
        }
        let sealed = bm25Cache.postings(for: snap.sealed, field: field.name, indexes: snap.indexes)
        let growingRows = Self.sparseRows(of: .growing(snap.growing), field: field.name)
        let growing = growingRows.count == 0 ? BM25Postings.empty : BM25Postings(growingRows)
        var stats = BM25Statistics(terms: distinct.count)
        // Every live row of the collection: no filter, every partition.
        for entry in snap.searchable(FilterExpression(predicate: nil, text: "")) {
            switch entry.segment {
            case .sealed(let s): stats.add(sealed[s.id]!.statistics(live: entry.allowed, terms: distinct))
            case .growing where growing.rowCount > 0: stats.add(growing.statistics(live: entry.allowed, terms: distinct))
            case .growing: break
            }
        }
        let terms = queryTerms.map { list in
            list.enumerated().map { i, t -> (id: UInt32, weight: Double) in
                let df = stats.documentFrequency[queryTerms.count == 1 ? i : slot[t.id]!]
                return (id: t.id, weight: t.weight * BM25.idf(documents: stats.documents, containing: df))
            }
        }
        return BM25Query(terms: terms, averageLength: stats.averageLength, parameters: parameters, sealed: sealed, growing: growing)
    }

    /// The best `k` rows per query text over `segments` (the request's partitions and filter),
    /// best first (ties: segment, then row), scored with `query`'s collection-wide statistics.
    func bm25Candidates(_ query: BM25Query, segments: [SearchableSegment], k: Int) -> [[Candidate]] {
        var out = [[Candidate]](repeating: [], count: query.terms.count)
        for (index, entry) in segments.enumerated() where entry.count > 0 {
            let postings: BM25Postings
            switch entry.segment {
            case .sealed(let s): postings = query.sealed[s.id]!
            case .growing: postings = query.growing
            }
            for (q, terms) in query.terms.enumerated() {
                let hits = postings.topK(
                    terms: terms, parameters: query.parameters, averageLength: query.averageLength, allowed: entry.allowed, k: k)
                for hit in hits { out[q].append(Candidate(segment: index, row: hit.row, distance: hit.distance)) }
            }
        }
        return Self.best(out, k: k, higherIsBetter: true)
    }

    /// The sparse column `field` of a segment.
    static func sparseRows(of segment: SegmentRef, field: String) -> SparseRows {
        guard case .sparse(let rows)? = segment.column(field)?.storage else {
            preconditionFailure("BM25 output field '\(field)' without a sparse column")
        }
        return rows
    }
}

/// The BM25 postings of sealed segments, by segment id and field: built once per segment (a
/// sealed segment never changes), dropped when the segment is no longer in the collection.
final class BM25PostingsCache: Sendable {
    private let entries = Locked<[UInt64: [String: BM25Postings]]>([:])

    /// The postings of `field` for each of `segments`, building those not cached (without the
    /// lock, so searches of other segments go on) from the segment's `SPARSE_INVERTED_INDEX` when
    /// `indexes` has it (sharing its lists), else from its column; forgets segments not among `segments`.
    func postings(for segments: [SealedSegment], field: String, indexes: [UInt64: [String: SegmentIndex]]) -> [UInt64: BM25Postings] {
        var found = [UInt64: BM25Postings](minimumCapacity: segments.count)
        entries.withLock { cache in
            for s in segments {
                if let p = cache[s.id]?[field] { found[s.id] = p }
            }
            // Segments compacted away or dropped: only when the cache holds more than `segments`.
            if cache.count > found.count {
                let live = Set(segments.map(\.id))
                cache = cache.filter { live.contains($0.key) }
            }
        }
        guard found.count < segments.count else { return found }
        var built: [UInt64: BM25Postings] = [:]
        for s in segments where found[s.id] == nil {
            let column = CollectionEngine.sparseRows(of: .sealed(s), field: field)
            if case .sparse(let index)? = indexes[s.id]?[field], index.rowCount == column.count {
                built[s.id] = BM25Postings(column, index: index)
            } else {
                built[s.id] = BM25Postings(column)
            }
        }
        entries.withLock { cache in
            for (id, p) in built { cache[id, default: [:]][field] = p }
        }
        found.merge(built) { old, _ in old }
        return found
    }
}
