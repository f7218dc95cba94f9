internal import CQuiverKernels

/// A linear layer `y = x Wᵀ + b` with `W` pre-packed for one variant's GEMM micro-kernel.
///
/// Packed layout (`quiver_minilm_pack`): `W` (`[n, k]`, PyTorch's `[out, in]`) is cut into panels
/// of `kernels.panelWidth` output columns (32 on AVX-512, 16 on AVX2, 8 on the baseline); panel `p`
/// stores, for each `kk` in `0..<k`, the weights `W[width·p + j][kk]` contiguously, zero-padded
/// past `n`. The micro-kernel then streams one panel with two vector loads per `kk`.
final class Linear: @unchecked Sendable {
    // @unchecked: the buffers are written once in init and only read afterwards.

    /// The kernels the weights are packed for (the only ones that may multiply them).
    let kernels: Kernels
    let inFeatures: Int
    let outFeatures: Int
    let panels: Int
    /// `panels * inFeatures * kernels.panelWidth` floats, 64-byte aligned.
    let packed: UnsafeMutablePointer<Float>
    /// `panels * kernels.panelWidth` floats (zero-padded).
    let bias: UnsafeMutablePointer<Float>

    /// Packs row-major `weight` (`[outFeatures, inFeatures]`) and `bias` (`[outFeatures]`).
    init(weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>, outFeatures: Int, inFeatures: Int,
         kernels: Kernels = .selected) {
        precondition(weight.count == outFeatures * inFeatures && bias.count == outFeatures && inFeatures > 0 && outFeatures > 0)
        self.kernels = kernels
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let w = kernels.panelWidth
        panels = (outFeatures + w - 1) / w
        let count = quiver_minilm_packed_count(outFeatures, inFeatures, w)
        packed = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        self.bias = UnsafeMutableRawPointer.allocate(byteCount: panels * w * 4, alignment: 64).bindMemory(to: Float.self, capacity: panels * w)
        quiver_minilm_pack(weight.baseAddress!, bias.baseAddress!, outFeatures, inFeatures, w, packed, self.bias)
    }

    deinit {
        packed.deallocate()
        bias.deallocate()
    }
}
