internal import CQuiverKernels

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
    /// One work item per (sequence, head), each a call to the variant's `attention_head`
    /// (`minilm_kernels.h`): `QKᵀ` and `PV` on the GEMM micro-kernel, a vectorised softmax between.
    ///
    /// - Parameters:
    ///   - qkv: `[T, 3 * hidden]`: query, key, value projections side by side.
    ///   - out: `[T, hidden]`.
    static func run(qkv: UnsafePointer<Float>, offsets: [Int], lengths: [Int], out: UnsafeMutablePointer<Float>,
                    hidden: Int, threads: Int, kernels: Kernels = .selected) {
        let ld = 3 * hidden
        let scale = Float(1) / Float(headDim).squareRoot()
        let head = kernels.table.pointee.attention_head!
        offsets.withUnsafeBufferPointer { offsets in
            lengths.withUnsafeBufferPointer { lengths in
                Parallel.forEach(offsets.count * heads, threads: threads) { item in
                    let s = item / heads, h = item % heads
                    let q = qkv + offsets[s] * ld + h * headDim
                    let status = head(q, q + hidden, q + 2 * hidden, ld, lengths[s], headDim, scale,
                                      out + offsets[s] * hidden + h * headDim, hidden)
                    precondition(status == 0, "out of memory for an attention head's scratch")
                }
            }
        }
    }
}
