import Dispatch
import Foundation
import Synchronization

/// Exact (brute-force) scoring of query vectors against the vectors of one segment.
///
/// The scan reads `vectors` in place (for sealed segments, straight from the segment file's
/// bytes) in blocks of 64 rows, one allowed-bitset word per block: a zero word skips the block,
/// a sparse word scores only its rows. Each block is scored for a group of queries with
/// ``Kernels/scoreBlock(queries:queryCount:queryStride:rows:rowCount:dimension:l2:out:outStride:table:)``
/// into a small tile; the tile is compared in SIMD against each query's current top-k threshold
/// and only the rows that can enter reach the heap.
///
/// Work is spread over `threads` workers with `DispatchQueue.concurrentPerform`: with few queries
/// the rows are cut into chunks, with many queries the queries are; workers take chunks from a
/// shared counter and per-worker top-k lists are merged at the end. Results do not depend on the
/// thread count.
@_spi(Benchmarks) public enum FlatScan {
    /// The default `threads`: every core.
    public static var defaultThreads: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// The best `k` rows for each query among the rows set in `allowed` (all rows when `nil`),
    /// best first, ties broken by the lower row.
    ///
    /// With `radius` and/or `rangeFilter` (range search, Milvus semantics) only rows in range are
    /// kept: for L2 `rangeFilter ≤ d < radius`, for IP and COSINE `radius < d ≤ rangeFilter`;
    /// the best `k` of those are returned.
    ///
    /// - Parameters:
    ///   - vectors: `count × dimension` floats, row-major; read in place, never copied.
    ///   - norms: the Euclidean norm of each row (needed for cosine; ignored otherwise).
    ///   - allowed: rows that may be returned; must cover at least `count` rows.
    ///   - threads: how many threads may be used (1 = the calling thread only).
    ///   - minimumParallelWork: below this many multiply-adds (queries × count × dimension)
    ///     the scan stays on the calling thread.
    ///   - kernels: the instruction-set level's kernels (the selected one; tests pass others).
    /// - Complexity: O(queries × count × dimension) time; O(queries × (k + 64)) extra memory.
    public static func topK(
        queries: [[Float]], vectors: UnsafeBufferPointer<Float>, count: Int, dimension: Int,
        norms: UnsafeBufferPointer<Float>?, metric: MetricType, k: Int, allowed: Bitset?, threads: Int,
        radius: Float? = nil, rangeFilter: Float? = nil, minimumParallelWork: Int = 1 << 21,
        kernels: Kernels.Table = .selected
    ) -> [[ScoredRow]] {
        precondition(vectors.count >= count * dimension)
        guard let base = vectors.baseAddress else { return Array(repeating: [], count: queries.count) }
        return topK(
            queries: queries, rows: .float32(base), count: count, dimension: dimension, norms: norms, metric: metric,
            k: k, allowed: allowed, threads: threads, radius: radius, rangeFilter: rangeFilter,
            minimumParallelWork: minimumParallelWork, kernels: kernels)
    }

    /// ``topK(queries:vectors:count:dimension:norms:metric:k:allowed:threads:radius:rangeFilter:minimumParallelWork:)``
    /// over rows stored as 16-bit floats (float16 or bfloat16 bit patterns, `count × dimension`).
    ///
    /// Each block of 64 rows is widened to float32 into a per-worker buffer (one `vcvtph2ps` per
    /// eight values with F16C) and scored by the float32 kernels, so a half-precision scan reads
    /// half the bytes of a float32 one and otherwise does the same work.
    public static func topK(
        queries: [[Float]], halfVectors: UnsafeBufferPointer<UInt16>, format: Kernels.HalfFormat, count: Int, dimension: Int,
        norms: UnsafeBufferPointer<Float>?, metric: MetricType, k: Int, allowed: Bitset?, threads: Int,
        radius: Float? = nil, rangeFilter: Float? = nil, minimumParallelWork: Int = 1 << 21,
        kernels: Kernels.Table = .selected
    ) -> [[ScoredRow]] {
        precondition(halfVectors.count >= count * dimension)
        guard let base = halfVectors.baseAddress else { return Array(repeating: [], count: queries.count) }
        return topK(
            queries: queries, rows: .half(base, format), count: count, dimension: dimension, norms: norms, metric: metric,
            k: k, allowed: allowed, threads: threads, radius: radius, rangeFilter: rangeFilter,
            minimumParallelWork: minimumParallelWork, kernels: kernels)
    }

