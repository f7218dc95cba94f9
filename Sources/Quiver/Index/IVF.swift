/// An inverted file over the rows of one sealed segment (Jégou et al., "Product quantization for
/// nearest neighbor search", 2011, §4): k-means centroids on a sample, each row in the list of its
/// nearest centroid; a search scans the rows of the `nprobe` lists nearest the query.
///
/// IVF_FLAT scores the float rows of the segment in place; IVF_SQ8 keeps 8-bit codes in list
/// order, scores them approximately, and re-ranks the best `4 × k` with the float rows.
/// Only rows set in the `allowed` bitset are scored.
///
/// The coarse quantizer compares with squared L2 for L2 and COSINE (on normalized vectors) and
/// with inner product for IP.
final class IVFIndex: Sendable {
    let count: Int
    let dimension: Int
    let nlist: Int
    /// `nlist × dimension` floats.
    let centroids: [Float]
    /// `nlist + 1` offsets into `ids`.
    let offsets: [Int32]
    /// Row ids, list after list.
    let ids: [Int32]
    let quantizer: ScalarQuantizer?
    /// `count × dimension` codes in the order of `ids`.
    let codes: [UInt8]

    init(count: Int, dimension: Int, nlist: Int, centroids: [Float], offsets: [Int32], ids: [Int32],
         quantizer: ScalarQuantizer?, codes: [UInt8]) {
        self.count = count
        self.dimension = dimension
        self.nlist = nlist
        self.centroids = centroids
        self.offsets = offsets
        self.ids = ids
        self.quantizer = quantizer
        self.codes = codes
    }

    /// The lists actually used for `rows` rows: at most one per 39 rows (FAISS's minimum
    /// training points per centroid), at least 1.
    static func effectiveLists(_ nlist: Int, rows: Int) -> Int { max(1, min(nlist, rows / 39)) }

    // MARK: Build

    /// k-means on a sample (up to 256 rows per list, FAISS's `max_points_per_centroid`), then
    /// every row to its nearest centroid. Both steps are nearest-centroid searches for many points
    /// at once, so they run on the batched exact-search kernels (``FlatScan``, register-blocked,
    /// on `threads` workers) in chunks of ``assignChunk`` points; the result does not depend on
    /// `threads`. Once `cancel` is set, it stops after the current iteration or chunk and the
    /// index returned is incomplete.
    static func build(space: VectorSpace, nlist requested: Int, quantize: Bool, iterations: Int = 12,
                      seed: UInt64 = 0x4956_4621, threads: Int = 1, cancel: BuildCancellation? = nil) -> IVFIndex {
        let n = space.count, d = space.dimension
        let nlist = effectiveLists(requested, rows: n)
        var rng = SplitMix64(seed: seed)
        let sampleSize = min(n, nlist * 256)
        var sample = Array(0..<n)
        if sampleSize < n {
            for i in 0..<sampleSize { sample.swapAt(i, i + Int(rng.next() % UInt64(n - i))) }
        }
        let points = sample.prefix(sampleSize).map { normalizedRow(space, $0) }
        var centroids = [Float]()
        centroids.reserveCapacity(nlist * d)
        var order = Array(0..<sampleSize)
        for i in 0..<nlist { order.swapAt(i, i + Int(rng.next() % UInt64(sampleSize - i))) }
        for i in 0..<nlist { centroids += points[order[i]] }
        let metric: MetricType = space.metric == .ip ? .ip : .l2
        for _ in 0..<iterations where cancel?.isCancelled != true {
            let assignment = nearest(points, centroids: centroids, nlist: nlist, d: d, metric: metric, threads: threads)
            var sums = [Float](repeating: 0, count: nlist * d)
            var counts = [Int](repeating: 0, count: nlist)
            sums.withUnsafeMutableBufferPointer { sums in
                for (i, c) in assignment.enumerated() {
                    counts[c] += 1
                    points[i].withUnsafeBufferPointer { p in
                        let s = sums.baseAddress! + c * d
                        for j in 0..<d { s[j] += p[j] }
                    }
                }
            }
            for c in 0..<nlist {
                if counts[c] == 0 {
                    // An empty list takes a random sample point (FAISS splits a big one; this is simpler).
                    let r = Int(rng.next() % UInt64(sampleSize))
                    centroids.replaceSubrange(c * d..<(c + 1) * d, with: points[r])
                } else {
                    let inverse = 1 / Float(counts[c])
                    for j in 0..<d { centroids[c * d + j] = sums[c * d + j] * inverse }
                }
            }
        }
        // Assign every row, a chunk at a time (the chunk's rows are copied, normalized for COSINE).
        var lists = [[Int32]](repeating: [], count: nlist)
        var start = 0
        while start < n && cancel?.isCancelled != true {
            let end = min(n, start + assignChunk)
            let chunk = (start..<end).map { normalizedRow(space, $0) }
            for (i, c) in nearest(chunk, centroids: centroids, nlist: nlist, d: d, metric: metric, threads: threads).enumerated() {
                lists[c].append(Int32(start + i))
            }
            start = end
        }
        var offsets = [Int32](repeating: 0, count: nlist + 1)
        for c in 0..<nlist { offsets[c + 1] = offsets[c] + Int32(lists[c].count) }
        let ids = lists.flatMap { $0 }
        var q: ScalarQuantizer? = nil
        var codes = [UInt8]()
        if quantize && cancel?.isCancelled != true {
            let sq = ScalarQuantizer(training: space)
            codes.reserveCapacity(n * d)
            for r in ids { sq.encode(space.row(Int(r)), into: &codes) }
            q = sq
        }
        return IVFIndex(count: n, dimension: d, nlist: nlist, centroids: centroids, offsets: offsets, ids: ids, quantizer: q, codes: codes)
    }

