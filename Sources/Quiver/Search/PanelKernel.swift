/// The packed GEMM-style kernel `FlatScan` uses: a block of stored rows is packed into panels of
/// 8 rows stored dimension-major (`panel[i * 8 + j]` = dimension `i` of row `j`), and a 4×16
/// micro-kernel broadcasts one query value at a time against two panels:
///
///     for each dimension i:  acc[q][p] += broadcast(query[q][i]) × panel[p][i]   (4 × 2 SIMD8)
///
/// so each accumulator lane is one (query, row) score and no horizontal sums are needed; 8
/// multiply-adds per 2 panel loads and 4 broadcasts (the AVX2 SGEMM micro-kernel shape, e.g.
/// BLIS `bli_sgemm_haswell_asm_6x16`). Packing is O(rows × dimension) per block and shared by
/// every query of the batch; the stored vectors themselves are read in place.
///
/// Every (query, row) score is one chain of multiply-adds over the dimensions in order, whichever
/// kernel computes it (4×16, 4×8, 1×16, 1×8, or ``Kernels/scoreRowSequential(_:_:_:l2:)`` for
/// single rows), so every query of a batch gets the same bits whatever its position. Packing
/// costs about as much as scanning for one query, so `FlatScan` uses these kernels for batches
/// (≥ 12 queries) and the unpacked kernels in BlockedKernel.swift for fewer; the two sum in a
/// different order and may differ in the last bits.
extension Kernels {
    /// Scalar twin of ``madd(_:_:_:)``: fused exactly when the SIMD version is.
    @inlinable @inline(__always)
    public static func madd(_ acc: Float, _ a: Float, _ b: Float) -> Float {
        #if arch(arm64) || QUIVER_FMA
        return acc.addingProduct(a, b)
        #else
        return acc + a * b
        #endif
    }

    /// Packs `rowCount` rows (`dimension` floats each, consecutive) into `⌈rowCount / 8⌉`
    /// panels at `out` (`8 × dimension` floats each); missing rows of the last panel are zero.
    @inlinable
    public static func packPanels(
        rows: UnsafePointer<Float>, rowCount n: Int, dimension d: Int, out: UnsafeMutablePointer<Float>
    ) {
        var p = 0
        while p * 8 < n {
            let dst = out + p * 8 * d
            let src = rows + p * 8 * d
            if p * 8 + 8 <= n {
                for i in 0..<d {
                    let v = SIMD8<Float>(
                        src[i], src[d + i], src[2 * d + i], src[3 * d + i],
                        src[4 * d + i], src[5 * d + i], src[6 * d + i], src[7 * d + i])
                    UnsafeMutableRawPointer(dst + i * 8).storeBytes(of: v, as: SIMD8<Float>.self)
                }
            } else {
                let m = n - p * 8
                for i in 0..<d {
                    var v = SIMD8<Float>()
                    for j in 0..<m { v[j] = src[j * d + i] }
                    UnsafeMutableRawPointer(dst + i * 8).storeBytes(of: v, as: SIMD8<Float>.self)
                }
            }
            p += 1
        }
    }

    /// Scores `panelCount` packed panels against `queryCount` queries (stride `queryStride`).
    ///
    /// Writes the dot product (`l2 == false`) or the squared L2 distance of query `q` and row
    /// `r` (row `r` of the packed block) to `out[q * outStride + r]`, for `r < 8 × panelCount`.
    /// `wide` picks the 4×16 micro-kernel (default: where it fits the registers); the result
    /// is the same either way.
    @inlinable
    public static func scorePanels(
        queries: UnsafePointer<Float>, queryCount: Int, queryStride: Int,
        panels: UnsafePointer<Float>, panelCount: Int, dimension d: Int, l2: Bool,
        out: UnsafeMutablePointer<Float>, outStride: Int, wide: Bool = wideMicroKernel
    ) {
        if l2 {
            scorePanelsImpl(queries, queryCount, queryStride, panels, panelCount, d, L2Op.self, out, outStride, wide)
        } else {
            scorePanelsImpl(queries, queryCount, queryStride, panels, panelCount, d, DotOp.self, out, outStride, wide)
        }
    }

    @inlinable @inline(__always)
    static func scorePanelsImpl<Op: AccumulateOp>(
        _ queries: UnsafePointer<Float>, _ nq: Int, _ qs: Int,
        _ panels: UnsafePointer<Float>, _ np: Int, _ d: Int, _ op: Op.Type,
        _ out: UnsafeMutablePointer<Float>, _ os: Int, _ wide: Bool
    ) {
        let ps = 8 * d
        var q = 0
        while q + 4 <= nq {
            var p = 0
            while wide && p + 2 <= np {
                panel4x16(queries + q * qs, qs, panels + p * ps, d, op, out + q * os + p * 8, os)
                p += 2
            }
            while p < np {
                panel4x8(queries + q * qs, qs, panels + p * ps, d, op, out + q * os + p * 8, os)
                p += 1
            }
            q += 4
        }
        while q < nq {
            var p = 0
            while p + 2 <= np {
                panel1x16(queries + q * qs, panels + p * ps, d, op, out + q * os + p * 8)
                p += 2
            }
            if p < np { panel1x8(queries + q * qs, panels + p * ps, d, op, out + q * os + p * 8) }
            q += 1
        }
    }

    /// Whether the 4×16 kernel fits the registers: its 8 `SIMD8` accumulators take 8 of the 16
    /// `ymm` registers with AVX, but all 16 `xmm` registers on baseline x86-64 (SSE2, where
    /// each `SIMD8` is two registers), which would spill; there the 4×8 kernel is used.
    @inlinable
    static var wideMicroKernel: Bool {
        #if arch(x86_64) && !QUIVER_FMA
        return false
        #else
        return true
        #endif
    }

