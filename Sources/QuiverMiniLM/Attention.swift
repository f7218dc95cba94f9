import Foundation

/// Multi-head self-attention over packed (unpadded) sequences.
///
/// The batch is stored without padding: sequence `s` occupies rows
/// `offsets[s] ..< offsets[s] + lengths[s]` of every activation matrix, so each token only ever
/// attends to the tokens of its own sequence. This is exactly BERT's additive mask (padding
/// keys get `finfo(float32).min`, whose `exp` is 0) without computing the padded positions.
enum Attention {
    static let heads = 12
    static let headDim = 32

    /// `out[t, h*32 ..< h*32+32] = softmax(q_t K_hᵀ / √32) V_h` for every token and head.
    ///
    /// - Parameters:
    ///   - qkv: `[T, 3 * hidden]`: query, key, value projections side by side.
    ///   - out: `[T, hidden]`.
    static func run(qkv: UnsafePointer<Float>, offsets: [Int], lengths: [Int],
                    out: UnsafeMutablePointer<Float>, hidden: Int, threads: Int) {
        let ld = 3 * hidden
        let scale = Float(1) / Float(headDim).squareRoot()
        offsets.withUnsafeBufferPointer { offsets in
            lengths.withUnsafeBufferPointer { lengths in
                Parallel.forEach(offsets.count * heads, threads: threads) { item in
                    let s = item / heads, h = item % heads
                    let o = offsets[s], n = lengths[s]
                    head(qkv: qkv + o * ld + h * headDim, ld: ld, hidden: hidden, count: n,
                         out: out + o * hidden + h * headDim, scale: scale)
                }
            }
        }
    }

    /// One head of one sequence. `q` points at the head's query slice of the first token.
    @inline(__always)
    static func head(qkv q: UnsafePointer<Float>, ld: Int, hidden: Int, count n: Int,
                     out: UnsafeMutablePointer<Float>, scale: Float) {
        let k = q + hidden, v = q + 2 * hidden
        // Kᵀ as [32, np] (np = n rounded up to 32, zero-padded) so scores come 8 keys at a time.
        let np = (n + 31) & ~31
        let kt = UnsafeMutablePointer<Float>.allocate(capacity: headDim * np + np)
        defer { kt.deallocate() }
        let scores = kt + headDim * np
        kt.initialize(repeating: 0, count: headDim * np + np)
        for j in 0..<n {
            let kj = k + j * ld
            for d in 0..<headDim { kt[d * np + j] = kj[d] }
        }
        for i in 0..<n {
            let qi = q + i * ld
            // scores[j] = q_i · k_j, 32 keys per pass with 4 independent accumulators.
            var jb = 0
            while jb < np {
                var s0 = F8(), s1 = F8(), s2 = F8(), s3 = F8()
                var col = kt + jb
                for d in 0..<headDim {
                    let x = F8(repeating: qi[d])
                    s0.fma(x, F8.load(col)); s1.fma(x, F8.load(col + 8))
                    s2.fma(x, F8.load(col + 16)); s3.fma(x, F8.load(col + 24))
                    col += np
                }
                s0.store(scores + jb); s1.store(scores + jb + 8)
                s2.store(scores + jb + 16); s3.store(scores + jb + 24)
                jb += 32
            }
            var m = -Float.infinity
            for j in 0..<n {
                scores[j] *= scale
                m = max(m, scores[j])
            }
            var sum: Float = 0
            for j in 0..<n {
                let e = exp(scores[j] - m)
                scores[j] = e
                sum += e
            }
            // out_i = Σ_j p_j v_j / Σ_j p_j, two keys per step with 8 accumulators.
            var a0 = F8(), a1 = F8(), a2 = F8(), a3 = F8()
            var b0 = F8(), b1 = F8(), b2 = F8(), b3 = F8()
            var j = 0
            while j + 1 < n {
                let p = F8(repeating: scores[j]), vj = v + j * ld
                a0.fma(p, F8.load(vj)); a1.fma(p, F8.load(vj + 8))
                a2.fma(p, F8.load(vj + 16)); a3.fma(p, F8.load(vj + 24))
                let p2 = F8(repeating: scores[j + 1]), vj2 = vj + ld
                b0.fma(p2, F8.load(vj2)); b1.fma(p2, F8.load(vj2 + 8))
                b2.fma(p2, F8.load(vj2 + 16)); b3.fma(p2, F8.load(vj2 + 24))
                j += 2
            }
            if j < n {
                let p = F8(repeating: scores[j]), vj = v + j * ld
                a0.fma(p, F8.load(vj)); a1.fma(p, F8.load(vj + 8))
                a2.fma(p, F8.load(vj + 16)); a3.fma(p, F8.load(vj + 24))
            }
            let inv = F8(repeating: 1 / sum)
            let oi = out + i * hidden
            ((a0 + b0) * inv).store(oi); ((a1 + b1) * inv).store(oi + 8)
            ((a2 + b2) * inv).store(oi + 16); ((a3 + b3) * inv).store(oi + 24)
        }
    }
}
