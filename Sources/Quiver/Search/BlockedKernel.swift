/// Register-blocked scoring of a block of queries against a block of stored rows, in the manner
/// of a GEMM micro-kernel: the 4×2 kernel keeps 8 `SIMD8<Float>` accumulators (one per
/// query/row pair) in registers and reads each query and row chunk once per 8 multiply-adds.
/// `FlatScan` feeds it blocks of 64 rows so the rows stay in L1/L2 while every query group
/// passes over them.
///
/// Every pair is computed with the same sequence of operations whichever kernel handles it
/// (4×2, 1×4 or 1×1): one accumulator over the 8-float chunks in order, the zero-padded tail
/// chunk last, then ``Kernels/reduce(_:)``. So a batch of queries and a single query give
/// bit-identical scores.
///
/// Queries are passed padded: `queryStride` = dimension rounded up to a multiple of 8, padding
/// zero. Rows are read in place (never past the last row).
extension Kernels {
    /// Dimension rounded up to a multiple of 8.
    @inlinable @inline(__always)
    public static func paddedDimension(_ d: Int) -> Int { (d + 7) & ~7 }

    /// One accumulation step: `acc + q·r` (inner product) or `acc + (q−r)²` (L2).
    @inlinable @inline(__always)
    static func step<Op: AccumulateOp>(_ acc: SIMD8<Float>, _ q: SIMD8<Float>, _ r: SIMD8<Float>, l2: Op.Type) -> SIMD8<Float> {
        Op.step(acc, q, r)
    }

    /// Scores `rowCount` consecutive rows against `queryCount` padded queries.
    ///
    /// Writes `out[q * outStride + r]`: the dot product (`l2 == false`) or the squared L2 distance.
    @inlinable
    public static func scoreBlock(
        queries: UnsafePointer<Float>, queryCount: Int, queryStride: Int,
        rows: UnsafePointer<Float>, rowCount: Int, dimension d: Int, l2: Bool,
        out: UnsafeMutablePointer<Float>, outStride: Int
    ) {
        assert(queryStride >= paddedDimension(d))
        if l2 {
            scoreBlockImpl(queries, queryCount, queryStride, rows, rowCount, d, L2Op.self, out, outStride)
        } else {
            scoreBlockImpl(queries, queryCount, queryStride, rows, rowCount, d, DotOp.self, out, outStride)
        }
    }

    @inlinable @inline(__always)
    static func scoreBlockImpl<Op: AccumulateOp>(
        _ queries: UnsafePointer<Float>, _ nq: Int, _ qs: Int,
        _ rows: UnsafePointer<Float>, _ nr: Int, _ d: Int, _ l2: Op.Type,
        _ out: UnsafeMutablePointer<Float>, _ os: Int
    ) {
        var qi = 0
        while qi + 4 <= nq {
            let q = queries + qi * qs
            var r = 0
            while r + 2 <= nr {
                micro4x2(q, qs, rows + r * d, d, l2, out + qi * os + r, os)
                r += 2
            }
            if r < nr {
                for j in 0..<4 {
                    out[(qi + j) * os + r] = micro1x1(q + j * qs, rows + r * d, d, l2)
                }
            }
            qi += 4
        }
        while qi < nq {
            let q = queries + qi * qs
            let o = out + qi * os
            var r = 0
            while r + 4 <= nr {
                micro1x4(q, rows + r * d, d, l2, o + r)
                r += 4
            }
            while r < nr {
                o[r] = micro1x1(q, rows + r * d, d, l2)
                r += 1
            }
            qi += 1
        }
    }

