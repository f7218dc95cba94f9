internal import CQuiverKernels

/// Distance kernels: the Swift interface over the C target `CQuiverKernels`.
///
/// Scores follow Milvus: `l2` is the squared Euclidean distance (lower is better), `ip` the dot
/// product, `cosine` the dot product divided by both norms, clamped to [-1, 1], and 0 when either
/// norm is 0 (higher is better). HAMMING counts differing bits and JACCARD is
/// `1 − |a ∧ b| / |a ∨ b|` (0 when both vectors are all zero), lower is better.
///
/// ## Code generation
/// Swift has no per-function target attributes and no run-time CPU dispatch, so every hot loop
/// is in C (`Sources/CQuiverKernels`, one file per family: float32.c, panel.c, half.c,
/// binary.c, sq8.c). Each kernel body is written once over Clang vector extensions and compiled
/// once per instruction-set level through function target attributes, never build flags:
///
/// - x86-64 baseline (`_baseline`, SSE2): 8-float vectors are two `xmm` registers; a separate
///   multiply and add (a fused multiply-add would be a libm call per lane); float16 widened
///   with integer operations; the batch kernel uses its 4×8 micro-kernel (4×16 would spill).
/// - x86-64 AVX2 (`_haswell`, `target("avx2,fma,f16c,popcnt")`): one `ymm` register,
///   `vfmadd231ps`, `vcvtph2ps`, `popcnt`.
/// - x86-64 AVX-512 (`_skylake`): the Haswell kernels, except that the HNSW walk's
///   `dotWide` / `l2SquaredWide` (and their batch forms `dotGather` / `l2SquaredGather`, which
///   score a node's unvisited neighbours in one call) use 16-float vectors.
/// - arm64 (`_neon`): two `q` registers, `fmla`, `fcvtl`.
///
/// Each family's functions are collected in one dispatch table per level (``Table``); the
/// engine uses ``Table/selected``, the best level the CPU supports, capped by the environment
/// variable `QUIVER_CPU` (`baseline`, `avx2`, `avx512`), read once at run time. Within one level
/// every code path that scores the same pair in a family gives the same bits; between levels
/// only the rounding differs (the x86-64 baseline does not fuse its multiply-adds). Every
/// function here takes the table as a last argument, defaulting to the selected one, so tests
/// can run each level the machine supports.
@_spi(Benchmarks) public enum Kernels {
    /// The kernels of one instruction-set level.
    public struct Table: @unchecked Sendable, CustomStringConvertible {
        // @unchecked: points at a constant table in the C target's static storage.
        private let raw: UnsafeRawPointer

        /// The instruction-set levels, in increasing order; arm64 has only `.baseline` (NEON).
        public enum Level: Int, Sendable, CaseIterable {
            /// x86-64 SSE2, or arm64 NEON.
            case baseline = 0
            /// x86-64 AVX2, FMA and F16C.
            case avx2 = 1
            /// x86-64 AVX-512 F on top of AVX2.
            case avx512 = 2
        }

        /// The kernels the engine uses: the best level this CPU supports, capped by `QUIVER_CPU`.
        public static let selected = Table(raw: UnsafeRawPointer(quiver_kernels_selected()))

        private init(raw: UnsafeRawPointer) { self.raw = raw }

        /// The kernels of `level`, or `nil` when this CPU cannot run them.
        public init?(level: Level) {
            guard let p = quiver_kernels_for(Int32(level.rawValue)) else { return nil }
            raw = UnsafeRawPointer(p)
        }

        /// Every level this CPU can run, lowest first.
        public static var supported: [Table] { Level.allCases.compactMap { Table(level: $0) } }

        /// The level of these kernels.
        public var level: Level { Level(rawValue: Int(k.pointee.isa))! }

        public var description: String { String(cString: quiver_isa_name(k.pointee.isa)) }

        var k: UnsafePointer<quiver_kernels> { raw.assumingMemoryBound(to: quiver_kernels.self) }
    }

    // MARK: Pairwise (float32.c)

