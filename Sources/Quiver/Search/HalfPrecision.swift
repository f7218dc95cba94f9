/// Kernels for vectors stored as 16-bit floats (`UInt16` bit patterns): IEEE half precision
/// (`float16`) and bfloat16 (the upper 16 bits of a float32). The query stays float32; each
/// chunk of 8 stored values is widened to `SIMD8<Float>` and fed to the float32 accumulators.
///
/// Widening is done with integer SIMD operations rather than `Float16` unless the build has F16C
/// (`QUIVER_F16C`, which Package.swift sets with `-mf16c`): Swift has `Float16` on x86-64 Linux,
/// but without `-mf16c` each conversion is a call to `__extendhfsf2` (checked in the assembly);
/// the bit manipulation below vectorises on every target. It is exact for every
/// half value, subnormals, infinities and NaN included (F. Giesen, "half_to_float_fast").
extension Kernels {
    /// How a `UInt16` stored value encodes a float.
    public enum HalfFormat: Sendable, Hashable {
        case float16
        case bfloat16
    }

    /// Eight half-precision bit patterns widened to float32.
    @inlinable @inline(__always)
    public static func widenFloat16(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
        #if QUIVER_F16C || arch(arm64)
        // One `vcvtph2ps` (checked in the assembly).
        return SIMD8<Float>(unsafeBitCast(h, to: SIMD8<Float16>.self))
        #else
        let x = SIMD8<UInt32>(truncatingIfNeeded: h)
        let sign = (x & 0x8000) &<< 16
        let em = x & 0x7FFF
        let shifted = em &<< 13
        // Rebias by multiplying by 2^112: normal exponents move from bias 15 to bias 127 and
        // subnormal halves (exponent 0) come out as the right normal floats.
        let scaled = unsafeBitCast(unsafeBitCast(shifted, to: SIMD8<Float>.self) * 0x1p112, to: SIMD8<UInt32>.self)
        let infNaN = shifted | 0x7F80_0000
        // Signed compare against a splat: `em .>= 0x7C00` (unsigned, scalar operand) compiles to
        // a per-lane loop through memory, 40× slower (checked in the assembly).
        let isInfNaN = SIMD8<Int32>(truncatingIfNeeded: em) .> SIMD8<Int32>(repeating: 0x7BFF)
        let magnitude = scaled.replacing(with: infNaN, where: isInfNaN)
        return unsafeBitCast(magnitude | sign, to: SIMD8<Float>.self)
        #endif
    }

