import Testing
@testable @_spi(Benchmarks) import Quiver

@Suite struct KernelFlatScanTests {
    struct Segment {
        var vectors: [Float]
        var norms: [Float]
        var count: Int
        var dimension: Int

        init(count: Int, dimension: Int, rng: inout SeededRandom, integers: Bool) {
            self.count = count
            self.dimension = dimension
            var v = integers ? rng.smallInts(count * dimension) : rng.floats(count * dimension)
            // A zero row exercises cosine's zero-norm rule.
            if count > 5 { for j in 0..<dimension { v[5 * dimension + j] = 0 } }
            vectors = v
            norms = (0..<count).map { r in
                v.withUnsafeBufferPointer { Kernels.norm($0.baseAddress! + r * dimension, dimension) }
            }
        }

        func row(_ r: Int) -> [Float] { Array(vectors[r * dimension..<(r + 1) * dimension]) }

        func search(
            _ queries: [[Float]], metric: MetricType, k: Int, allowed: Bitset? = nil, threads: Int,
            radius: Float? = nil, rangeFilter: Float? = nil, kernels: Kernels.Table = .selected
        ) -> [[ScoredRow]] {
            vectors.withUnsafeBufferPointer { v in
                norms.withUnsafeBufferPointer { n in
                    FlatScan.topK(
                        queries: queries, vectors: v, count: count, dimension: dimension, norms: n,
                        metric: metric, k: k, allowed: allowed, threads: threads,
                        radius: radius, rangeFilter: rangeFilter, minimumParallelWork: 0, kernels: kernels)
                }
            }
        }

        /// Brute force over exact scores (valid for integer data, where float32 is exact).
        func model(
            _ query: [Float], metric: MetricType, k: Int, allowed: Bitset? = nil,
            radius: Float? = nil, rangeFilter: Float? = nil
        ) -> [ScoredRow] {
            let qn = query.withUnsafeBufferPointer { Kernels.norm($0.baseAddress!, dimension) }
            var all = [ScoredRow]()
            for r in 0..<count where allowed?[r] ?? true {
                let d: Float
                switch metric {
                case .ip: d = Float(Reference.dot(query, row(r)))
                case .l2: d = Float(Reference.l2(query, row(r)))
                case .cosine: d = Kernels.cosine(dot: Float(Reference.dot(query, row(r))), qn, norms[r])
                case .hamming, .jaccard: preconditionFailure("not a float metric")
                }
                if metric.higherIsBetter {
                    if let radius, !(d > radius) { continue }
                    if let rangeFilter, !(d <= rangeFilter) { continue }
                } else {
                    if let radius, !(d < radius) { continue }
                    if let rangeFilter, !(d >= rangeFilter) { continue }
                }
                all.append(ScoredRow(row: r, distance: d))
            }
            all.sort { TopK.ranksBefore($0, $1, higherIsBetter: metric.higherIsBetter) }
            return Array(all.prefix(k))
        }
    }

    static func bitsets(count: Int, rng: inout SeededRandom) -> [(String, Bitset?)] {
        var dense = Bitset(count: count), sparse = Bitset(count: count), blocks = Bitset(count: count)
        for r in 0..<count {
            dense[r] = Int.random(in: 0..<10, using: &rng) < 8
            sparse[r] = Int.random(in: 0..<100, using: &rng) < 3
            blocks[r] = (r / 64) % 3 == 1
        }
        return [("nil", nil), ("all", Bitset(count: count, allSet: true)), ("dense", dense), ("sparse", sparse),
                ("blocks", blocks), ("none", Bitset(count: count))]
    }

    @Test(arguments: [MetricType.l2, .ip, .cosine], [1, 2, 3])
    func matchesBruteForce(metric: MetricType, threads: Int) {
        // (count, dimension, queries): sizes on both sides of the threading cut-off, query split
        // (many queries) and row split (few queries), both kernels (unpacked below 12 queries,
        // packed from 12), dimensions with tails.
        for (count, d, nq) in [(1, 3, 1), (70, 7, 3), (300, 17, 5), (700, 100, 7), (400, 9, 13), (500, 31, 40)] {
            let seed = UInt64(count * 1000 + d)
            var rng = SeededRandom(seed: seed)
            let seg = Segment(count: count, dimension: d, rng: &rng, integers: true)
            let queries = (0..<nq).map { _ in rng.smallInts(d) }
            for (name, allowed) in Self.bitsets(count: count, rng: &rng) {
                let models = queries.map { seg.model($0, metric: metric, k: 50, allowed: allowed) }
                // Integer data: every level's kernels are exact, so every level must match.
                for k in [1, 10, 50] {
                  for kernels in Kernels.Table.supported {
                    let got = seg.search(queries, metric: metric, k: k, allowed: allowed, threads: threads, kernels: kernels)
                    for q in 0..<nq {
                        #expect(got[q] == Array(models[q].prefix(k)), "seed \(seed) count \(count) d \(d) allowed \(name) k \(k) q \(q) \(kernels)")
                    }
                  }
                }
            }
        }
    }

