// GEMM work items for CPUs with 512-bit vectors (AVX-512F).
//
// This module is compiled with `-mavx512f` on x86-64 (see Package.swift) and must only be called
// after a run-time check that the CPU has AVX-512F; QuiverMiniLM does that check
// (`CPUFeatures.hasAVX512F`) and otherwise uses its AVX2 kernels. Nothing else lives here, so no
// AVX-512 instruction can execute on a CPU without it.

public typealias F16 = SIMD16<Float>

/// What to do to each finished element of `C` (mirrors QuiverMiniLM's `GEMM.Epilogue`).
public enum WideEpilogue: Sendable {
    case none
    case gelu
    /// Add `residual[i, j]` (same `[m, n]` layout as `C`).
    case residual
}

/// `C = A Wᵀ + b` for one work item, with `W` packed into 32-column panels.
///
/// Packed layout: panel `p` holds, for each `kk` in `0..<k`, the 32 weights `W[32p + j][kk]`
/// contiguously. Rows `r0..<r1` of `A` (row-major, `k` columns) times panels `p0..<p1` go to
/// `C` (row-major, `n` columns). The micro-kernel keeps a 6 × 32 tile in 12 zmm accumulators (LLVM spilled an 8 × 32 tile).
public enum WideGEMM {
    public static let panelWidth = 32
    public static let mr = 6
    public static let kc = 256

    public static func item(a: UnsafePointer<Float>, k: Int, packed: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                            c: UnsafeMutablePointer<Float>, n: Int, rows r0: Int, _ r1: Int, panels p0: Int, _ p1: Int,
                            epilogue: WideEpilogue, residual: UnsafePointer<Float>?) {
        var k0 = 0
        while k0 < k {
            let depth = min(kc, k - k0)
            let first = k0 == 0, last = k0 + depth == k
            for p in p0..<p1 {
                let b = packed + p * k * 32 + k0 * 32
                var r = r0
                while r < r1 {
                    kernel6x32(a + r * k + k0, lda: k, rows: min(mr, r1 - r), b, depth: depth,
                               c + r * n + p * 32, ldc: n, first: first, last: last, bias: bias + p * 32,
                               epilogue: epilogue, residual: residual.map { $0 + r * n + p * 32 })
                    r += mr
                }
            }
            k0 += depth
        }
    }

    @inline(__always)
    static func kernel6x32(_ a: UnsafePointer<Float>, lda: Int, rows: Int, _ b: UnsafePointer<Float>, depth: Int,
                           _ c: UnsafeMutablePointer<Float>, ldc: Int, first: Bool, last: Bool,
                           bias: UnsafePointer<Float>, epilogue: WideEpilogue, residual: UnsafePointer<Float>?) {
        let a0 = a
        let a1 = a + min(1, rows - 1) * lda
        let a2 = a + min(2, rows - 1) * lda
        let a3 = a + min(3, rows - 1) * lda
        let a4 = a + min(4, rows - 1) * lda
        let a5 = a + min(5, rows - 1) * lda
        var c00 = F16(), c01 = F16(), c10 = F16(), c11 = F16(), c20 = F16(), c21 = F16(), c30 = F16(), c31 = F16()
        var c40 = F16(), c41 = F16(), c50 = F16(), c51 = F16()
        var bp = UnsafeRawPointer(b)
        for kk in 0..<depth {
            let b0 = bp.load(as: F16.self)
            let b1 = bp.load(fromByteOffset: 64, as: F16.self)
            var x = F16(repeating: a0[kk])
            c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = F16(repeating: a1[kk])
            c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = F16(repeating: a2[kk])
            c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = F16(repeating: a3[kk])
            c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = F16(repeating: a4[kk])
            c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = F16(repeating: a5[kk])
            c50.addProduct(x, b0); c51.addProduct(x, b1)
            bp += 128
        }
        store(0, c00, c01, c, ldc, first, last, bias, epilogue, residual)
        if rows > 1 { store(1, c10, c11, c, ldc, first, last, bias, epilogue, residual) }
        if rows > 2 { store(2, c20, c21, c, ldc, first, last, bias, epilogue, residual) }
        if rows > 3 { store(3, c30, c31, c, ldc, first, last, bias, epilogue, residual) }
        if rows > 4 { store(4, c40, c41, c, ldc, first, last, bias, epilogue, residual) }
        if rows > 5 { store(5, c50, c51, c, ldc, first, last, bias, epilogue, residual) }
    }

    @inline(__always)
    static func store(_ row: Int, _ lo: F16, _ hi: F16, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ first: Bool, _ last: Bool,
                      _ bias: UnsafePointer<Float>, _ epilogue: WideEpilogue, _ residual: UnsafePointer<Float>?) {
        var lo = lo, hi = hi
        let cp = UnsafeMutableRawPointer(c + row * ldc)
        if first {
            lo += UnsafeRawPointer(bias).loadUnaligned(as: F16.self)
            hi += UnsafeRawPointer(bias).loadUnaligned(fromByteOffset: 64, as: F16.self)
        } else {
            lo += UnsafeRawPointer(cp).loadUnaligned(as: F16.self)
            hi += UnsafeRawPointer(cp).loadUnaligned(fromByteOffset: 64, as: F16.self)
        }
        if last {
            switch epilogue {
            case .none: break
            case .gelu: lo = gelu16(lo); hi = gelu16(hi)
            case .residual:
                let rp = UnsafeRawPointer(residual! + row * ldc)
                lo += rp.loadUnaligned(as: F16.self)
                hi += rp.loadUnaligned(fromByteOffset: 64, as: F16.self)
            }
        }
        cp.storeBytes(of: lo, as: F16.self)
        cp.storeBytes(of: hi, toByteOffset: 64, as: F16.self)
    }

    /// GELU with the same rational erf as QuiverMiniLM's 8-lane version (max abs error 3.7e-7).
    @inline(__always)
    static func gelu16(_ v: F16) -> F16 {
        var x = v / F16(repeating: Float(2.0.squareRoot()))
        x.replace(with: -4, where: x .< -4)
        x.replace(with: 4, where: x .> 4)
        let x2 = x * x
        var p = F16(repeating: -2.72614225801306e-10)
        p = p * x2 + F16(repeating: 2.77068142495902e-08)
        p = p * x2 + F16(repeating: -2.10102402082508e-06)
        p = p * x2 + F16(repeating: -5.69250639462346e-05)
        p = p * x2 + F16(repeating: -7.34990630326855e-04)
        p = p * x2 + F16(repeating: -2.95459980854025e-03)
        p = p * x2 + F16(repeating: -1.60960333262415e-02)
        p = p * x
        var q = F16(repeating: -1.45660718464996e-05)
        q = q * x2 + F16(repeating: -2.13374055278905e-04)
        q = q * x2 + F16(repeating: -1.68282697438203e-03)
        q = q * x2 + F16(repeating: -7.37332916720468e-03)
        q = q * x2 + F16(repeating: -1.42647390514189e-02)
        return F16(repeating: 0.5) * v * (F16(repeating: 1) + p / q)
    }
}