    /// `count` stored values at `src` widened to float32 at `dst`.
    @inlinable
    public static func widen(_ src: UnsafePointer<UInt16>, count: Int, _ format: HalfFormat, into dst: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: load8(src + i, format), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            dst[i] = widen(src[i], format)
            i += 1
        }
    }

    /// Eight bfloat16 bit patterns widened to float32 (exact).
    @inlinable @inline(__always)
    public static func widenBFloat16(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
        unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16, to: SIMD8<Float>.self)
    }

    /// Eight stored values at `p` (unaligned) widened to float32.
    @inlinable @inline(__always)
    public static func load8(_ p: UnsafePointer<UInt16>, _ format: HalfFormat) -> SIMD8<Float> {
        let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt16>.self)
        return format == .float16 ? widenFloat16(h) : widenBFloat16(h)
    }

    /// The first `n` (< 8) stored values at `p`, widened; remaining lanes zero.
    @inlinable @inline(__always)
    public static func loadPartial(_ p: UnsafePointer<UInt16>, _ n: Int, _ format: HalfFormat) -> SIMD8<Float> {
        assert(n >= 0 && n < 8)
        var h = SIMD8<UInt16>()
        for j in 0..<n { h[j] = p[j] }
        return format == .float16 ? widenFloat16(h) : widenBFloat16(h)
    }

    /// One stored value as a float.
    @inlinable
    public static func widen(_ h: UInt16, _ format: HalfFormat) -> Float {
        let v = format == .float16 ? widenFloat16(SIMD8(repeating: h)) : widenBFloat16(SIMD8(repeating: h))
        return v[0]
    }

    /// Dot product of a float32 query with a 16-bit stored row.
    @inlinable
    public static func dot(_ q: UnsafePointer<Float>, _ row: UnsafePointer<UInt16>, _ n: Int, format: HalfFormat) -> Float {
        format == .float16 ? dotImpl(q, row, n, .float16, DotOp.self) : dotImpl(q, row, n, .bfloat16, DotOp.self)
    }

    /// Squared L2 distance between a float32 query and a 16-bit stored row.
    @inlinable
    public static func l2Squared(_ q: UnsafePointer<Float>, _ row: UnsafePointer<UInt16>, _ n: Int, format: HalfFormat) -> Float {
        format == .float16 ? dotImpl(q, row, n, .float16, L2Op.self) : dotImpl(q, row, n, .bfloat16, L2Op.self)
    }

    /// Euclidean norm of a 16-bit stored row.
    @inlinable
    public static func norm(_ row: UnsafePointer<UInt16>, _ n: Int, format: HalfFormat) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            let a = load8(row + i, format), b = load8(row + i + 8, format)
            s0 = madd(s0, a, a)
            s1 = madd(s1, b, b)
            i += 16
        }
        while i + 8 <= n { let a = load8(row + i, format); s0 = madd(s0, a, a); i += 8 }
        if i < n { let a = loadPartial(row + i, n - i, format); s1 = madd(s1, a, a) }
        return reduce(s0 + s1).squareRoot()
    }

    /// Cosine similarity of a float32 query (norm `queryNorm`) and a 16-bit stored row (norm `rowNorm`).
    @inlinable
    public static func cosine(
        _ q: UnsafePointer<Float>, _ row: UnsafePointer<UInt16>, _ n: Int, format: HalfFormat,
        queryNorm: Float, rowNorm: Float
    ) -> Float {
        cosine(dot: dot(q, row, n, format: format), queryNorm, rowNorm)
    }

    @inlinable @inline(__always)
    static func dotImpl<Op: AccumulateOp>(
        _ q: UnsafePointer<Float>, _ row: UnsafePointer<UInt16>, _ n: Int, _ format: HalfFormat, _ op: Op.Type
    ) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        var i = 0
        while i + 32 <= n {
            s0 = Op.step(s0, load8(q + i), load8(row + i, format))
            s1 = Op.step(s1, load8(q + i + 8), load8(row + i + 8, format))
            s2 = Op.step(s2, load8(q + i + 16), load8(row + i + 16, format))
            s3 = Op.step(s3, load8(q + i + 24), load8(row + i + 24, format))
            i += 32
        }
        while i + 8 <= n {
            s0 = Op.step(s0, load8(q + i), load8(row + i, format))
            i += 8
        }
        if i < n { s1 = Op.step(s1, loadPartial(q + i, n - i), loadPartial(row + i, n - i, format)) }
        return reduce((s0 + s1) + (s2 + s3))
    }

    /// ``scoreBlock(queries:queryCount:queryStride:rows:rowCount:dimension:l2:out:outStride:)``
    /// over 16-bit stored rows, widened in registers as they are loaded. Each (query, row) score
    /// is the same chain of operations as the float32 kernels on the widened row (one
    /// accumulator over the 8-value chunks in order, the tail last, then ``reduce(_:)``), so the
    /// scores equal those of widening the rows first, bit for bit.
    @inlinable
    public static func scoreBlock(
        queries: UnsafePointer<Float>, queryCount: Int, queryStride: Int,
        halfRows rows: UnsafePointer<UInt16>, format: HalfFormat, rowCount: Int, dimension d: Int, l2: Bool,
        out: UnsafeMutablePointer<Float>, outStride: Int
    ) {
        switch (format, l2) {
        case (.float16, false): halfBlock(queries, queryCount, queryStride, rows, rowCount, d, Float16Rows.self, DotOp.self, out, outStride)
        case (.float16, true): halfBlock(queries, queryCount, queryStride, rows, rowCount, d, Float16Rows.self, L2Op.self, out, outStride)
        case (.bfloat16, false): halfBlock(queries, queryCount, queryStride, rows, rowCount, d, BFloat16Rows.self, DotOp.self, out, outStride)
        case (.bfloat16, true): halfBlock(queries, queryCount, queryStride, rows, rowCount, d, BFloat16Rows.self, L2Op.self, out, outStride)
        }
    }

    @inlinable @inline(__always)
    static func halfBlock<W: HalfWidening, Op: AccumulateOp>(
        _ queries: UnsafePointer<Float>, _ nq: Int, _ qs: Int, _ rows: UnsafePointer<UInt16>, _ nr: Int, _ d: Int,
        _ w: W.Type, _ op: Op.Type, _ out: UnsafeMutablePointer<Float>, _ os: Int
    ) {
        let d8 = d & ~7, t = d - d8
        for qi in 0..<nq {
            let q = queries + qi * qs
            let o = out + qi * os
            var r = 0
            // One query against four rows: four independent chains.
            while r + 4 <= nr {
                let r0p = rows + r * d, r1p = r0p + d, r2p = r0p + 2 * d, r3p = r0p + 3 * d
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                var i = 0
                while i < d8 {
                    let qv = load8(q + i)
                    a0 = Op.step(a0, qv, W.load8(r0p + i))
                    a1 = Op.step(a1, qv, W.load8(r1p + i))
                    a2 = Op.step(a2, qv, W.load8(r2p + i))
                    a3 = Op.step(a3, qv, W.load8(r3p + i))
                    i += 8
                }
                if t > 0 {
                    let qv = load8(q + d8)
                    a0 = Op.step(a0, qv, W.loadPartial(r0p + d8, t))
                    a1 = Op.step(a1, qv, W.loadPartial(r1p + d8, t))
                    a2 = Op.step(a2, qv, W.loadPartial(r2p + d8, t))
                    a3 = Op.step(a3, qv, W.loadPartial(r3p + d8, t))
                }
                o[r] = reduce(a0); o[r + 1] = reduce(a1); o[r + 2] = reduce(a2); o[r + 3] = reduce(a3)
                r += 4
            }
            while r < nr {
                let rp = rows + r * d
                var a = SIMD8<Float>()
                var i = 0
                while i < d8 {
                    a = Op.step(a, load8(q + i), W.load8(rp + i))
                    i += 8
                }
                if t > 0 { a = Op.step(a, load8(q + d8), W.loadPartial(rp + d8, t)) }
                o[r] = reduce(a)
                r += 1
            }
        }
    }
}