    static func topK(
        queries: [[Float]], rows: StoredRows, count: Int, dimension: Int,
        norms: UnsafeBufferPointer<Float>?, metric: MetricType, k: Int, allowed: Bitset?, threads: Int,
        radius: Float?, rangeFilter: Float?, minimumParallelWork: Int, kernels: Kernels.Table
    ) -> [[ScoredRow]] {
        let nq = queries.count
        guard nq > 0 else { return [] }
        precondition(dimension > 0)
        precondition(metric == .ip || metric == .l2 || metric == .cosine, "FlatScan scores float vectors (IP, L2, COSINE)")
        precondition(metric != .cosine || (norms?.count ?? 0) >= count, "cosine needs the row norms")
        precondition(allowed == nil || allowed!.count >= count)
        guard count > 0, k > 0 else { return Array(repeating: [], count: nq) }
        let k = min(k, count)  // heaps reserve k entries; never more than the segment has rows

        let dp = Kernels.paddedDimension(dimension)
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: nq * dp)
        packed.initialize(repeating: 0, count: nq * dp)
        defer { packed.deallocate() }
        let usePanels = nq >= Scan.minimumPanelBatch
        // Cosine needs each query's norm; L2 on the panel kernel its squared norm (see `Scan`).
        let needsNorms = metric == .cosine || (metric == .l2 && usePanels)
        var queryNorms = [Float](repeating: 0, count: needsNorms ? nq : 0)
        for (i, q) in queries.enumerated() {
            precondition(q.count == dimension, "query dimension \(q.count) ≠ \(dimension)")
            q.withUnsafeBufferPointer { src in
                (packed + i * dp).update(from: src.baseAddress!, count: dimension)
                if metric == .cosine { queryNorms[i] = Kernels.norm(src.baseAddress!, dimension, table: kernels) }
            }
            if metric == .l2 && usePanels { queryNorms[i] = Kernels.squaredNormSequential(packed + i * dp, dimension, table: kernels) }
        }

        let higher = metric.higherIsBetter
        // Bounds of the accepted scores: higher is better → lower < d ≤ upper; else lower ≤ d < upper.
        let lower: Float, upper: Float
        if higher {
            lower = radius ?? -.infinity
            upper = rangeFilter ?? .infinity
        } else {
            lower = rangeFilter ?? -.infinity
            upper = radius ?? .infinity
        }

