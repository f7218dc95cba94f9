import Testing
@testable @_spi(Benchmarks) import Quiver

@Suite struct KernelTests {
    @Test(arguments: kernelTestDimensions)
    func float32KernelsMatchDoubleReference(dimension d: Int) {
        let seed = UInt64(d) &* 7919
        var rng = SeededRandom(seed: seed)
        for _ in 0..<5 {
          let a = rng.floats(d), b = rng.floats(d)
          for table in Kernels.Table.supported {
            let tol = 1e-5 * Reference.absDot(a, b) + 1e-6
            // The walk's kernels (16 floats wide at the AVX-512 level) too.
            let (dot, l2, na, dotWide, l2Wide) = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    (Kernels.dot(pa.baseAddress!, pb.baseAddress!, d, table: table),
                     Kernels.l2Squared(pa.baseAddress!, pb.baseAddress!, d, table: table),
                     Kernels.norm(pa.baseAddress!, d, table: table),
                     Kernels.dotWide(pa.baseAddress!, pb.baseAddress!, d, table: table),
                     Kernels.l2SquaredWide(pa.baseAddress!, pb.baseAddress!, d, table: table))
                }
            }
            #expect(abs(Double(dot) - Reference.dot(a, b)) <= tol, "seed \(seed)")
            #expect(abs(Double(dotWide) - Reference.dot(a, b)) <= tol, "seed \(seed)")
            let l2Tol = 1e-5 * Reference.l2(a, b) + 1e-6
            #expect(abs(Double(l2) - Reference.l2(a, b)) <= l2Tol, "seed \(seed)")
            #expect(abs(Double(l2Wide) - Reference.l2(a, b)) <= l2Tol, "seed \(seed)")
            #expect(abs(Double(na) - Reference.norm(a)) <= 1e-5 * Reference.norm(a) + 1e-6, "seed \(seed)")
            let nb = Float(Reference.norm(b))
            let cos = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    Kernels.score(.cosine, pa.baseAddress!, pb.baseAddress!, d, queryNorm: na, rowNorm: nb, table: table)
                }
            }
            let refCos = Reference.dot(a, b) / (Reference.norm(a) * Reference.norm(b))
            #expect(abs(Double(cos) - refCos) <= 1e-4, "seed \(seed) \(table)")
          }
        }
    }

    @Test func cosineOfZeroVectorIsZeroAndClamped() {
        let z = [Float](repeating: 0, count: 9), a = [Float](repeating: 1, count: 9)
        z.withUnsafeBufferPointer { pz in
            a.withUnsafeBufferPointer { pa in
                #expect(Kernels.score(.cosine, pz.baseAddress!, pa.baseAddress!, 9, queryNorm: 0, rowNorm: 3) == 0)
            }
        }
        #expect(Kernels.cosine(dot: 1.0000001, 1, 1) == 1)
        #expect(Kernels.cosine(dot: -2, 1, 1) == -1)
    }

    /// The blocked kernel (4×2, 1×4, 1×1 paths) against the reference, for every remainder shape.
    @Test(arguments: [1, 3, 7, 15, 17, 31, 100, 128])
    func blockedKernelMatchesReference(dimension d: Int) {
        let seed = UInt64(d) &+ 1234
        var rng = SeededRandom(seed: seed)
        let dp = Kernels.paddedDimension(d)
        for (nq, nr) in [(1, 1), (1, 5), (3, 9), (4, 2), (4, 7), (5, 3), (9, 11)] {
            let qs = (0..<nq).map { _ in rng.floats(d) }
            let rs = (0..<nr).map { _ in rng.floats(d) }
            var packed = [Float](repeating: 0, count: nq * dp)
            for q in 0..<nq { for j in 0..<d { packed[q * dp + j] = qs[q][j] } }
            let flat = rs.flatMap { $0 }
            for l2 in [false, true] {
              for table in Kernels.Table.supported {
                var out = [Float](repeating: .nan, count: nq * (nr + 1))
                packed.withUnsafeBufferPointer { pq in
                    flat.withUnsafeBufferPointer { pr in
                        out.withUnsafeMutableBufferPointer { po in
                            Kernels.scoreBlock(
                                queries: pq.baseAddress!, queryCount: nq, queryStride: dp, rows: pr.baseAddress!,
                                rowCount: nr, dimension: d, l2: l2, out: po.baseAddress!, outStride: nr + 1, table: table)
                        }
                    }
                }
                for q in 0..<nq {
                    for r in 0..<nr {
                        let ref = l2 ? Reference.l2(qs[q], rs[r]) : Reference.dot(qs[q], rs[r])
                        let tol = 1e-5 * (l2 ? ref : Reference.absDot(qs[q], rs[r])) + 1e-6
                        #expect(abs(Double(out[q * (nr + 1) + r]) - ref) <= tol, "seed \(seed) nq \(nq) nr \(nr) l2 \(l2)")
                    }
                    #expect(out[q * (nr + 1) + nr].isNaN, "wrote past the row block")
                }
              }
            }
        }
    }

    /// Packed panel kernels (4×16, 4×8, 1×16, 1×8, partial panels) against the reference, and
    /// the single-row sequential kernel against the panels bit for bit.
    @Test(arguments: [1, 3, 7, 17, 128])
    func panelKernelMatchesReference(dimension d: Int) {
        let seed = UInt64(d) &+ 555
        var rng = SeededRandom(seed: seed)
        for (nq, nr) in [(1, 1), (1, 9), (3, 16), (4, 8), (5, 23), (9, 64)] {
            let qs = (0..<nq).map { _ in rng.floats(d) }
            let flat = rng.floats(nr * d)
            let np = (nr + 7) / 8
            var panels = [Float](repeating: .nan, count: np * 8 * d)
            let stride = np * 8 + 1
            var out = [Float](repeating: .nan, count: nq * stride)
            let q = qs.flatMap { $0 }
            for (l2, wide) in [(false, false), (false, true), (true, false), (true, true)] {
              for table in Kernels.Table.supported {
                flat.withUnsafeBufferPointer { pr in
                    panels.withUnsafeMutableBufferPointer { pp in
                        Kernels.packPanels(rows: pr.baseAddress!, rowCount: nr, dimension: d, out: pp.baseAddress!, table: table)
                    }
                }
                q.withUnsafeBufferPointer { pq in
                    panels.withUnsafeBufferPointer { pp in
                        out.withUnsafeMutableBufferPointer { po in
                            Kernels.scorePanels(
                                queries: pq.baseAddress!, queryCount: nq, queryStride: d, panels: pp.baseAddress!,
                                panelCount: np, dimension: d, l2: l2, out: po.baseAddress!, outStride: stride, wide: wide,
                                table: table)
                        }
                    }
                }
                for i in 0..<nq {
                    for r in 0..<nr {
                        let row = Array(flat[r * d..<(r + 1) * d])
                        let ref = l2 ? Reference.l2(qs[i], row) : Reference.dot(qs[i], row)
                        let tol = 1e-5 * (l2 ? ref : Reference.absDot(qs[i], row)) + 1e-6
                        let got = out[i * stride + r]
                        #expect(abs(Double(got) - ref) <= tol, "seed \(seed) nq \(nq) nr \(nr) l2 \(l2)")
                        let seq = qs[i].withUnsafeBufferPointer { pq in
                            row.withUnsafeBufferPointer { Kernels.scoreRowSequential(pq.baseAddress!, $0.baseAddress!, d, l2: l2, table: table) }
                        }
                        #expect(seq.bitPattern == got.bitPattern, "seed \(seed) \(table)")
                    }
                    #expect(out[i * stride + np * 8].isNaN, "wrote past the block")
                }
                // Squared norms in the panel order equal each row's panel dot product with itself.
                if !l2 {
                    var norms = [Float](repeating: .nan, count: np * 8), selfDots = norms
                    panels.withUnsafeBufferPointer { pp in
                        norms.withUnsafeMutableBufferPointer { po in
                            Kernels.squaredNormsOfPanels(pp.baseAddress!, panelCount: np, dimension: d, out: po.baseAddress!, table: table)
                        }
                        for r in 0..<nr {
                            selfDots[r] = flat.withUnsafeBufferPointer { pr in
                                Kernels.squaredNormSequential(pr.baseAddress! + r * d, d, table: table)
                            }
                        }
                    }
                    #expect(norms[0..<nr].map(\.bitPattern) == selfDots[0..<nr].map(\.bitPattern), "seed \(seed) \(table)")
                }
              }
            }
        }
    }

    /// Every level's widening, one value at a time (the tail path) and in blocks of eight.
    @Test(arguments: Kernels.Table.supported)
    func float16WideningIsExactForEveryBitPattern(table: Kernels.Table) {
        let all = (0...UInt16.max).map { $0 }
        var widened = [Float](repeating: 0, count: all.count)
        all.withUnsafeBufferPointer { src in
            widened.withUnsafeMutableBufferPointer { Kernels.widen(src.baseAddress!, count: all.count, .float16, into: $0.baseAddress!, table: table) }
        }
        for bits in UInt16.min...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            for got in [Kernels.widen(bits, .float16, table: table), widened[Int(bits)]] {
                if expected.isNaN {
                    #expect(got.isNaN)
                } else if got.bitPattern != expected.bitPattern {
                    Issue.record("\(table) float16 \(bits): \(got) ≠ \(expected)")
                    return
                }
            }
        }
    }

    @Test func bfloat16WideningIsUpperHalfOfFloat() {
        for x: Float in [0, -0, 1, -2.5, 3.140625, .infinity, Float(bitPattern: 0x0001_2345)] {
            let bits = UInt16(x.bitPattern >> 16)
            for table in Kernels.Table.supported {
                #expect(Kernels.widen(bits, .bfloat16, table: table).bitPattern == x.bitPattern & 0xFFFF_0000)
            }
        }
    }

    @Test(arguments: kernelTestDimensions)
    func halfPrecisionKernelsMatchReference(dimension d: Int) {
        var rng = SeededRandom(seed: UInt64(d) &+ 99)
        let q = rng.floats(d)
        let stored = rng.floats(d)
        for format in [Kernels.HalfFormat.float16, .bfloat16] {
          for table in Kernels.Table.supported {
            let bits: [UInt16] = stored.map {
                format == .float16 ? Float16($0).bitPattern : UInt16($0.bitPattern >> 16)
            }
            let widened = bits.map { Kernels.widen($0, format, table: table) }
            let (dot, l2, norm, cos) = q.withUnsafeBufferPointer { pq in
                bits.withUnsafeBufferPointer { pb in
                    let n = Kernels.norm(pb.baseAddress!, d, format: format, table: table)
                    return (Kernels.dot(pq.baseAddress!, pb.baseAddress!, d, format: format, table: table),
                            Kernels.l2Squared(pq.baseAddress!, pb.baseAddress!, d, format: format, table: table), n,
                            Kernels.cosine(pq.baseAddress!, pb.baseAddress!, d, format: format,
                                           queryNorm: Float(Reference.norm(q)), rowNorm: n, table: table))
                }
            }
            #expect(abs(Double(dot) - Reference.dot(q, widened)) <= 1e-5 * Reference.absDot(q, widened) + 1e-6)
            #expect(abs(Double(l2) - Reference.l2(q, widened)) <= 1e-5 * Reference.l2(q, widened) + 1e-6)
            #expect(abs(Double(norm) - Reference.norm(widened)) <= 1e-5 * Reference.norm(widened) + 1e-6)
            let refCos = Reference.dot(q, widened) / (Reference.norm(q) * Reference.norm(widened))
            #expect(abs(Double(cos) - refCos) <= 1e-4, "\(table)")
          }
        }
    }

    /// The half-precision block kernel widens rows in registers; its scores must equal, bit for
    /// bit, the float32 block kernel's on the widened rows (the scan uses one or the other
    /// depending on the batch size, and results must not depend on that).
    @Test(arguments: kernelTestDimensions)
    func halfBlockKernelEqualsWidenedFloatKernel(dimension d: Int) {
        var rng = SeededRandom(seed: UInt64(d) &+ 123)
        // 5 queries: the float32 kernel takes 4 of them through its 4×2 micro-kernel, one alone.
        let nq = 5, nr = 11, qs = Kernels.paddedDimension(d)
        var queries = [Float](repeating: 0, count: nq * qs)
        for q in 0..<nq { for i in 0..<d { queries[q * qs + i] = Float.random(in: -1...1, using: &rng) } }
        let stored = rng.floats(nr * d)
        for format in [Kernels.HalfFormat.float16, .bfloat16] {
            let bits: [UInt16] = stored.map { format == .float16 ? Float16($0).bitPattern : UInt16($0.bitPattern >> 16) }
            var widened = [Float](repeating: .nan, count: nr * d)
            for l2 in [false, true] {
              for table in Kernels.Table.supported {
                var fromHalf = [Float](repeating: .nan, count: nq * nr), fromFloat = fromHalf
                queries.withUnsafeBufferPointer { q in
                    bits.withUnsafeBufferPointer { b in
                        widened.withUnsafeMutableBufferPointer { w in
                            Kernels.widen(b.baseAddress!, count: nr * d, format, into: w.baseAddress!, table: table)
                            fromFloat.withUnsafeMutableBufferPointer { o in
                                Kernels.scoreBlock(queries: q.baseAddress!, queryCount: nq, queryStride: qs, rows: w.baseAddress!,
                                                   rowCount: nr, dimension: d, l2: l2, out: o.baseAddress!, outStride: nr,
                                                   table: table)
                            }
                        }
                        fromHalf.withUnsafeMutableBufferPointer { o in
                            Kernels.scoreBlock(queries: q.baseAddress!, queryCount: nq, queryStride: qs, halfRows: b.baseAddress!,
                                               format: format, rowCount: nr, dimension: d, l2: l2, out: o.baseAddress!, outStride: nr,
                                               table: table)
                        }
                    }
                }
                #expect(fromHalf.map(\.bitPattern) == fromFloat.map(\.bitPattern), "d \(d) \(format) l2 \(l2) \(table)")
                #expect(widened == bits.map { Kernels.widen($0, format, table: table) })
              }
            }
        }
    }

    @Test(arguments: [1, 3, 7, 8, 15, 16, 17, 31, 32, 100, 128])
    func binaryKernelsMatchBitCounting(byteCount n: Int) {
        var rng = SeededRandom(seed: UInt64(n) &+ 5)
        for _ in 0..<10 {
            let a = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let b = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) & UInt8.random(in: 0...255, using: &rng) }
            var diff = 0, inter = 0, union = 0
            for i in 0..<n {
                for bit in 0..<8 {
                    let x = (a[i] >> bit) & 1, y = (b[i] >> bit) & 1
                    diff += Int(x ^ y); inter += Int(x & y); union += Int(x | y)
                }
            }
            for table in Kernels.Table.supported {
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        #expect(Kernels.hamming(pa.baseAddress!, pb.baseAddress!, byteCount: n, table: table) == Float(diff))
                        let j = Kernels.jaccard(pa.baseAddress!, pb.baseAddress!, byteCount: n, table: table)
                        #expect(abs(Double(j) - (union == 0 ? 0 : 1 - Double(inter) / Double(union))) < 1e-6, "\(table)")
                    }
                }
            }
        }
        let zero = [UInt8](repeating: 0, count: n)
        zero.withUnsafeBufferPointer { z in
            #expect(Kernels.jaccard(z.baseAddress!, z.baseAddress!, byteCount: n) == 0)
            #expect(Kernels.hamming(z.baseAddress!, z.baseAddress!, byteCount: n) == 0)
        }
    }
}
