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
    ///
    /// Both products run on the GEMM micro-kernel: `S = Q Kᵀ` with `K` packed into 16-key panels
    /// (depth 32), a row-wise softmax normalised in place, then `O = P V` with `V` packed into
    /// two 16-dimension panels (depth = sequence length).
    static func head(qkv q: UnsafePointer<Float>, ld: Int, hidden: Int, count n: Int,
                     out: UnsafeMutablePointer<Float>, scale: Float) {
        let k = q + hidden, v = q + 2 * hidden
        let np = (n + 15) & ~15
        let total = np * headDim + headDim * n + n * np + 16
        let buf = UnsafeMutableRawPointer.allocate(byteCount: total * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: total)
        defer { buf.deallocate() }
        let kp = buf, vp = buf + np * headDim, s = vp + headDim * n, zeros = s + n * np
        zeros.initialize(repeating: 0, count: 16)
        // kp[panel][d][j] = K[16·panel + j][d]
        for j in 0..<np {
            let dst = kp + (j >> 4) * (headDim * 16) + (j & 15)
            if j < n {
                let kj = k + j * ld
                for d in 0..<headDim { dst[d * 16] = kj[d] }
            } else {
                for d in 0..<headDim { dst[d * 16] = 0 }
            }
        }
        // vp[panel][j][c] = V[j][16·panel + c]
        for j in 0..<n {
            let vj = v + j * ld
            F8.load(vj).store(vp + j * 16); F8.load(vj + 8).store(vp + j * 16 + 8)
            F8.load(vj + 16).store(vp + (n + j) * 16); F8.load(vj + 24).store(vp + (n + j) * 16 + 8)
        }
        // S = Q Kᵀ  ([n, np], row stride np)
        for p in 0..<(np >> 4) {
            var r = 0
            while r < n {
                GEMM.kernel6x16(q + r * ld, lda: ld, rows: min(GEMM.mr, n - r), kp + p * headDim * 16, depth: headDim,
                                s + r * np + p * 16, ldc: np, first: true, last: true,
                                bias: zeros, epilogue: .none, offset: 0)
                r += GEMM.mr
            }
        }
        // P = softmax(S · scale) over the n real keys, normalised in place.
        let sc = F8(repeating: scale)
        for i in 0..<n {
            let row = s + i * np
            for jb in stride(from: 0, to: np, by: 8) { (F8.load(row + jb) * sc).store(row + jb) }
            for j in n..<np { row[j] = -.infinity }
            var mx = F8(repeating: -.infinity)
            for jb in stride(from: 0, to: np, by: 8) { mx = mx.maxFast(F8.load(row + jb)) }
            let m = mx.max()
            let mv = F8(repeating: m)
            var sum = F8()
            for jb in stride(from: 0, to: np, by: 8) {
                let e = (F8.load(row + jb) - mv).exp()
                e.store(row + jb)
            }
            for j in n..<np { row[j] = 0 }
            for jb in stride(from: 0, to: np, by: 8) { sum += F8.load(row + jb) }
            let inv = F8(repeating: 1 / sum.sum())
            for jb in stride(from: 0, to: np, by: 8) { (F8.load(row + jb) * inv).store(row + jb) }
        }
        // O = P V  ([n, 32] into the head's slice of out)
        for p in 0..<2 {
            var r = 0
            while r < n {
                GEMM.kernel6x16(s + r * np, lda: np, rows: min(GEMM.mr, n - r), vp + p * n * 16, depth: n,
                                out + r * hidden + p * 16, ldc: hidden, first: true, last: true,
                                bias: zeros, epilogue: .none, offset: 0)
                r += GEMM.mr
            }
        }
    }
}