        return queryNorms.withUnsafeBufferPointer { qn in
            withOptionalWords(allowed) { words in
                let scan = Scan(
                    queries: UnsafePointer(packed), queryStride: dp, queryNorms: qn.baseAddress,
                    rows: rows, count: count, dimension: dimension, rowNorms: norms?.baseAddress,
                    metric: metric, k: k, allowedWords: words, lower: lower, upper: upper,
                    usePanels: usePanels, kernels: kernels)
                return scan.run(queryCount: nq, threads: max(1, threads), minimumParallelWork: minimumParallelWork)
            }
        }
    }

    static func withOptionalWords<R>(_ b: Bitset?, _ body: (UnsafePointer<UInt64>?) -> R) -> R {
        guard let b else { return body(nil) }
        return b.words.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

/// Where a scan reads the stored rows: float32 in place, or 16-bit floats widened per block.
enum StoredRows {
    case float32(UnsafePointer<Float>)
    case half(UnsafePointer<UInt16>, Kernels.HalfFormat)
}

/// One scan over a segment; holds only pointers that outlive `run`.
@usableFromInline struct Scan: @unchecked Sendable {
    // @unchecked: the pointers are read-only during `run`, which returns only after every worker
    // has finished (concurrentPerform is synchronous); each worker writes only its own slot.
    let queries: UnsafePointer<Float>
    let queryStride: Int
    let queryNorms: UnsafePointer<Float>?
    let rows: StoredRows
    let count: Int
    let dimension: Int
    let rowNorms: UnsafePointer<Float>?
    let metric: MetricType
    let k: Int
    let allowedWords: UnsafePointer<UInt64>?
    let lower: Float
    let upper: Float
    /// Batches of at least ``minimumPanelBatch`` queries use the packed panel kernel (the
    /// packing is shared by the batch); smaller ones the unpacked kernel, which is as fast as
    /// memory for a single query. The two sum in different orders, so a query's scores can
    /// differ in the last bits between the two (never between thread counts).
    ///
    /// On the panel kernel L2 is computed as FAISS and BLAS-based libraries do it for batches,
    /// `‖q‖² + ‖r‖² − 2 q·r` (clamped at 0), from the dot-product kernel: one multiply-add per
    /// dimension instead of a subtraction and a multiply-add, about 20% more queries per second.
    /// The squared norms are sums in the same order as the dot products, so data whose products
    /// are exact (small integers) gets exact distances; otherwise the expansion loses relative
    /// precision for rows very close to the query (distance ≪ norms), which only reorders rows
    /// whose distances agree to about 1e-6 of the norms.
    let usePanels: Bool
    /// The kernels of one instruction-set level (the selected one outside tests).
    let kernels: Kernels.Table

    static let blockRows = 64
    /// How many blocks ahead of the scan 16-bit rows are prefetched.
    static let prefetchBlocks = 2
    /// Measured on 1M × 128 (one thread, CPU time): packing costs about as much as 6 extra
    /// queries on the unpacked kernel, so the two cross near 10–12 queries.
    static let minimumPanelBatch = 12

    func run(queryCount nq: Int, threads: Int, minimumParallelWork: Int) -> [[ScoredRow]] {
        let work = Double(nq) * Double(count) * Double(dimension)
        let t = work < Double(minimumParallelWork) ? 1 : threads
        let higher = metric.higherIsBetter

        if t == 1 {
            var tops = [TopK](repeating: TopK(k: k, higherIsBetter: higher), count: nq)
            scan(queries: 0..<nq, rows: 0..<count, into: &tops)
            return tops.map { $0.sorted() }
        }

        if nq >= 8 * t {
            // Many queries: chunks of queries, each scanned over all rows by one worker.
            let chunk = min(512, max(4, (nq + 2 * t - 1) / (2 * t)))
            let chunks = (nq + chunk - 1) / chunk
            let results = WorkerSlots<TopK>(capacity: nq)
            defer { results.deallocate() }
            let next = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: t) { _ in
                while true {
                    let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if c >= chunks { break }
                    let qr = c * chunk..<min(nq, (c + 1) * chunk)
                    var tops = [TopK](repeating: TopK(k: k, higherIsBetter: higher), count: qr.count)
                    scan(queries: qr, rows: 0..<count, into: &tops)
                    for (i, top) in tops.enumerated() { (results.base + qr.lowerBound + i).initialize(to: top) }
                }
            }
            defer { results.base.deinitialize(count: nq) }
            return (0..<nq).map { results.base[$0].sorted() }
        }

        // Few queries: chunks of rows (multiples of 64, so bitset words stay aligned).
        let rowChunk = max(minimumParallelWork == 0 ? 64 : 4096, ((count / (8 * t)) + 63) & ~63)
        let chunks = (count + rowChunk - 1) / rowChunk
        let perWorker = WorkerSlots<[TopK]>(capacity: t)
        perWorker.base.initialize(repeating: [], count: t)
        defer { perWorker.base.deinitialize(count: t); perWorker.deallocate() }
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: t) { w in
            var tops = [TopK](repeating: TopK(k: k, higherIsBetter: higher), count: nq)
            while true {
                let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if c >= chunks { break }
                scan(queries: 0..<nq, rows: c * rowChunk..<min(count, (c + 1) * rowChunk), into: &tops)
            }
            perWorker.base[w] = tops
        }
        var merged = perWorker.base[0]
        for w in 1..<t {
            for q in 0..<nq { merged[q].merge(perWorker.base[w][q]) }
        }
        return merged.map { $0.sorted() }
    }

    /// Scans `rows` (lower bound a multiple of 64) for the queries `queries`; `tops[i]` belongs
    /// to query `queries.lowerBound + i`. Rows must be visited in increasing order per heap.
    func scan(queries qr: Range<Int>, rows rr: Range<Int>, into tops: inout [TopK]) {
        precondition(rr.lowerBound & 63 == 0)
        let nq = qr.count
        let bs = Scan.blockRows
        let d = dimension
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: nq * bs)
        defer { tile.deallocate() }
        let panelBytes = usePanels ? bs * d * MemoryLayout<Float>.stride : 64
        let panels = UnsafeMutableRawPointer.allocate(byteCount: panelBytes, alignment: 64)
            .bindMemory(to: Float.self, capacity: bs * d)
        defer { panels.deallocate() }
        // The panel path scores L2 from dot products and squared norms (see `usePanels`).
        let expandL2 = usePanels && metric == .l2
        let l2 = metric == .l2 && !expandL2
        // Half-precision rows are widened one block at a time into `widened`.
        var widened: UnsafeMutablePointer<Float>? = nil
        if case .half = rows, usePanels { widened = .allocate(capacity: bs * d) }
        defer { widened?.deallocate() }
        let rowSquares = UnsafeMutablePointer<Float>.allocate(capacity: bs)
        rowSquares.initialize(repeating: 0, count: bs)
        defer { rowSquares.deallocate() }
        let q0 = queries + qr.lowerBound * queryStride
        var s = rr.lowerBound
        tops.withUnsafeMutableBufferPointer { tops in
            while s < rr.upperBound {
                let n = min(bs, rr.upperBound - s)
                var mask: UInt64 = n == 64 ? ~0 : (1 << UInt64(n)) &- 1
                if let w = allowedWords { mask &= w[s >> 6] }
                // 16-bit rows are fetched two blocks ahead: the widening costs more instructions
                // per byte than a float32 scan, so the out-of-order window alone covers fewer
                // bytes in flight and the scan falls short of memory bandwidth (13.4 → 11.6 ms
                // for one query over 1M × 128 float16; float32 scans measured no gain).
                if case .half(let h, _) = rows, !usePanels {
                    let ahead = s + Scan.prefetchBlocks * bs
                    if ahead < rr.upperBound && (allowedWords.map { $0[ahead >> 6] != 0 } ?? true) {
                        prefetchLines(h + ahead * d, bytes: min(bs, rr.upperBound - ahead) * d * 2)
                    }
                }
                if mask != 0 {
                    // Rows [s + j, s + j + m) scored by the unpacked kernels into tile column j;
                    // half-precision rows are widened inside the kernel (no copy).
                    func unpacked(_ j: Int, _ m: Int) {
                        switch rows {
                        case .float32(let vectors):
                            Kernels.scoreBlock(
                                queries: q0, queryCount: nq, queryStride: queryStride, rows: vectors + (s + j) * d,
                                rowCount: m, dimension: d, l2: l2, out: tile + j, outStride: bs, table: kernels)
                        case .half(let h, let format):
                            Kernels.scoreBlock(
                                queries: q0, queryCount: nq, queryStride: queryStride, halfRows: h + (s + j) * d, format: format,
                                rowCount: m, dimension: d, l2: l2, out: tile + j, outStride: bs, table: kernels)
                        }
                    }
                    // The panel kernels read float32 rows: half-precision blocks are widened first.
                    var block: UnsafePointer<Float>? = nil
                    if usePanels {
                        switch rows {
                        case .float32(let vectors): block = vectors + s * d
                        case .half(let h, let format):
                            Kernels.widen(h + s * d, count: n * d, format, into: widened!, table: kernels)
                            block = UnsafePointer(widened!)
                        }
                    }
                    if mask.nonzeroBitCount >= 12 {
                        if let block {
                            Kernels.packPanels(rows: block, rowCount: n, dimension: d, out: panels, table: kernels)
                            if expandL2 {
                                Kernels.squaredNormsOfPanels(panels, panelCount: (n + 7) / 8, dimension: d, out: rowSquares, table: kernels)
                            }
                            Kernels.scorePanels(
                                queries: q0, queryCount: nq, queryStride: queryStride, panels: panels,
                                panelCount: (n + 7) / 8, dimension: d, l2: l2, out: tile, outStride: bs, table: kernels)
                        } else {
                            unpacked(0, n)
                        }
                    } else {
                        var bits = mask
                        while bits != 0 {
                            let j = bits.trailingZeroBitCount
                            bits &= bits &- 1
                            if let block {
                                let row = block + j * d
                                if expandL2 { rowSquares[j] = Kernels.squaredNormSequential(row, d, table: kernels) }
                                for i in 0..<nq {
                                    tile[i * bs + j] = Kernels.scoreRowSequential(q0 + i * queryStride, row, d, l2: l2, table: kernels)
                                }
                            } else {
                                unpacked(j, 1)
                            }
                        }
                    }
                    for i in 0..<nq {
                        if expandL2 { expand(tile + i * bs, n, queryNorms![qr.lowerBound + i], rowSquares) }
                        offer(tile + i * bs, n, firstRow: s, mask: mask, query: qr.lowerBound + i, into: &tops[i])
                    }
                }
                s += n
            }
        }
    }

    /// Turns `n` dot products into squared L2 distances: `max(0, qq + rr[j] − 2·dot)`.
    @inline(__always)
    func expand(_ scores: UnsafeMutablePointer<Float>, _ n: Int, _ qq: Float, _ rr: UnsafePointer<Float>) {
        Kernels.expandL2(scores, n, querySquare: qq, rowSquares: rr)
    }

    /// Offers the `n` scores at `scores` (rows `firstRow...`, those whose bit is set in `mask`).
    /// The candidates are chosen in C against the threshold at the start of the block (a debug
    /// build's Swift would spend most of a batch here); `push` rejects those a row pushed
    /// earlier in the block has since shut out, as a per-row threshold would.
    @inline(__always)
    func offer(
        _ scores: UnsafeMutablePointer<Float>, _ n: Int, firstRow: Int, mask: UInt64, query: Int,
        into top: inout TopK
    ) {
        if metric == .cosine, let rowNorms, let queryNorms {
            let qn = queryNorms[query]
            var j = 0
            while j + 8 <= n {
                let s = Kernels.cosine(dot: Kernels.load8(scores + j), qn, Kernels.load8(rowNorms + firstRow + j))
                UnsafeMutableRawPointer(scores + j).storeBytes(of: s, as: SIMD8<Float>.self)
                j += 8
            }
            while j < n {
                scores[j] = Kernels.cosine(dot: scores[j], qn, rowNorms[firstRow + j])
                j += 1
            }
        }
        let higher = metric.higherIsBetter
        var bits = Kernels.selectScores(
            scores, n, higherIsBetter: higher, lower: higher ? Swift.max(top.threshold, lower) : lower,
            upper: higher ? upper : Swift.min(top.threshold, upper), mask: mask)
        while bits != 0 {
            let j = bits.trailingZeroBitCount
            bits &= bits &- 1
            top.push(row: firstRow + j, distance: scores[j])
        }
    }
}