    /// Points per call of the batched kernels while building.
    static let assignChunk = 8192

    private static func normalizedRow(_ space: VectorSpace, _ r: Int) -> [Float] {
        let p = space.row(r)
        let v = Array(UnsafeBufferPointer(start: p, count: space.dimension))
        guard space.metric == .cosine, let n = space.norms?[r], n > 0 else { return v }
        return v.map { $0 / n }
    }

    /// The nearest centroid of each point (largest inner product for `.ip`, smallest squared L2
    /// otherwise; ties to the lower centroid), `assignChunk` points per batched scan.
    private static func nearest(_ points: [[Float]], centroids: [Float], nlist: Int, d: Int, metric: MetricType,
                                threads: Int) -> [Int] {
        var out = [Int]()
        out.reserveCapacity(points.count)
        centroids.withUnsafeBufferPointer { c in
            var start = 0
            while start < points.count {
                let end = min(points.count, start + assignChunk)
                let best = FlatScan.topK(
                    queries: Array(points[start..<end]), vectors: c, count: nlist, dimension: d, norms: nil,
                    metric: metric, k: 1, allowed: nil, threads: threads)
                out += best.map { $0.first?.row ?? 0 }
                start = end
            }
        }
        return out
    }

    // MARK: Search

    /// The best `k` allowed rows for `query` in the `nprobe` nearest lists, best first.
    func search(_ query: [Float], space: VectorSpace, k: Int, nprobe requested: Int, allowed: Bitset?) -> [ScoredRow] {
        guard count > 0, k > 0 else { return [] }
        precondition(space.count == count && space.dimension == dimension)
        let d = dimension
        let q = space.prepare(query)
        let nprobe = min(requested, nlist)
        let ip = space.metric == .ip
        // The nprobe nearest centroids: one exact scan of the centroid table on the blocked
        // single-query kernel (ties to the lower list).
        let probes = centroids.withUnsafeBufferPointer { c in
            FlatScan.topK(queries: [q], vectors: c, count: nlist, dimension: d, norms: nil,
                          metric: ip ? .ip : .l2, k: nprobe, allowed: nil, threads: 1)[0]
        }
        let keep = quantizer == nil ? k : max(4 * k, k + 16)
        var top = DistanceHeap(maxFirst: true, capacity: keep + 1)
        func offer(_ dist: Float, _ row: Int32) {
            if top.count < keep || dist < top.top.d || (dist == top.top.d && row < top.top.id) {
                top.push(dist, row)
                if top.count > keep { top.pop() }
            }
        }
        q.withUnsafeBufferPointer { qp in
            if let quantizer {
                let prepared = quantizer.prepare(q, metric: space.metric)
                prepared.a.withUnsafeBufferPointer { a in
                    quantizer.scale.withUnsafeBufferPointer { s in
                        codes.withUnsafeBufferPointer { codes in
                            for list in probes.map(\.row) {
                                for p in Int(offsets[Int(list)])..<Int(offsets[Int(list) + 1]) {
                                    let row = ids[p]
                                    if let allowed, !allowed[Int(row)] { continue }
                                    space.ensure(Int(row))  // its norm is read
                                    offer(quantizer.distance(a.baseAddress!, bias: prepared.bias, scale: s.baseAddress!,
                                                             codes: codes.baseAddress! + p * d, metric: space.metric,
                                                             rowNorm: space.norms?[Int(row)] ?? 1), row)
                                }
                            }
                        }
                    }
                }
            } else {
                // A list's rows are scattered over the segment: each is prefetched two rows
                // before its distance (IVF_SQ8's codes, by contrast, are stored in list order).
                ids.withUnsafeBufferPointer { ids in
                    for list in probes.map(\.row) {
                        let first = Int(offsets[Int(list)]), end = Int(offsets[Int(list) + 1])
                        // Rows the filter excludes are not fetched.
                        func fetch(_ p: Int) {
                            let row = Int(ids[p])
                            if allowed?[row] ?? true { space.prefetch(row) }
                        }
                        for p in first..<min(end, first + 2) { fetch(p) }
                        for p in first..<end {
                            if p + 2 < end { fetch(p + 2) }
                            let row = ids[p]
                            if let allowed, !allowed[Int(row)] { continue }
                            offer(space.distance(qp.baseAddress!, Int(row)), row)
                        }
                    }
                }
            }
        }
        var ranked = top.items
        if quantizer != nil {
            // The re-ranked rows are scattered: ask for all of them before the first distance.
            for item in ranked { space.prefetch(Int(item.id)) }
            ranked = q.withUnsafeBufferPointer { qp in ranked.map { (d: space.distance(qp.baseAddress!, Int($0.id)), id: $0.id) } }
        }
        ranked.sort { $0.d < $1.d || ($0.d == $1.d && $0.id < $1.id) }
        return ranked.prefix(k).map { ScoredRow(row: Int($0.id), distance: space.score($0.d)) }
    }
}