    /// The dot product of `n` floats at `a` and `b`.
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, table: Table = .selected) -> Float {
        table.k.pointee.dot(a, b, n)
    }

    /// The squared Euclidean distance between `n` floats at `a` and `b`.
    public static func l2Squared(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, table: Table = .selected) -> Float {
        table.k.pointee.l2_squared(a, b, n)
    }

    /// The Euclidean norm of `n` floats at `a`.
    public static func norm(_ a: UnsafePointer<Float>, _ n: Int, table: Table = .selected) -> Float {
        dot(a, a, n, table: table).squareRoot()
    }

    /// The HNSW walk's dot product: 16 floats wide at the AVX-512 level when `n` is a multiple
    /// of 32 (the walk computes most distances on rows in cache, where arithmetic is the
    /// limit), otherwise `dot`. The sums are in a different order than `dot`'s,
    /// so a walk's distances may differ from a flat scan's in the last bits.
    static func dotWide(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, table: Table = .selected) -> Float {
        table.k.pointee.dot_wide(a, b, n)
    }

    /// The HNSW walk's squared L2 distance (see `dotWide`).
    static func l2SquaredWide(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, table: Table = .selected) -> Float {
        table.k.pointee.l2_squared_wide(a, b, n)
    }

    /// `out[i] = dotWide(query, rows + ids[i] × d, d)` for `i < n`, bit for bit, in one call
    /// that prefetches each row two rows ahead: the HNSW walk scores a node's unvisited
    /// neighbours this way, one call per batch instead of one per row.
    static func dotGather(
        _ query: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, _ d: Int, _ ids: UnsafePointer<Int32>, _ n: Int,
        _ out: UnsafeMutablePointer<Float>, table: Table = .selected
    ) {
        table.k.pointee.dot_gather(query, rows, d, ids, n, out)
    }

    /// `out[i] = l2SquaredWide(query, rows + ids[i] × d, d)` for `i < n` (see `dotGather`).
    static func l2SquaredGather(
        _ query: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, _ d: Int, _ ids: UnsafePointer<Int32>, _ n: Int,
        _ out: UnsafeMutablePointer<Float>, table: Table = .selected
    ) {
        table.k.pointee.l2_squared_gather(query, rows, d, ids, n, out)
    }

    // MARK: Scores to top-k candidates (scores.c)

    /// Turns `n` dot products into squared L2 distances in place: `max(0, querySquare + rowSquares[j] − 2·dot)`.
    static func expandL2(_ scores: UnsafeMutablePointer<Float>, _ n: Int, querySquare: Float, rowSquares: UnsafePointer<Float>) {
        quiver_expand_l2(scores, n, querySquare, rowSquares)
    }

    /// The bits of `mask` (rows `j < n ≤ 64`) whose score is in range: `lower < s ≤ upper` when
    /// higher is better, otherwise `lower ≤ s < upper`; never NaN.
    static func selectScores(
        _ scores: UnsafePointer<Float>, _ n: Int, higherIsBetter: Bool, lower: Float, upper: Float, mask: UInt64
    ) -> UInt64 {
        quiver_select_scores(scores, n, higherIsBetter ? 1 : 0, lower, upper, mask)
    }

    /// Cosine similarity from a dot product and the two norms: clamped to [-1, 1], 0 when a norm is 0.
    @inlinable @inline(__always)
    public static func cosine(dot: Float, _ normA: Float, _ normB: Float) -> Float {
        let d = normA * normB
        guard d > 0 else { return 0 }
        return min(max(dot / d, -1), 1)
    }

    /// The score of `query` against `row` under `metric`; for cosine, `queryNorm` and `rowNorm`
    /// are the vectors' Euclidean norms.
    public static func score(
        _ metric: MetricType, _ query: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ n: Int,
        queryNorm: Float, rowNorm: Float, table: Table = .selected
    ) -> Float {
        switch metric {
        case .ip: return dot(query, row, n, table: table)
        case .l2: return l2Squared(query, row, n, table: table)
        case .cosine: return cosine(dot: dot(query, row, n, table: table), queryNorm, rowNorm)
        case .hamming, .jaccard: preconditionFailure("\(metric.rawValue) compares binary vectors, not floats")
        }
    }

    // MARK: Block kernel (float32.c)

    /// Dimension rounded up to a multiple of 8: the stride of the padded queries the block
    /// kernels take.
    @inlinable @inline(__always)
    public static func paddedDimension(_ d: Int) -> Int { (d + 7) & ~7 }

    /// Scores `rowCount` consecutive rows, read in place, against `queryCount` padded queries
    /// (`queryStride` ≥ ``paddedDimension(_:)``, padding zero): the dot product (`l2 == false`)
    /// or the squared L2 distance of query `q` and row `r` at `out[q * outStride + r]`.
    ///
    /// Unpacked micro-kernels: 1×4 (four independent chains, what a single query uses; it keeps
    /// up with memory bandwidth), 4×2 for groups of four queries, 1×1. Every pair is one
    /// accumulator over the 8-float chunks in order, the zero-padded tail last, then a fixed
    /// reduction tree, whichever micro-kernel computes it, so a batch and a single query give
    /// bit-identical scores. Large batches use the packed kernels (``scorePanels(queries:queryCount:queryStride:panels:panelCount:dimension:l2:out:outStride:wide:table:)``).
    public static func scoreBlock(
        queries: UnsafePointer<Float>, queryCount: Int, queryStride: Int,
        rows: UnsafePointer<Float>, rowCount: Int, dimension d: Int, l2: Bool,
        out: UnsafeMutablePointer<Float>, outStride: Int, table: Table = .selected
    ) {
        precondition(queryStride >= paddedDimension(d))
        table.k.pointee.score_block(queries, queryCount, queryStride, rows, rowCount, d, l2 ? 1 : 0, out, outStride)
    }

    // MARK: Packed panels (panel.c)

    /// Packs `rowCount` rows (`dimension` floats each, consecutive) into `⌈rowCount / 8⌉`
    /// panels at `out` (`8 × dimension` floats each, dimension-major); missing rows of the last
    /// panel are zero.
    public static func packPanels(
        rows: UnsafePointer<Float>, rowCount: Int, dimension d: Int, out: UnsafeMutablePointer<Float>,
        table: Table = .selected
    ) {
        table.k.pointee.pack_panels(rows, rowCount, d, out)
    }

    /// Scores `panelCount` packed panels against `queryCount` queries (stride `queryStride`):
    /// the dot product (`l2 == false`) or the squared L2 distance of query `q` and row `r` of the
    /// packed block at `out[q * outStride + r]`, for `r < 8 × panelCount`.
    ///
    /// A GEMM-style 4×16 micro-kernel broadcasts one query value at a time against two panels,
    /// so each accumulator lane is one (query, row) score and no horizontal sums are needed.
    /// Every score is one chain of multiply-adds over the dimensions in order, whichever
    /// micro-kernel computes it (4×16, 4×8, 1×16, 1×8, or
    /// ``scoreRowSequential(_:_:_:l2:table:)``), so every query of a batch gets the same bits.
    /// `wide: false` keeps to the 4×8 kernel (same result; the baseline level always does).
    public static func scorePanels(
        queries: UnsafePointer<Float>, queryCount: Int, queryStride: Int,
        panels: UnsafePointer<Float>, panelCount: Int, dimension d: Int, l2: Bool,
        out: UnsafeMutablePointer<Float>, outStride: Int, wide: Bool = true, table: Table = .selected
    ) {
        table.k.pointee.score_panels(queries, queryCount, queryStride, panels, panelCount, d, l2 ? 1 : 0, out, outStride, wide ? 1 : 0)
    }

    /// The squared norm of each row of `panelCount` packed panels (`out[r]`, `8 × panelCount`
    /// values), summed in the panel kernels' order, so it equals the row's dot product with
    /// itself on those kernels bit for bit.
    public static func squaredNormsOfPanels(
        _ panels: UnsafePointer<Float>, panelCount: Int, dimension d: Int, out: UnsafeMutablePointer<Float>,
        table: Table = .selected
    ) {
        table.k.pointee.squared_norms_of_panels(panels, panelCount, d, out)
    }

    /// The squared norm of one unpacked vector in the panel kernels' order of operations.
    public static func squaredNormSequential(_ v: UnsafePointer<Float>, _ d: Int, table: Table = .selected) -> Float {
        table.k.pointee.squared_norm_sequential(v, d)
    }

    /// One query against one unpacked row, in the panel kernels' order of operations (used for
    /// the few allowed rows of a sparse bitset word).
    public static func scoreRowSequential(
        _ q: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ d: Int, l2: Bool, table: Table = .selected
    ) -> Float {
        table.k.pointee.score_row_sequential(q, row, d, l2 ? 1 : 0)
    }

    // MARK: 16-bit floats (half.c)

    /// How a `UInt16` stored value encodes a float.
    public enum HalfFormat: Sendable, Hashable {
        /// IEEE 754 half precision.
        case float16
        /// The upper 16 bits of a float32.
        case bfloat16

        var bf16: Int32 { self == .bfloat16 ? 1 : 0 }
    }

    /// `count` stored values at `src` widened to float32 at `dst` (exact for every bit pattern).
    public static func widen(
        _ src: UnsafePointer<UInt16>, count: Int, _ format: HalfFormat, into dst: UnsafeMutablePointer<Float>,
        table: Table = .selected
    ) {
        table.k.pointee.widen(src, count, format.bf16, dst)
    }

    /// One stored value as a float.
    public static func widen(_ h: UInt16, _ format: HalfFormat, table: Table = .selected) -> Float {
        var h = h, x: Float = 0
        widen(&h, count: 1, format, into: &x, table: table)
        return x
    }

    /// Dot product of a float32 query with a 16-bit stored row.
    public static func dot(
        _ q: UnsafePointer<Float>, _ row: UnsafePointer<UInt16>, _ n: Int, format: HalfFormat, table: Table = .selected
    ) -> Float {
        table.k.pointee.dot_half(q, row, n, format.bf16)
    }

    /// Squared L2 distance between a float32 query and a 16-bit stored row.
    public static func l2Squared(
        _ q: UnsafePointer<Float>, _ row: UnsafePointer<UInt16>, _ n: Int, format: HalfFormat, table: Table = .selected
    ) -> Float {
        table.k.pointee.l2_squared_half(q, row, n, format.bf16)
    }

    /// Euclidean norm of a 16-bit stored row.
    public static func norm(_ row: UnsafePointer<UInt16>, _ n: Int, format: HalfFormat, table: Table = .selected) -> Float {
        table.k.pointee.squared_norm_half(row, n, format.bf16).squareRoot()
    }

    /// Cosine similarity of a float32 query (norm `queryNorm`) and a 16-bit stored row (norm `rowNorm`).
    public static func cosine(
        _ q: UnsafePointer<Float>, _ row: UnsafePointer<UInt16>, _ n: Int, format: HalfFormat,
        queryNorm: Float, rowNorm: Float, table: Table = .selected
    ) -> Float {
        cosine(dot: dot(q, row, n, format: format, table: table), queryNorm, rowNorm)
    }

    /// ``scoreBlock(queries:queryCount:queryStride:rows:rowCount:dimension:l2:out:outStride:table:)``
    /// over 16-bit stored rows, widened in registers as they are loaded: equal, bit for bit, to
    /// that kernel on the widened rows.
    public static func scoreBlock(
        queries: UnsafePointer<Float>, queryCount: Int, queryStride: Int,
        halfRows rows: UnsafePointer<UInt16>, format: HalfFormat, rowCount: Int, dimension d: Int, l2: Bool,
        out: UnsafeMutablePointer<Float>, outStride: Int, table: Table = .selected
    ) {
        precondition(queryStride >= paddedDimension(d))
        table.k.pointee.score_block_half(queries, queryCount, queryStride, rows, format.bf16, rowCount, d, l2 ? 1 : 0, out, outStride)
    }

    // MARK: Binary (binary.c)

    /// The number of differing bits between `byteCount` bytes at `a` and `b`.
    public static func hamming(
        _ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, byteCount n: Int, table: Table = .selected
    ) -> Float {
        Float(table.k.pointee.hamming(a, b, n))
    }

    /// Jaccard distance between `byteCount` bytes at `a` and `b`.
    public static func jaccard(
        _ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, byteCount n: Int, table: Table = .selected
    ) -> Float {
        var intersection: UInt64 = 0, union: UInt64 = 0
        table.k.pointee.intersection_union(a, b, n, &intersection, &union)
        guard union > 0 else { return 0 }
        return 1 - Float(intersection) / Float(union)
    }

    // MARK: 8-bit scalar quantization (sq8.c)

    /// `Σ (q[i] − codes[i] × scale[i])²` over `d` dimensions.
    static func sq8L2Squared(
        _ q: UnsafePointer<Float>, scale: UnsafePointer<Float>, codes: UnsafePointer<UInt8>, _ d: Int,
        table: Table = .selected
    ) -> Float {
        table.k.pointee.sq8_l2_squared(q, scale, codes, d)
    }

    /// `Σ q[i] × codes[i]` over `d` dimensions.
    static func sq8Dot(_ q: UnsafePointer<Float>, codes: UnsafePointer<UInt8>, _ d: Int, table: Table = .selected) -> Float {
        table.k.pointee.sq8_dot(q, codes, d)
    }

    // MARK: Helpers for Swift-side SIMD (FlatScan's score tiles)

    /// Eight floats from `p`, which need not be aligned.
    @inlinable @inline(__always)
    public static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// The first `n` (< 8) floats at `p`, the remaining lanes zero. Never reads past `p + n`.
    @inlinable @inline(__always)
    public static func loadPartial(_ p: UnsafePointer<Float>, _ n: Int) -> SIMD8<Float> {
        assert(n >= 0 && n < 8)
        var v = SIMD8<Float>()
        for j in 0..<n { v[j] = p[j] }
        return v
    }
}
