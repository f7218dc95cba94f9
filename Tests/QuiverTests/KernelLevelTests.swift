import Foundation
import Testing
@testable @_spi(Benchmarks) import Quiver

/// Every instruction-set level this CPU runs (`Kernels.Table.supported`) against the baseline
/// level, on odd dimensions and tails. On this project's x86-64 machines that is baseline (SSE2),
/// AVX2 and, where the CPU has it, AVX-512; the arm64 NEON variants run only on arm64.
///
/// Levels may differ only by rounding, so each result is checked against an exact (double)
/// reference and against the baseline with a bound from the error analysis of floating-point
/// sums (Higham, "Accuracy and Stability of Numerical Algorithms", §3.1), not from the kernels:
/// a sum of float32 terms in which no term passes through more than `h` roundings is within
/// `γ(h) · Σ|term|` of the exact sum, `γ(h) = h·u / (1 − h·u)`, `u = 2⁻²⁴`. Every kernel here
/// sums a term through at most `n` chained additions plus a 3-level reduction tree and a few
/// combining additions, and rounds each term itself at most three times (a product; for L2 a
/// difference, then its square), so `h = n + 8` covers them all.
@Suite struct KernelLevelTests {
    static let dimensions = [1, 7, 8, 9, 31, 128, 384, 769]
    static let baseline = Kernels.Table(level: .baseline)!

    static func gamma(_ n: Int) -> Double {
        let hu = Double(n + 8) * 0x1p-24
        return hu / (1 - hu)
    }

    /// `got` and `base` are within the bound of the exact `exact`, and of each other.
    static func expectClose(
        _ got: Float, _ base: Float, exact: Double, magnitude: Double, n: Int, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let bound = gamma(n) * magnitude + Double(Float.leastNormalMagnitude)
        #expect(abs(Double(got) - exact) <= bound, "\(what): \(got) vs exact \(exact)", sourceLocation: sourceLocation)
        #expect(abs(Double(base) - exact) <= bound, "\(what) baseline: \(base) vs exact \(exact)", sourceLocation: sourceLocation)
        #expect(abs(Double(got) - Double(base)) <= 2 * bound, "\(what): \(got) vs baseline \(base)", sourceLocation: sourceLocation)
    }

    @Test func selectedLevelIsTheBestSupportedUnderTheCap() {
        let supported = Kernels.Table.supported.map(\.level)
        #expect(supported.first == .baseline)
        #expect(supported == Array(Kernels.Table.Level.allCases.prefix(supported.count)), "levels are cumulative")
        let cap: Kernels.Table.Level
        switch ProcessInfo.processInfo.environment["QUIVER_CPU"] {
        case "baseline", "portable": cap = .baseline
        case "avx2": cap = .avx2
        default: cap = .avx512
        }
        let expected = supported.last { $0.rawValue <= cap.rawValue }!
        #expect(Kernels.Table.selected.level == expected)
    }

