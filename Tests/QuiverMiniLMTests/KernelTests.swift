import Foundation
import Testing
@testable import QuiverMiniLM

/// The SIMD kernels against straightforward Double-precision loops, on seeded random data with
/// ragged shapes (rows not a multiple of the 6-row tile, depths not a multiple of `kc`).
@Suite struct KernelTests {
    /// SplitMix64, so failures reproduce from the printed seed.
    struct RNG {
        var state: UInt64
        mutating func next() -> Float {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(Double(z >> 11) / Double(1 << 53)) * 2 - 1
        }
        mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
    }

    static let shapes: [(m: Int, k: Int, n: Int)] = [(1, 384, 384), (7, 100, 64), (13, 300, 96), (50, 1536, 32), (49, 257, 64)]

    @Test(arguments: [16, 32])
    func gemmMatchesNaive(width: Int) {
        // The 32-wide (AVX-512) kernel may only run on CPUs that have it.
        if width == 32 && !CPUFeatures.hasAVX512F { return }
        let seed: UInt64 = 42
        var rng = RNG(state: seed)
        for (m, k, n) in Self.shapes {
            let a = rng.array(m * k), w = rng.array(n * k), b = rng.array(n), res = rng.array(m * n)
            let layer = w.withUnsafeBufferPointer { wp in
                b.withUnsafeBufferPointer { bp in Linear(weight: wp, bias: bp, outFeatures: n, inFeatures: k, width: width) }
            }
            for mode in 0..<3 {
                var c = [Float](repeating: .nan, count: m * n)
                a.withUnsafeBufferPointer { ap in
                    res.withUnsafeBufferPointer { rp in
                        c.withUnsafeMutableBufferPointer { cp in
                            let epilogue: GEMM.Epilogue = mode == 0 ? .none : mode == 1 ? .gelu : .residual(rp.baseAddress!)
                            GEMM.run(ap.baseAddress!, rows: m, layer, into: cp.baseAddress!, epilogue: epilogue, threads: 2)
                        }
                    }
                }
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<n {
                        var s = Double(b[j])
                        for kk in 0..<k { s += Double(a[i * k + kk]) * Double(w[j * k + kk]) }
                        if mode == 1 { s = 0.5 * s * (1 + Foundation.erf(s / 2.0.squareRoot())) }
                        if mode == 2 { s += Double(res[i * n + j]) }
                        worst = max(worst, abs(s - Double(c[i * n + j])) / max(1, abs(s)))
                    }
                }
                #expect(worst < 2e-5, "width \(width) m \(m) k \(k) n \(n) mode \(mode) seed \(seed): rel err \(worst)")
            }
        }
    }

    @Test func attentionMatchesNaive() {
        var rng = RNG(state: 7)
        let hidden = 384, lengths = [5, 37, 1], offsets = [0, 5, 42]
        let total = lengths.reduce(0, +)
        let qkv = rng.array(total * 3 * hidden).map { $0 * 3 }
        var out = [Float](repeating: .nan, count: total * hidden)
        qkv.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
                Attention.run(qkv: q.baseAddress!, offsets: offsets, lengths: lengths, out: o.baseAddress!, hidden: hidden, threads: 2)
            }
        }
        var worst = 0.0
        for (s, n) in lengths.enumerated() {
            for h in 0..<12 {
                for i in 0..<n {
                    let qi = (offsets[s] + i) * 3 * hidden + h * 32
                    var scores = [Double](repeating: 0, count: n)
                    for j in 0..<n {
                        let kj = (offsets[s] + j) * 3 * hidden + hidden + h * 32
                        for d in 0..<32 { scores[j] += Double(qkv[qi + d]) * Double(qkv[kj + d]) }
                        scores[j] /= 32.0.squareRoot()
                    }
                    let m = scores.max()!
                    let e = scores.map { Foundation.exp($0 - m) }
                    let sum = e.reduce(0, +)
                    for d in 0..<32 {
                        var v = 0.0
                        for j in 0..<n { v += e[j] / sum * Double(qkv[(offsets[s] + j) * 3 * hidden + 2 * hidden + h * 32 + d]) }
                        worst = max(worst, abs(v - Double(out[(offsets[s] + i) * hidden + h * 32 + d])))
                    }
                }
            }
        }
        #expect(worst < 1e-5, "max abs err \(worst)")
    }

    @Test func simdExpAndErfAreAccurate() {
        var worstExp: Float = 0, worstErf: Float = 0
        var x: Float = -87
        while x <= 10 {
            let v = F8(repeating: x) + F8(0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07)
            let e = v.exp(), r = (v / 4).erf()
            for i in 0..<8 {
                worstExp = max(worstExp, abs(e[i] - Foundation.exp(v[i])) / Foundation.exp(v[i]))
                worstErf = max(worstErf, abs(r[i] - Foundation.erf(v[i] / 4)))
            }
            x += 0.0973
        }
        #expect(worstExp < 1e-6, "exp rel err \(worstExp)")
        #expect(worstErf < 5e-7, "erf abs err \(worstErf)")
    }
}
