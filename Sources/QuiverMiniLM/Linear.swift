/// A linear layer `y = x Wᵀ + b` with `W` pre-packed for the GEMM micro-kernel.
///
/// Packed layout: `W` (`[n, k]`, PyTorch's `[out, in]`) is cut into panels of
/// ``Linear/panelWidth`` = 16 output columns; panel `p` stores, for each `kk` in `0..<k`, the
/// 16 weights `W[16p + j][kk]` contiguously (zero-padded past `n`). The micro-kernel then
/// streams one panel with two aligned `SIMD8<Float>` loads per `kk`.
final class Linear: @unchecked Sendable {
    // @unchecked: the buffers are written once in init and only read afterwards.
    static let panelWidth = 16

    let inFeatures: Int
    let outFeatures: Int
    let panels: Int
    /// `panels * inFeatures * 16` floats, 64-byte aligned.
    let packed: UnsafeMutablePointer<Float>
    /// `panels * 16` floats (zero-padded).
    let bias: UnsafeMutablePointer<Float>

    /// Packs row-major `weight` (`[outFeatures, inFeatures]`) and `bias` (`[outFeatures]`).
    init(weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>, outFeatures: Int, inFeatures: Int) {
        precondition(weight.count == outFeatures * inFeatures && bias.count == outFeatures)
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let w = Self.panelWidth
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