    @Test(arguments: dimensions)
    func float32MatchesBaseline(dimension n: Int) {
        var rng = SeededRandom(seed: UInt64(n) &* 31 &+ 7)
        let a = rng.floats(n), b = rng.floats(n, in: -4...4)
        let dot = Reference.dot(a, b), absDot = Reference.absDot(a, b), l2 = Reference.l2(a, b)
        let base = Self.baseline
        for table in Kernels.Table.supported {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let (x, y) = (pa.baseAddress!, pb.baseAddress!)
                    Self.expectClose(Kernels.dot(x, y, n, table: table), Kernels.dot(x, y, n, table: base),
                                     exact: dot, magnitude: absDot, n: n, "dot \(table) d \(n)")
                    Self.expectClose(Kernels.dotWide(x, y, n, table: table), Kernels.dotWide(x, y, n, table: base),
                                     exact: dot, magnitude: absDot, n: n, "dotWide \(table) d \(n)")
                    Self.expectClose(Kernels.l2Squared(x, y, n, table: table), Kernels.l2Squared(x, y, n, table: base),
                                     exact: l2, magnitude: l2, n: n, "l2 \(table) d \(n)")
                    Self.expectClose(Kernels.l2SquaredWide(x, y, n, table: table), Kernels.l2SquaredWide(x, y, n, table: base),
                                     exact: l2, magnitude: l2, n: n, "l2Wide \(table) d \(n)")
                    Self.expectClose(Kernels.squaredNormSequential(x, n, table: table), Kernels.squaredNormSequential(x, n, table: base),
                                     exact: Reference.dot(a, a), magnitude: Reference.dot(a, a), n: n, "squared norm \(table) d \(n)")
                    for l2Metric in [false, true] {
                        Self.expectClose(Kernels.scoreRowSequential(x, y, n, l2: l2Metric, table: table),
                                         Kernels.scoreRowSequential(x, y, n, l2: l2Metric, table: base),
                                         exact: l2Metric ? l2 : dot, magnitude: l2Metric ? l2 : absDot, n: n,
                                         "sequential \(table) d \(n) l2 \(l2Metric)")
                    }
                }
            }
        }
    }

    /// The gather kernels (a walk's batch of neighbours in one call) give, at every level, the
    /// bits of the pairwise walk kernel on each gathered row, in any order and with repeats.
    @Test(arguments: dimensions)
    func gatherMatchesThePairwiseWalkKernel(dimension n: Int) {
        var rng = SeededRandom(seed: UInt64(n) &* 17 &+ 3)
        let rowCount = 11
        let rows = rng.floats(rowCount * n, in: -2...2), query = rng.floats(n)
        let ids: [Int32] = [7, 0, 10, 3, 3, 9, 1, 5, 2, 8, 4, 6, 0]
        for table in Kernels.Table.supported {
            rows.withUnsafeBufferPointer { r in
                query.withUnsafeBufferPointer { q in
                    var dots = [Float](repeating: .nan, count: ids.count), l2s = dots
                    Kernels.dotGather(q.baseAddress!, r.baseAddress!, n, ids, ids.count, &dots, table: table)
                    Kernels.l2SquaredGather(q.baseAddress!, r.baseAddress!, n, ids, ids.count, &l2s, table: table)
                    for (j, id) in ids.enumerated() {
                        let row = r.baseAddress! + Int(id) * n
                        #expect(dots[j].bitPattern == Kernels.dotWide(q.baseAddress!, row, n, table: table).bitPattern,
                                "dot gather \(table) d \(n) row \(id)")
                        #expect(l2s[j].bitPattern == Kernels.l2SquaredWide(q.baseAddress!, row, n, table: table).bitPattern,
                                "l2 gather \(table) d \(n) row \(id)")
                    }
                }
            }
        }
    }

    /// The block and panel kernels of every level against the baseline's, for 6 queries (a group
    /// of four and two alone) against 13 rows (a pair, a four and a tail; a full and a partial panel).
    @Test(arguments: dimensions)
    func blockAndPanelKernelsMatchBaseline(dimension d: Int) {
        var rng = SeededRandom(seed: UInt64(d) &* 17 &+ 3)
        let nq = 6, nr = 13, qs = Kernels.paddedDimension(d), np = (nr + 7) / 8
        let qs2 = (0..<nq).map { _ in rng.floats(d) }, rs = (0..<nr).map { _ in rng.floats(d) }
        var padded = [Float](repeating: 0, count: nq * qs)
        for q in 0..<nq { for i in 0..<d { padded[q * qs + i] = qs2[q][i] } }
        let flat = rs.flatMap { $0 }
        func run(_ table: Kernels.Table, l2: Bool) -> (block: [Float], panels: [Float]) {
            var block = [Float](repeating: .nan, count: nq * nr), panelOut = [Float](repeating: .nan, count: nq * np * 8)
            var panels = [Float](repeating: .nan, count: np * 8 * d)
            padded.withUnsafeBufferPointer { q in
                flat.withUnsafeBufferPointer { r in
                    block.withUnsafeMutableBufferPointer { o in
                        Kernels.scoreBlock(queries: q.baseAddress!, queryCount: nq, queryStride: qs, rows: r.baseAddress!, rowCount: nr,
                                           dimension: d, l2: l2, out: o.baseAddress!, outStride: nr, table: table)
                    }
                    panels.withUnsafeMutableBufferPointer { p in
                        Kernels.packPanels(rows: r.baseAddress!, rowCount: nr, dimension: d, out: p.baseAddress!, table: table)
                        panelOut.withUnsafeMutableBufferPointer { o in
                            Kernels.scorePanels(queries: q.baseAddress!, queryCount: nq, queryStride: qs, panels: p.baseAddress!,
                                                panelCount: np, dimension: d, l2: l2, out: o.baseAddress!, outStride: np * 8, table: table)
                        }
                    }
                }
            }
            return (block, panelOut)
        }
        for l2 in [false, true] {
            let base = run(Self.baseline, l2: l2)
            for table in Kernels.Table.supported {
                let got = run(table, l2: l2)
                for q in 0..<nq {
                    for r in 0..<nr {
                        let exact = l2 ? Reference.l2(qs2[q], rs[r]) : Reference.dot(qs2[q], rs[r])
                        let magnitude = l2 ? exact : Reference.absDot(qs2[q], rs[r])
                        Self.expectClose(got.block[q * nr + r], base.block[q * nr + r], exact: exact, magnitude: magnitude, n: d,
                                         "block \(table) d \(d) l2 \(l2) q \(q) r \(r)")
                        Self.expectClose(got.panels[q * np * 8 + r], base.panels[q * np * 8 + r], exact: exact, magnitude: magnitude,
                                         n: d, "panels \(table) d \(d) l2 \(l2) q \(q) r \(r)")
                    }
                }
            }
        }
    }

    @Test(arguments: dimensions)
    func halfKernelsMatchBaseline(dimension n: Int) {
        var rng = SeededRandom(seed: UInt64(n) &* 13 &+ 1)
        let q = rng.floats(n), stored = rng.floats(n, in: -8...8)
        for format in [Kernels.HalfFormat.float16, .bfloat16] {
            let bits: [UInt16] = stored.map { format == .float16 ? Float16($0).bitPattern : UInt16($0.bitPattern >> 16) }
            // The widened values, exactly (independent of the kernels).
            let row: [Float] = bits.map { format == .float16 ? Float(Float16(bitPattern: $0)) : Float(bitPattern: UInt32($0) << 16) }
            for table in Kernels.Table.supported {
                q.withUnsafeBufferPointer { pq in
                    bits.withUnsafeBufferPointer { pb in
                        let (x, h) = (pq.baseAddress!, pb.baseAddress!)
                        Self.expectClose(Kernels.dot(x, h, n, format: format, table: table), Kernels.dot(x, h, n, format: format, table: Self.baseline),
                                         exact: Reference.dot(q, row), magnitude: Reference.absDot(q, row), n: n, "dot \(format) \(table) d \(n)")
                        Self.expectClose(Kernels.l2Squared(x, h, n, format: format, table: table),
                                         Kernels.l2Squared(x, h, n, format: format, table: Self.baseline),
                                         exact: Reference.l2(q, row), magnitude: Reference.l2(q, row), n: n, "l2 \(format) \(table) d \(n)")
                        let normSquared = Reference.dot(row, row)
                        let norm = Kernels.norm(h, n, format: format, table: table), baseNorm = Kernels.norm(h, n, format: format, table: Self.baseline)
                        Self.expectClose(norm * norm, baseNorm * baseNorm, exact: normSquared, magnitude: 2 * normSquared, n: n,
                                         "norm \(format) \(table) d \(n)")
                    }
                }
            }
        }
    }

    @Test(arguments: dimensions)
    func sq8KernelsMatchBaseline(dimension d: Int) {
        var rng = SeededRandom(seed: UInt64(d) &* 7 &+ 5)
        let q = rng.floats(d, in: -2...2), scale = rng.floats(d, in: 0...0.02)
        let codes = (0..<d).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var l2 = 0.0, l2Magnitude = 0.0, dot = 0.0, dotMagnitude = 0.0
        for i in 0..<d {
            let decoded = Double(codes[i]) * Double(scale[i])
            l2 += (Double(q[i]) - decoded) * (Double(q[i]) - decoded)
            l2Magnitude += (abs(Double(q[i])) + decoded) * (abs(Double(q[i])) + decoded)
            dot += Double(q[i]) * Double(codes[i])
            dotMagnitude += abs(Double(q[i])) * Double(codes[i])
        }
        for table in Kernels.Table.supported {
            q.withUnsafeBufferPointer { pq in
                scale.withUnsafeBufferPointer { ps in
                    codes.withUnsafeBufferPointer { pc in
                        let (x, s, c) = (pq.baseAddress!, ps.baseAddress!, pc.baseAddress!)
                        Self.expectClose(Kernels.sq8L2Squared(x, scale: s, codes: c, d, table: table),
                                         Kernels.sq8L2Squared(x, scale: s, codes: c, d, table: Self.baseline),
                                         exact: l2, magnitude: l2Magnitude, n: d, "sq8 l2 \(table) d \(d)")
                        Self.expectClose(Kernels.sq8Dot(x, codes: c, d, table: table), Kernels.sq8Dot(x, codes: c, d, table: Self.baseline),
                                         exact: dot, magnitude: dotMagnitude, n: d, "sq8 dot \(table) d \(d)")
                    }
                }
            }
        }
    }
}
