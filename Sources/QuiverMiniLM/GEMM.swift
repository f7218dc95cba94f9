internal import CQuiverKernels

/// Single-precision GEMM for the encoder's linear layers: `C = A Wᵀ + b` (+ epilogue).
///
/// `A` is row-major `[m, k]`, `W` is a ``Linear`` packed into panels, `C` is row-major `[m, n]`.
/// Blocking (after Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication", 2008):
/// - work items = (block of ``rowBlock`` rows) × (group of panels, ``columnsPerItem`` columns),
///   handed out dynamically to the threads; each item is one call into C;
/// - inside an item (the variant's `gemm_item`, `minilm_kernels.h`), `k` is cut into 256-deep
///   slices so one panel slice stays in L1 while the 6-row micro-tiles of the row block stream
///   past it; the micro-kernel keeps a 6 × (2 vectors) tile of `C` in 12 vector registers.
enum GEMM {
    static let rowBlock = 48
    static let columnsPerItem = 64

    /// What to do to each finished element of `C`.
    enum Epilogue {
        case none
        /// Apply exact GELU.
        case gelu
        /// Add `residual[i, j]` (same `[m, n]` layout as `C`).
        case residual(UnsafePointer<Float>)
    }

    /// `c[m, n] = a[m, k] · layerᵀ + bias`, then the epilogue. `c` must not alias `a` or the residual.
    static func run(_ a: UnsafePointer<Float>, rows m: Int, _ layer: Linear,
                    into c: UnsafeMutablePointer<Float>, epilogue: Epilogue = .none, threads: Int) {
        let (code, residual): (quiver_minilm_epilogue, UnsafePointer<Float>?) = switch epilogue {
        case .none: (QUIVER_MINILM_EPILOGUE_NONE, nil)
        case .gelu: (QUIVER_MINILM_EPILOGUE_GELU, nil)
        case .residual(let r): (QUIVER_MINILM_EPILOGUE_RESIDUAL, r)
        }
        var g = quiver_minilm_gemm(a: a, k: layer.inFeatures, packed: layer.packed, bias: layer.bias, c: c,
                                   n: layer.outFeatures, epilogue: Int32(code.rawValue), residual: residual)
        let item = layer.kernels.table.pointee.gemm_item!
        let perItem = max(1, columnsPerItem / layer.kernels.panelWidth)
        let rowBlocks = (m + rowBlock - 1) / rowBlock
        let groups = (layer.panels + perItem - 1) / perItem
        withUnsafePointer(to: &g) { g in
            Parallel.forEach(rowBlocks * groups, threads: threads) { i in
                let rb = i / groups, pg = i % groups
                item(g, rb * rowBlock, min(m, rb * rowBlock + rowBlock), pg * perItem, min(layer.panels, pg * perItem + perItem))
            }
        }
    }
}