/// Memory that concurrent workers write, each only its own disjoint slots.
struct WorkerSlots<Element>: @unchecked Sendable {
    // @unchecked: workers write disjoint elements; the owner reads only after concurrentPerform
    // returns, which orders every worker's writes before the read.
    let base: UnsafeMutablePointer<Element>
    init(capacity: Int) { base = .allocate(capacity: capacity) }
    func deallocate() { base.deallocate() }

    /// `body(i)` for every `i` in `0..<count`, on up to `workers` threads, each worker taking
    /// the next index not taken yet (so items of uneven cost stay balanced); the results in
    /// index order. One worker, or one item, runs on the caller's thread. `body` runs
    /// concurrently with itself: it may only read what nothing changes during the call.
    static func map(_ count: Int, workers: Int, _ body: (Int) -> Element) -> [Element] {
        guard count > 1, workers > 1 else { return (0..<count).map(body) }
        let slots = WorkerSlots(capacity: count)
        defer { slots.deallocate() }
        let next = Atomic<Int>(0)
        withoutActuallyEscaping(body) { body in
            // @unchecked (UncheckedBox): see the contract above; each index is taken by one
            // worker, which initializes that slot only.
            let work = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: min(workers, count)) { _ in
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard i < count else { return }
                    (slots.base + i).initialize(to: work.value(i))
                }
            }
        }
        return (0..<count).map { (slots.base + $0).move() }
    }
}

extension Kernels {
    /// Cosine similarities from eight dot products and norms (see ``cosine(dot:_:_:)``).
    @inlinable @inline(__always)
    public static func cosine(dot: SIMD8<Float>, _ normA: Float, _ normB: SIMD8<Float>) -> SIMD8<Float> {
        cosine(dot: dot, SIMD8(repeating: normA), normB)
    }

    /// Cosine similarities from eight dot products and eight pairs of norms.
    @inlinable @inline(__always)
    public static func cosine(dot: SIMD8<Float>, _ normA: SIMD8<Float>, _ normB: SIMD8<Float>) -> SIMD8<Float> {
        // Comparisons and blends rather than `clamped(lowerBound:upperBound:)`, which the
        // compiler leaves as two out-of-line calls per eight scores (a third of the batch time).
        let d = normA * normB
        var s = dot / d
        s.replace(with: 1, where: s .> 1)
        s.replace(with: -1, where: s .< -1)
        s.replace(with: 0, where: .!(d .> 0))
        return s
    }
}