/// How a kernel widens eight stored 16-bit values (a type, so each kernel is specialised).
@_spi(Benchmarks) public protocol HalfWidening {
    static func load8(_ p: UnsafePointer<UInt16>) -> SIMD8<Float>
    static func loadPartial(_ p: UnsafePointer<UInt16>, _ n: Int) -> SIMD8<Float>
}

@_spi(Benchmarks) public enum Float16Rows: HalfWidening {
    @inlinable @inline(__always)
    public static func load8(_ p: UnsafePointer<UInt16>) -> SIMD8<Float> { Kernels.load8(p, .float16) }
    @inlinable @inline(__always)
    public static func loadPartial(_ p: UnsafePointer<UInt16>, _ n: Int) -> SIMD8<Float> { Kernels.loadPartial(p, n, .float16) }
}

@_spi(Benchmarks) public enum BFloat16Rows: HalfWidening {
    @inlinable @inline(__always)
    public static func load8(_ p: UnsafePointer<UInt16>) -> SIMD8<Float> { Kernels.load8(p, .bfloat16) }
    @inlinable @inline(__always)
    public static func loadPartial(_ p: UnsafePointer<UInt16>, _ n: Int) -> SIMD8<Float> { Kernels.loadPartial(p, n, .bfloat16) }
}