    @Test(arguments: [MetricType.l2, .ip, .cosine], [1, 2])
    func rangeSearchKeepsOnlyRowsInRange(metric: MetricType, threads: Int) {
        let seed: UInt64 = 77
        var rng = SeededRandom(seed: seed)
        let seg = Segment(count: 600, dimension: 33, rng: &rng, integers: true)
        // 13 queries: the packed batch kernel; the first 3 alone: the unpacked kernel.
        let queries = (0..<13).map { _ in rng.smallInts(33) }
        // Bounds from the score distribution of the first query.
        let scores = seg.model(queries[0], metric: metric, k: seg.count).map(\.distance)
        let sorted = scores.sorted()
        let a = sorted[sorted.count / 4], b = sorted[sorted.count * 3 / 4]
        let bounds: [(Float?, Float?)] = metric.higherIsBetter
            ? [(a, nil), (nil, b), (a, b), (b, a)]  // (radius, rangeFilter): radius < d ≤ rangeFilter
            : [(b, nil), (nil, a), (b, a), (a, b)]  // rangeFilter ≤ d < radius
        for (radius, rangeFilter) in bounds {
            for k in [5, 10_000] {
                let got = seg.search(queries, metric: metric, k: k, threads: threads, radius: radius, rangeFilter: rangeFilter)
                    + seg.search(Array(queries[0..<3]), metric: metric, k: k, threads: threads, radius: radius, rangeFilter: rangeFilter)
                for q in 0..<got.count {
                    let query = queries[q < queries.count ? q : q - queries.count]
                    let want = seg.model(query, metric: metric, k: k, radius: radius, rangeFilter: rangeFilter)
                    #expect(got[q] == want, "seed \(seed) radius \(String(describing: radius)) filter \(String(describing: rangeFilter)) k \(k)")
                }
            }
        }
    }

    /// A batch gives the same results as the same queries one at a time: bit-identical across
    /// thread counts and across batch sizes on the same kernel; between the single-query kernel
    /// and the packed batch kernel the same rows with scores equal up to rounding (random
    /// non-integer data, so rounding would show). For every instruction-set level the CPU runs.
    @Test(arguments: [MetricType.l2, .ip, .cosine], Kernels.Table.supported)
    func batchEqualsSingleQueries(metric: MetricType, kernels: Kernels.Table) {
        for d in [15, 128] {
            let seed = UInt64(d) &+ 3
            var rng = SeededRandom(seed: seed)
            let seg = Segment(count: 700, dimension: d, rng: &rng, integers: false)
            let queries = (0..<21).map { _ in rng.floats(d) }
            var allowed = Bitset(count: seg.count)
            for r in 0..<seg.count { allowed[r] = r % 7 != 0 }
            for bits in [nil, allowed] {
                let batch1 = seg.search(queries, metric: metric, k: 10, allowed: bits, threads: 1, kernels: kernels)
                let batch2 = seg.search(queries, metric: metric, k: 10, allowed: bits, threads: 2, kernels: kernels)
                #expect(batch1 == batch2, "seed \(seed)")
                // Sub-batches on the panel kernel (≥ 12 queries) agree bit for bit.
                let sub = seg.search(Array(queries[3..<16]), metric: metric, k: 10, allowed: bits, threads: 2, kernels: kernels)
                #expect(sub == Array(batch1[3..<16]), "seed \(seed)")
                // Groups of four on the unpacked kernel (4×2) agree with single queries bit for bit.
                let small = seg.search(Array(queries[0..<5]), metric: metric, k: 10, allowed: bits, threads: 1, kernels: kernels)
                for (q, query) in queries.enumerated() {
                    let single1 = seg.search([query], metric: metric, k: 10, allowed: bits, threads: 1, kernels: kernels)[0]
                    let single2 = seg.search([query], metric: metric, k: 10, allowed: bits, threads: 2, kernels: kernels)[0]
                    #expect(single1 == single2, "seed \(seed) q \(q)")
                    if q < 5 { #expect(single1 == small[q], "seed \(seed) q \(q)") }
                    #expect(single1.map(\.row) == batch1[q].map(\.row), "seed \(seed) q \(q)")
                    for (a, b) in zip(single1, batch1[q]) {
                        #expect(abs(a.distance - b.distance) <= 1e-5 * max(1, abs(a.distance)), "seed \(seed) q \(q)")
                    }
                }
            }
        }
    }

    /// The batch kernel computes L2 as ‖q‖² + ‖r‖² − 2q·r; a stored row used as a query must
    /// still come first at distance exactly 0, and near rows keep their order and distances.
    @Test func batchL2OfStoredRowsIsExactlyZero() {
        var rng = SeededRandom(seed: 91)
        let d = 96
        var seg = Segment(count: 500, dimension: d, rng: &rng, integers: false)
        for j in 0..<d { seg.vectors[7 * d + j] = seg.vectors[3 * d + j] + 1e-3 }  // row 7 ≈ row 3
        seg.norms[7] = seg.vectors.withUnsafeBufferPointer { Kernels.norm($0.baseAddress! + 7 * d, d) }
        let queries = (0..<20).map { seg.row($0 * 11 % seg.count) } + [seg.row(3)]
        let batch = seg.search(queries, metric: .l2, k: 3, threads: 2)
        for (i, query) in queries.enumerated() {
            let r = i < 20 ? i * 11 % seg.count : 3
            #expect(batch[i][0] == ScoredRow(row: r, distance: 0))
            let single = seg.search([query], metric: .l2, k: 3, threads: 1)[0]
            #expect(single.map(\.row) == batch[i].map(\.row))
        }
        // Row 7 is 1e-3 away in every dimension: squared distance 96e-6, within float rounding of the norms.
        #expect(batch[20][1].row == 7)
        #expect(abs(batch[20][1].distance - Float(d) * 1e-6) < 2e-5)
    }

    @Test func emptyInputs() {
        var rng = SeededRandom(seed: 1)
        let seg = Segment(count: 10, dimension: 4, rng: &rng, integers: true)
        #expect(seg.search([], metric: .ip, k: 3, threads: 1).isEmpty)
        #expect(seg.search([[1, 2, 3, 4]], metric: .ip, k: 0, threads: 1) == [[]])
        let empty = Segment(count: 0, dimension: 4, rng: &rng, integers: true)
        #expect(empty.search([[1, 2, 3, 4]], metric: .l2, k: 3, threads: 2) == [[]])
    }
}
