import QuiverMiniLMKernels

/// Single-precision GEMM for the encoder's linear layers: `C = A Wᵀ + b` (+ epilogue).
///
/// `A` is row-major `[m, k]`, `W` is a ``Linear`` packed into 16-column panels, `C` is row-major
/// `[m, n]`. Blocking (after Goto & van de Geijn, "Anatomy of High-Performance Matrix
/// Multiplication", 2008):
/// - work items = (block of `rowBlock` rows) × (group of `panelsPerItem` panels), handed out
///   dynamically to the threads;
/// - inside an item, `k` is cut into `kc`-deep slices so one panel slice (kc × 16 floats = 16 KiB)
///   stays in L1 while the 6-row micro-tiles of the row block stream past it;
/// - the micro-kernel keeps a 6 × 16 tile of `C` in 12 `SIMD8<Float>` accumulators (AVX2 has 16
///   ymm registers: 12 accumulators + 2 panel vectors + 1 broadcast) and does 12 FMAs per `k`.
///
/// Layers packed 32 wide (``CPUFeatures/hasAVX512F``) go to `QuiverMiniLMKernels.WideGEMM`
/// instead: the same blocking with a 6 × 32 tile of `SIMD16<Float>` (12 zmm accumulators).
enum GEMM {
    static let mr = 6
    static let kc = 256
    static let rowBlock = 48
    static let panelsPerItem = 4

    /// What to do to each finished element of `C`.
    enum Epilogue {
        case none
        /// Apply exact GELU.
        case gelu
        /// Add `residual[i, j]` (same `[m, n]` layout as `C`).
        case residual(UnsafePointer<Float>)
    }

    /// `c[m, n] = a[m, k] · layerᵀ + bias`, then the epilogue. `c` must not alias `a`.
    static func run(_ a: UnsafePointer<Float>, rows m: Int, _ layer: Linear,
                    into c: UnsafeMutablePointer<Float>, epilogue: Epilogue = .none, threads: Int) {
        let k = layer.inFeatures
        let n = layer.outFeatures
        precondition(n % layer.width == 0, "outFeatures must be a multiple of the panel width")
        let panels = layer.panels
        if layer.width == WideGEMM.panelWidth {
            let perItem = panelsPerItem / 2
            let rowBlocks = (m + rowBlock - 1) / rowBlock
            let groups = (panels + perItem - 1) / perItem
            let packed = UnsafePointer(layer.packed), bias = UnsafePointer(layer.bias)
            let (wide, residual): (WideEpilogue, UnsafePointer<Float>?) = switch epilogue {
            case .none: (.none, nil)
            case .gelu: (.gelu, nil)
            case .residual(let r): (.residual, r)
            }
            Parallel.forEach(rowBlocks * groups, threads: threads) { item in
                let rb = item / groups, pg = item % groups
                WideGEMM.item(a: a, k: k, packed: packed, bias: bias, c: c, n: n,
                              rows: rb * rowBlock, min(m, rb * rowBlock + rowBlock),
                              panels: pg * perItem, min(panels, pg * perItem + perItem),
                              epilogue: wide, residual: residual)
            }
            return
        }
        let rowBlocks = (m + rowBlock - 1) / rowBlock
        let panelGroups = (panels + panelsPerItem - 1) / panelsPerItem
        let packed = UnsafePointer(layer.packed)
        let bias = UnsafePointer(layer.bias)
        Parallel.forEach(rowBlocks * panelGroups, threads: threads) { item in
            let rb = item / panelGroups, pg = item % panelGroups
            let r0 = rb * rowBlock, r1 = min(m, r0 + rowBlock)
            let p0 = pg * panelsPerItem, p1 = min(panels, p0 + panelsPerItem)
            var k0 = 0
            while k0 < k {
                let depth = min(kc, k - k0)
                let first = k0 == 0, last = k0 + depth == k
                for p in p0..<p1 {
                    let b = packed + p * k * 16 + k0 * 16
                    var r = r0
                    while r < r1 {
                        let rows = min(mr, r1 - r)
                        kernel6x16(a + r * k + k0, lda: k, rows: rows, b, depth: depth,
                                   c + r * n + p * 16, ldc: n, first: first, last: last,
                                   bias: bias + p * 16, epilogue: epilogue, offset: r * n + p * 16)
                        r += mr
                    }
                }
                k0 += depth
            }
        }
    }

    /// One 6 × 16 tile over `depth` values of k. Rows past `rows` repeat the last valid row
    /// (their results are discarded), which keeps one code path for ragged edges.
    @inline(__always)
    static func kernel6x16(_ a: UnsafePointer<Float>, lda: Int, rows: Int, _ b: UnsafePointer<Float>, depth: Int,
                           _ c: UnsafeMutablePointer<Float>, ldc: Int, first: Bool, last: Bool,
                           bias: UnsafePointer<Float>, epilogue: Epilogue, offset: Int) {
        let a0 = a
        let a1 = a + min(1, rows - 1) * lda
        let a2 = a + min(2, rows - 1) * lda
        let a3 = a + min(3, rows - 1) * lda
        let a4 = a + min(4, rows - 1) * lda
        let a5 = a + min(5, rows - 1) * lda
        var c00 = F8(), c01 = F8(), c10 = F8(), c11 = F8(), c20 = F8(), c21 = F8()
        var c30 = F8(), c31 = F8(), c40 = F8(), c41 = F8(), c50 = F8(), c51 = F8()
        var bp = b
        for kk in 0..<depth {
            let b0 = UnsafeRawPointer(bp).load(as: F8.self)
            let b1 = UnsafeRawPointer(bp + 8).load(as: F8.self)
            var x = F8(repeating: a0[kk])
            c00.fma(x, b0); c01.fma(x, b1)
            x = F8(repeating: a1[kk])
            c10.fma(x, b0); c11.fma(x, b1)
            x = F8(repeating: a2[kk])
            c20.fma(x, b0); c21.fma(x, b1)
            x = F8(repeating: a3[kk])
            c30.fma(x, b0); c31.fma(x, b1)
            x = F8(repeating: a4[kk])
            c40.fma(x, b0); c41.fma(x, b1)
            x = F8(repeating: a5[kk])
            c50.fma(x, b0); c51.fma(x, b1)
            bp += 16
        }
        @inline(__always) func store(_ row: Int, _ lo: F8, _ hi: F8) {
            var lo = lo, hi = hi
            let cp = c + row * ldc
            if first {
                lo += F8.load(bias); hi += F8.load(bias + 8)
            } else {
                lo += F8.load(cp); hi += F8.load(cp + 8)
            }
            if last {
                switch epilogue {
                case .none: break
                case .gelu:
                    lo = lo.gelu(); hi = hi.gelu()
                case .residual(let res):
                    let rp = res + offset + row * ldc
                    lo += F8.load(rp); hi += F8.load(rp + 8)
                }
            }
            lo.store(cp); hi.store(cp + 8)
        }
        store(0, c00, c01)
        if rows > 1 { store(1, c10, c11) }
        if rows > 2 { store(2, c20, c21) }
        if rows > 3 { store(3, c30, c31) }
        if rows > 4 { store(4, c40, c41) }
        if rows > 5 { store(5, c50, c51) }
    }
}