    @inlinable @inline(__always)
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// Four queries against two panels (16 rows): 8 accumulators.
    @inlinable @inline(__always)
    static func panel4x16<Op: AccumulateOp>(
        _ q: UnsafePointer<Float>, _ qs: Int, _ panel: UnsafePointer<Float>, _ d: Int, _ op: Op.Type,
        _ out: UnsafeMutablePointer<Float>, _ os: Int
    ) {
        let p0 = panel, p1 = panel + 8 * d
        let q0 = q, q1 = q + qs, q2 = q + 2 * qs, q3 = q + 3 * qs
        var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a10 = SIMD8<Float>(), a11 = SIMD8<Float>()
        var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a30 = SIMD8<Float>(), a31 = SIMD8<Float>()
        for i in 0..<d {
            let c0 = load8(p0 + 8 * i), c1 = load8(p1 + 8 * i)
            let b0 = SIMD8(repeating: q0[i])
            a00 = Op.step(a00, b0, c0); a01 = Op.step(a01, b0, c1)
            let b1 = SIMD8(repeating: q1[i])
            a10 = Op.step(a10, b1, c0); a11 = Op.step(a11, b1, c1)
            let b2 = SIMD8(repeating: q2[i])
            a20 = Op.step(a20, b2, c0); a21 = Op.step(a21, b2, c1)
            let b3 = SIMD8(repeating: q3[i])
            a30 = Op.step(a30, b3, c0); a31 = Op.step(a31, b3, c1)
        }
        store8(a00, out); store8(a01, out + 8)
        store8(a10, out + os); store8(a11, out + os + 8)
        store8(a20, out + 2 * os); store8(a21, out + 2 * os + 8)
        store8(a30, out + 3 * os); store8(a31, out + 3 * os + 8)
    }

    /// Four queries against one panel.
    @inlinable @inline(__always)
    static func panel4x8<Op: AccumulateOp>(
        _ q: UnsafePointer<Float>, _ qs: Int, _ panel: UnsafePointer<Float>, _ d: Int, _ op: Op.Type,
        _ out: UnsafeMutablePointer<Float>, _ os: Int
    ) {
        let q0 = q, q1 = q + qs, q2 = q + 2 * qs, q3 = q + 3 * qs
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        for i in 0..<d {
            let c = load8(panel + 8 * i)
            a0 = Op.step(a0, SIMD8(repeating: q0[i]), c)
            a1 = Op.step(a1, SIMD8(repeating: q1[i]), c)
            a2 = Op.step(a2, SIMD8(repeating: q2[i]), c)
            a3 = Op.step(a3, SIMD8(repeating: q3[i]), c)
        }
        store8(a0, out); store8(a1, out + os); store8(a2, out + 2 * os); store8(a3, out + 3 * os)
    }

    /// One query against two panels. Two chains per panel would be faster on their own, but the
    /// order of operations must match the 4×16 kernel; the scan is memory-bound for one query.
    @inlinable @inline(__always)
    static func panel1x16<Op: AccumulateOp>(
        _ q: UnsafePointer<Float>, _ panel: UnsafePointer<Float>, _ d: Int, _ op: Op.Type,
        _ out: UnsafeMutablePointer<Float>
    ) {
        let p0 = panel, p1 = panel + 8 * d
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        for i in 0..<d {
            let b = SIMD8(repeating: q[i])
            a0 = Op.step(a0, b, load8(p0 + 8 * i))
            a1 = Op.step(a1, b, load8(p1 + 8 * i))
        }
        store8(a0, out); store8(a1, out + 8)
    }

    /// One query against one panel.
    @inlinable @inline(__always)
    static func panel1x8<Op: AccumulateOp>(
        _ q: UnsafePointer<Float>, _ panel: UnsafePointer<Float>, _ d: Int, _ op: Op.Type,
        _ out: UnsafeMutablePointer<Float>
    ) {
        var a = SIMD8<Float>()
        for i in 0..<d { a = Op.step(a, SIMD8(repeating: q[i]), load8(panel + 8 * i)) }
        store8(a, out)
    }

    /// The squared norm of each row of `panelCount` packed panels (`out[r]`, `8 × panelCount`
    /// values), summed in the panel kernels' order, so it equals the row's dot product with
    /// itself on those kernels bit for bit.
    @inlinable
    public static func squaredNormsOfPanels(
        _ panels: UnsafePointer<Float>, panelCount: Int, dimension d: Int, out: UnsafeMutablePointer<Float>
    ) {
        for p in 0..<panelCount {
            let panel = panels + p * 8 * d
            var a = SIMD8<Float>()
            for i in 0..<d {
                let c = load8(panel + 8 * i)
                a = DotOp.step(a, c, c)
            }
            store8(a, out + p * 8)
        }
    }

    /// The squared norm of one unpacked vector in the panel kernels' order of operations.
    @inlinable
    public static func squaredNormSequential(_ v: UnsafePointer<Float>, _ d: Int) -> Float {
        var a: Float = 0
        for i in 0..<d { a = madd(a, v[i], v[i]) }
        return a
    }

    /// One query against one unpacked row, in the panel kernels' order of operations (used for
    /// the few allowed rows of a sparse bitset word).
    @inlinable
    public static func scoreRowSequential(_ q: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ d: Int, l2: Bool) -> Float {
        var a = SIMD8<Float>()
        if l2 {
            for i in 0..<d { a = L2Op.step(a, SIMD8(repeating: q[i]), SIMD8(repeating: row[i])) }
        } else {
            for i in 0..<d { a = DotOp.step(a, SIMD8(repeating: q[i]), SIMD8(repeating: row[i])) }
        }
        return a[0]
    }
}
