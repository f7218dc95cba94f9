/// A linear layer `y = x Wᵀ + b` with `W` pre-packed for the GEMM micro-kernel.
///
/// Packed layout: `W` (`[n, k]`, PyTorch's `[out, in]`) is cut into panels of
/// `width` (16, or 32 on AVX-512 CPUs) output columns; panel `p` stores, for each `kk` in
/// `0..<k`, the `width` weights `W[width·p + j][kk]` contiguously (zero-padded past `n`). The
/// micro-kernel then streams one panel with two aligned vector loads per `kk`.
final class Linear: @unchecked Sendable {
    // @unchecked: the buffers are written once in init and only read afterwards.
    static let panelWidth = 16

    /// Columns per panel: 16 for the AVX2 kernel, 32 for the AVX-512 one (`WideGEMM`).
    let width: Int

    let inFeatures: Int
    let outFeatures: Int
    let panels: Int
    /// `panels * inFeatures * 16` floats, 64-byte aligned.
    let packed: UnsafeMutablePointer<Float>
    /// `panels * 16` floats (zero-padded).
    let bias: UnsafeMutablePointer<Float>

    /// Packs row-major `weight` (`[outFeatures, inFeatures]`) and `bias` (`[outFeatures]`).
    init(weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>, outFeatures: Int, inFeatures: Int,
         width: Int = Linear.panelWidth) {
        precondition(weight.count == outFeatures * inFeatures && bias.count == outFeatures)
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.width = width
        let w = width
        self.panels = (outFeatures + w - 1) / w
        let count = panels * inFeatures * w
        packed = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        packed.initialize(repeating: 0, count: count)
        self.bias = UnsafeMutableRawPointer.allocate(byteCount: panels * w * 4, alignment: 64).bindMemory(to: Float.self, capacity: panels * w)
        self.bias.initialize(repeating: 0, count: panels * w)
        for o in 0..<outFeatures {
            let p = o / w, j = o % w
            let dst = packed + p * inFeatures * w + j
            let src = weight.baseAddress! + o * inFeatures
            for kk in 0..<inFeatures { dst[kk * w] = src[kk] }
            self.bias[o] = bias[o]
        }
    }

    deinit {
        packed.deallocate()
        bias.deallocate()
    }
}
