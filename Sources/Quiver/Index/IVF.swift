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

    static func build(space: VectorSpace, nlist requested: Int, quantize: Bool, iterations: Int = 12, seed: UInt64 = 0x4956_4621) -> IVFIndex {
        let n = space.count, d = space.dimension
        let nlist = effectiveLists(requested, rows: n)
        var rng = SplitMix64(seed: seed)
        // Training sample: up to 256 rows per list.
        let sampleSize = min(n, nlist * 256)
        var sample = Array(0..<n)
        if sampleSize < n {
            for i in 0..<sampleSize { sample.swapAt(i, i + Int(rng.next() % UInt64(n - i))) }
        }
        sample = Array(sample.prefix(sampleSize))
        let points = sample.flatMap { normalizedRow(space, $0) }
        var centroids = [Float]()
        var order = Array(0..<sampleSize)
        for i in 0..<nlist { order.swapAt(i, i + Int(rng.next() % UInt64(sampleSize - i))) }
        for i in 0..<nlist { centroids += points[(order[i] * d)..<(order[i] * d + d)] }
        let ip = space.metric == .ip
        var assignment = [Int](repeating: 0, count: sampleSize)
        for _ in 0..<iterations {
            points.withUnsafeBufferPointer { p in
                for i in 0..<sampleSize { assignment[i] = nearest(p.baseAddress! + i * d, centroids, nlist, d, ip: ip) }
            }
            var sums = [Float](repeating: 0, count: nlist * d)
            var counts = [Int](repeating: 0, count: nlist)
            for i in 0..<sampleSize {
                let c = assignment[i]
                counts[c] += 1
                for j in 0..<d { sums[c * d + j] += points[i * d + j] }
            }
            for c in 0..<nlist {
                if counts[c] == 0 {
                    // An empty list takes a random sample point (FAISS splits a big one; this is simpler).
                    let r = Int(rng.next() % UInt64(sampleSize))
                    for j in 0..<d { centroids[c * d + j] = points[r * d + j] }
                } else {
                    for j in 0..<d { centroids[c * d + j] = sums[c * d + j] / Float(counts[c]) }
                }
            }
        }
        // Assign every row.
        var lists = [[Int32]](repeating: [], count: nlist)
        for r in 0..<n {
            let v = normalizedRow(space, r)
            let c = v.withUnsafeBufferPointer { nearest($0.baseAddress!, centroids, nlist, d, ip: ip) }
            lists[c].append(Int32(r))
        }
        var offsets = [Int32](repeating: 0, count: nlist + 1)
        for c in 0..<nlist { offsets[c + 1] = offsets[c] + Int32(lists[c].count) }
        let ids = lists.flatMap { $0 }
        var q: ScalarQuantizer? = nil
        var codes = [UInt8]()
        if quantize {
            let sq = ScalarQuantizer(training: space)
            codes.reserveCapacity(n * d)
            for r in ids { sq.encode(space.row(Int(r)), into: &codes) }
            q = sq
        }
        return IVFIndex(count: n, dimension: d, nlist: nlist, centroids: centroids, offsets: offsets, ids: ids, quantizer: q, codes: codes)
    }

    private static func normalizedRow(_ space: VectorSpace, _ r: Int) -> [Float] {
        let p = space.row(r)
        let v = Array(UnsafeBufferPointer(start: p, count: space.dimension))
        guard space.metric == .cosine, let n = space.norms?[r], n > 0 else { return v }
        return v.map { $0 / n }
    }

    private static func nearest(_ v: UnsafePointer<Float>, _ centroids: [Float], _ nlist: Int, _ d: Int, ip: Bool) -> Int {
        centroids.withUnsafeBufferPointer { c in
            var best = 0
            var bestD = Float.infinity
            for i in 0..<nlist {
                let dist = ip ? -Kernels.dot(v, c.baseAddress! + i * d, d) : Kernels.l2Squared(v, c.baseAddress! + i * d, d)
                if dist < bestD {
                    bestD = dist
                    best = i
                }
            }
            return best
        }
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
        // The nprobe nearest centroids.
        var probe = DistanceHeap(maxFirst: true, capacity: nprobe + 1)
        q.withUnsafeBufferPointer { qp in
            centroids.withUnsafeBufferPointer { c in
                for i in 0..<nlist {
                    let dist = ip ? -Kernels.dot(qp.baseAddress!, c.baseAddress! + i * d, d)
                        : Kernels.l2Squared(qp.baseAddress!, c.baseAddress! + i * d, d)
                    if probe.count < nprobe || dist < probe.top.d {
                        probe.push(dist, Int32(i))
                        if probe.count > nprobe { probe.pop() }
                    }
                }
            }
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
                            for (_, list) in probe.items {
                                for p in Int(offsets[Int(list)])..<Int(offsets[Int(list) + 1]) {
                                    let row = ids[p]
                                    if let allowed, !allowed[Int(row)] { continue }
                                    offer(quantizer.distance(a.baseAddress!, bias: prepared.bias, scale: s.baseAddress!,
                                                             codes: codes.baseAddress! + p * d, metric: space.metric,
                                                             rowNorm: space.norms?[Int(row)] ?? 1), row)
                                }
                            }
                        }
                    }
                }
            } else {
                for (_, list) in probe.items {
                    for p in Int(offsets[Int(list)])..<Int(offsets[Int(list) + 1]) {
                        let row = ids[p]
                        if let allowed, !allowed[Int(row)] { continue }
                        offer(space.distance(qp.baseAddress!, Int(row)), row)
                    }
                }
            }
        }
        var ranked = top.items
        if quantizer != nil {
            ranked = q.withUnsafeBufferPointer { qp in ranked.map { (d: space.distance(qp.baseAddress!, Int($0.id)), id: $0.id) } }
        }
        ranked.sort { $0.d < $1.d || ($0.d == $1.d && $0.id < $1.id) }
        return ranked.prefix(k).map { ScoredRow(row: Int($0.id), distance: space.score($0.d)) }
    }
}
