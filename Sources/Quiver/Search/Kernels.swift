/// Distance kernels on float32 vectors.
///
/// Scores follow Milvus: `l2` is the squared Euclidean distance (lower is better), `ip` the dot
/// product, `cosine` the dot product divided by both norms, clamped to [-1, 1], and 0 when either
/// norm is 0 (higher is better).
///
/// ## Code generation
/// The kernels use `SIMD8<Float>` with several independent accumulators and unaligned loads.
/// Swift has no per-function target attributes and no runtime CPU dispatch, so the instruction
/// set is whatever the whole build targets:
///
/// - arm64: NEON and fused multiply-add are baseline; `SIMD8` lowers to two `q` registers and
///   `addProduct` to `fmla`.
/// - x86-64 baseline (`QUIVER_CPU=portable`, or Quiver resolved from a URL): SSE2. `SIMD8`
///   lowers to two `xmm` registers. LLVM cannot lower `addProduct` (a correctly rounded fma)
///   without the FMA extension and calls `fmaf` once per lane, roughly 20× slower, so on x86-64
///   the kernels use a separate multiply and add unless `QUIVER_FMA` is defined.
/// - x86-64 with AVX2/FMA/F16C: what `Package.swift` selects when Quiver is built from source
///   on such a CPU: `-Xcc -mavx2 -Xcc -mfma -Xcc -mf16c` with `QUIVER_FMA` and `QUIVER_F16C`.
///   Swift's code generator takes its target features from the Clang importer, so `-Xcc -mavx2`
///   reaches Swift code too; `SIMD8` then lowers to one `ymm` register, `addProduct` to
///   `vfmadd231ps` and a `Float16` widening to `vcvtph2ps`. These are `unsafeFlags`, which SwiftPM
///   refuses in a dependency resolved by version, so the manifest leaves them out of checkouts.
/// - x86-64 with AVX-512 as well: `-Xcc -mavx512f` and `QUIVER_AVX512` in addition; only the HNSW
///   walk's `dotWide` / `l2SquaredWide` (WideKernels.swift) use 16-float vectors.
@_spi(Benchmarks) public enum Kernels {
    /// `acc + a × b`, fused where the build has a fused multiply-add instruction.
    @inlinable @inline(__always)
    public static func madd(_ acc: SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        #if arch(arm64) || QUIVER_FMA
        return acc.addingProduct(a, b)
        #else
        return acc + a * b
        #endif
    }

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

    /// The sum of the lanes in a fixed order — `((v0+v4)+(v1+v5)) + ((v2+v6)+(v3+v7))` — so every
    /// code path that reduces the same accumulator gets the same bits (see
    /// ``reduceTransposed(_:_:_:_:_:_:_:_:)``, which follows the same tree for eight at once).
    @inlinable @inline(__always)
    public static func reduce(_ v: SIMD8<Float>) -> Float {
        let h = v.lowHalf + v.highHalf
        return (h[0] + h[1]) + (h[2] + h[3])
    }

    /// ``reduce(_:)`` of eight accumulators at once, in lanes `[a, c, e, g, b, d, f, h]`:
    /// a transpose-and-add tree of 4 cross-lane and 8 in-lane shuffles instead of 8 separate
    /// horizontal sums.
    @inlinable @inline(__always)
    public static func reduceTransposed(
        _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>,
        _ e: SIMD8<Float>, _ f: SIMD8<Float>, _ g: SIMD8<Float>, _ h: SIMD8<Float>
    ) -> SIMD8<Float> {
        @inline(__always) func halves(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(lowHalf: x.lowHalf, highHalf: y.lowHalf) + SIMD8(lowHalf: x.highHalf, highHalf: y.highHalf)
        }
        @inline(__always) func pairs(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> SIMD8<Float> {
            SIMD8(x[0], x[2], y[0], y[2], x[4], x[6], y[4], y[6]) + SIMD8(x[1], x[3], y[1], y[3], x[5], x[7], y[5], y[7])
        }
        let ab = halves(a, b), cd = halves(c, d), ef = halves(e, f), gh = halves(g, h)
        return pairs(pairs(ab, cd), pairs(ef, gh))
    }

    // MARK: Pairwise kernels (one vector against one vector)

    /// The dot product of `n` floats at `a` and `b`.
    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= n {
            s0 = madd(s0, load8(a + i), load8(b + i))
            s1 = madd(s1, load8(a + i + 8), load8(b + i + 8))
            s2 = madd(s2, load8(a + i + 16), load8(b + i + 16))
            s3 = madd(s3, load8(a + i + 24), load8(b + i + 24))
            i += 32
        }
        while i + 8 <= n {
            s0 = madd(s0, load8(a + i), load8(b + i))
            i += 8
        }
        if i < n { s1 = madd(s1, loadPartial(a + i, n - i), loadPartial(b + i, n - i)) }
        return reduce((s0 + s1) + (s2 + s3))
    }

    /// The squared Euclidean distance between `n` floats at `a` and `b`.
    @inlinable
    public static func l2Squared(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= n {
            let d0 = load8(a + i) - load8(b + i), d1 = load8(a + i + 8) - load8(b + i + 8)
            let d2 = load8(a + i + 16) - load8(b + i + 16), d3 = load8(a + i + 24) - load8(b + i + 24)
            s0 = madd(s0, d0, d0)
            s1 = madd(s1, d1, d1)
            s2 = madd(s2, d2, d2)
            s3 = madd(s3, d3, d3)
            i += 32
        }
        while i + 8 <= n {
            let d = load8(a + i) - load8(b + i)
            s0 = madd(s0, d, d)
            i += 8
        }
        if i < n {
            let d = loadPartial(a + i, n - i) - loadPartial(b + i, n - i)
            s1 = madd(s1, d, d)
        }
        return reduce((s0 + s1) + (s2 + s3))
    }

    /// The Euclidean norm of `n` floats at `a`.
    @inlinable
    public static func norm(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        dot(a, a, n).squareRoot()
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
    @inlinable
    public static func score(
        _ metric: MetricType, _ query: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ n: Int,
        queryNorm: Float, rowNorm: Float
    ) -> Float {
        switch metric {
        case .ip: return dot(query, row, n)
        case .l2: return l2Squared(query, row, n)
        case .cosine: return cosine(dot: dot(query, row, n), queryNorm, rowNorm)
        case .hamming, .jaccard: preconditionFailure("\(metric.rawValue) compares binary vectors, not floats")
        }
    }
}