    /// Four queries (stride `qs`) against two consecutive rows.
    @inlinable @inline(__always)
    static func micro4x2<Op: AccumulateOp>(
        _ q: UnsafePointer<Float>, _ qs: Int, _ row: UnsafePointer<Float>, _ d: Int, _ l2: Op.Type,
        _ out: UnsafeMutablePointer<Float>, _ os: Int
    ) {
        let r0p = row, r1p = row + d
        let q0p = q, q1p = q + qs, q2p = q + 2 * qs, q3p = q + 3 * qs
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
        var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
        let d8 = d & ~7
        var i = 0
        while i < d8 {
            let r0 = load8(r0p + i), r1 = load8(r1p + i)
            let q0 = load8(q0p + i)
            a00 = step(a00, q0, r0, l2: l2); a01 = step(a01, q0, r1, l2: l2)
            let q1 = load8(q1p + i)
            a10 = step(a10, q1, r0, l2: l2); a11 = step(a11, q1, r1, l2: l2)
            let q2 = load8(q2p + i)
            a20 = step(a20, q2, r0, l2: l2); a21 = step(a21, q2, r1, l2: l2)
            let q3 = load8(q3p + i)
            a30 = step(a30, q3, r0, l2: l2); a31 = step(a31, q3, r1, l2: l2)
            i += 8
        }
        if d8 < d {
            let r0 = loadPartial(r0p + d8, d - d8), r1 = loadPartial(r1p + d8, d - d8)
            let q0 = load8(q0p + d8), q1 = load8(q1p + d8), q2 = load8(q2p + d8), q3 = load8(q3p + d8)
            a00 = step(a00, q0, r0, l2: l2); a01 = step(a01, q0, r1, l2: l2)
            a10 = step(a10, q1, r0, l2: l2); a11 = step(a11, q1, r1, l2: l2)
            a20 = step(a20, q2, r0, l2: l2); a21 = step(a21, q2, r1, l2: l2)
            a30 = step(a30, q3, r0, l2: l2); a31 = step(a31, q3, r1, l2: l2)
        }
        out[0] = reduce(a00); out[1] = reduce(a01)
        out[os] = reduce(a10); out[os + 1] = reduce(a11)
        out[2 * os] = reduce(a20); out[2 * os + 1] = reduce(a21)
        out[3 * os] = reduce(a30); out[3 * os + 1] = reduce(a31)
    }

    /// One query against four consecutive rows (four independent accumulator chains).
    @inlinable @inline(__always)
    static func micro1x4<Op: AccumulateOp>(
        _ q: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ d: Int, _ l2: Op.Type,
        _ out: UnsafeMutablePointer<Float>
    ) {
        let r0p = row, r1p = row + d, r2p = row + 2 * d, r3p = row + 3 * d
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        let d8 = d & ~7
        var i = 0
        while i < d8 {
            let qv = load8(q + i)
            a0 = step(a0, qv, load8(r0p + i), l2: l2)
            a1 = step(a1, qv, load8(r1p + i), l2: l2)
            a2 = step(a2, qv, load8(r2p + i), l2: l2)
            a3 = step(a3, qv, load8(r3p + i), l2: l2)
            i += 8
        }
        if d8 < d {
            let qv = load8(q + d8), t = d - d8
            a0 = step(a0, qv, loadPartial(r0p + d8, t), l2: l2)
            a1 = step(a1, qv, loadPartial(r1p + d8, t), l2: l2)
            a2 = step(a2, qv, loadPartial(r2p + d8, t), l2: l2)
            a3 = step(a3, qv, loadPartial(r3p + d8, t), l2: l2)
        }
        out[0] = reduce(a0); out[1] = reduce(a1); out[2] = reduce(a2); out[3] = reduce(a3)
    }

    /// One query against one row.
    @inlinable @inline(__always)
    static func micro1x1<Op: AccumulateOp>(_ q: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ d: Int, _ l2: Op.Type) -> Float {
        var a = SIMD8<Float>()
        let d8 = d & ~7
        var i = 0
        while i < d8 {
            a = step(a, load8(q + i), load8(row + i), l2: l2)
            i += 8
        }
        if d8 < d { a = step(a, load8(q + d8), loadPartial(row + d8, d - d8), l2: l2) }
        return reduce(a)
    }
}

/// The per-chunk operation of a scoring kernel, a type so that each kernel is specialised
/// (no metric branch in the inner loop).
@_spi(Benchmarks) public protocol AccumulateOp {
    static func step(_ acc: SIMD8<Float>, _ q: SIMD8<Float>, _ r: SIMD8<Float>) -> SIMD8<Float>
}

/// `acc + q·r`.
@_spi(Benchmarks) public enum DotOp: AccumulateOp {
    @inlinable @inline(__always)
    public static func step(_ acc: SIMD8<Float>, _ q: SIMD8<Float>, _ r: SIMD8<Float>) -> SIMD8<Float> {
        Kernels.madd(acc, q, r)
    }
}

/// `acc + (q−r)²`.
@_spi(Benchmarks) public enum L2Op: AccumulateOp {
    @inlinable @inline(__always)
    public static func step(_ acc: SIMD8<Float>, _ q: SIMD8<Float>, _ r: SIMD8<Float>) -> SIMD8<Float> {
        let t = q - r
        return Kernels.madd(acc, t, t)
    }
}
