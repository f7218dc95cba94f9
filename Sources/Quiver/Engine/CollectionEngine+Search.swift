/// Exact search over every segment of a snapshot, merged into one ranking per query.
extension CollectionEngine {
    struct SearchRequest {
        var queries: [[Float]]
        var field: FieldSchema
        var limit: Int
        var offset: Int
        var filter: FilterExpression
        var fields: OutputFields
        var threads: Int
    }

    func search(_ request: SearchRequest) throws -> [[Hit]] {
        let snap = try snapshot()
        let segments = snap.matching(request.filter)
        let k = request.limit + request.offset
        let d = request.field.dataType.dimension!
        let name = request.field.name
        let higherIsBetter = metric.higherIsBetter
        // Per query: (segment index, row, distance) from every segment.
        var candidates = [[(segment: Int, row: Int, distance: Float)]](repeating: [], count: request.queries.count)
        for (index, (segment, rows)) in segments.enumerated() {
            let allowed = rows.cardinality == segment.rowCount ? nil : rows
            if allowed?.isEmpty == true || segment.rowCount == 0 { continue }
            let results: [[ScoredRow]]
            switch segment {
            case .sealed(let s):
                results = FlatScan.topK(
                    queries: request.queries, vectors: s.vectors(name), count: s.rowCount, dimension: d,
                    norms: s.norms(name), metric: metric, k: k, allowed: allowed, threads: request.threads)
            case .growing(let g):
                results = g.vectors[name]!.withUnsafeBufferPointer { vectors in
                    g.norms[name]!.withUnsafeBufferPointer { norms in
                        FlatScan.topK(
                            queries: request.queries, vectors: vectors, count: g.rowCount, dimension: d,
                            norms: norms, metric: metric, k: k, allowed: allowed, threads: request.threads)
                    }
                }
            }
            let clamp = metric == .cosine
            for (q, hits) in results.enumerated() {
                for hit in hits {
                    // Rounding can put a cosine a hair outside [-1, 1]; Milvus's range is closed.
                    let distance = clamp ? min(1, max(-1, hit.distance)) : hit.distance
                    candidates[q].append((index, hit.row, distance))
                }
            }
        }
        let pk = schema.primaryField.name
        return candidates.map { list in
            let ranked = list.sorted { a, b in
                if a.distance != b.distance { return higherIsBetter ? a.distance > b.distance : a.distance < b.distance }
                if a.segment != b.segment { return a.segment < b.segment }
                return a.row < b.row
            }
            return ranked.dropFirst(request.offset).prefix(request.limit).map { c in
                let segment = segments[c.segment].segment
                let id = segment.column(pk)!.value(at: c.row)
                return Hit(id: id, distance: c.distance, entity: segment.entity(row: c.row, fields: request.fields))
            }
        }
    }
}
