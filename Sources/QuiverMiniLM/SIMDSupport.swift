import Foundation

typealias F8 = SIMD8<Float>

extension SIMD8 where Scalar == Float {
    /// Loads 8 floats from `p` (no alignment requirement).
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// Stores the 8 lanes at `p` (no alignment requirement).
    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self)
    }

    /// `self += a * b`, fused where the target has FMA (see Package.swift's QUIVER_FMA).
    @inline(__always) mutating func fma(_ a: SIMD8<Float>, _ b: SIMD8<Float>) {
        #if arch(arm64) || QUIVER_FMA
        self.addProduct(a, b)
        #else
        self += a * b
        #endif
    }
}

/// Exact GELU, `0.5 x (1 + erf(x / √2))`, as BERT's `hidden_act: "gelu"` (not the tanh form).
@inline(__always) func gelu(_ x: Float) -> Float {
    0.5 * x * (1 + erf(x / Float(2.0.squareRoot())))
}

extension SIMD8 where Scalar == Float {
    /// `erf` for 8 lanes: the rational approximation `x·P(x²)/Q(x²)` on [-4, 4] used by Eigen and
    /// XLA (`generic_fast_erf_float`); max abs error 3.7e-7 against `erf` in double (measured on a
    /// 2M-point grid over [-6, 6]), i.e. a few ulp. Beyond ±4, erf is ±1 in float.
    @inline(__always) func erf() -> SIMD8<Float> {
        let x = self.clampedFast(-4, 4)
        let x2 = x * x
        var p = F8(repeating: -2.72614225801306e-10)
        p = p * x2 + F8(repeating: 2.77068142495902e-08)
        p = p * x2 + F8(repeating: -2.10102402082508e-06)
        p = p * x2 + F8(repeating: -5.69250639462346e-05)
        p = p * x2 + F8(repeating: -7.34990630326855e-04)
        p = p * x2 + F8(repeating: -2.95459980854025e-03)
        p = p * x2 + F8(repeating: -1.60960333262415e-02)
        p = p * x
        var q = F8(repeating: -1.45660718464996e-05)
        q = q * x2 + F8(repeating: -2.13374055278905e-04)
        q = q * x2 + F8(repeating: -1.68282697438203e-03)
        q = q * x2 + F8(repeating: -7.37332916720468e-03)
        q = q * x2 + F8(repeating: -1.42647390514189e-02)
        return p / q
    }

    /// GELU with the erf above: `0.5 x (1 + erf(x / √2))`.
    @inline(__always) func gelu() -> SIMD8<Float> {
        F8(repeating: 0.5) * self * (F8(repeating: 1) + (self / F8(repeating: Float(2.0.squareRoot()))).erf())
    }

    /// `exp` for 8 lanes (Cephes `expf`: range reduction by ln 2 in two parts, degree-5
    /// polynomial, scale by 2ⁿ through the exponent bits; ~1–2 ulp). Inputs below -87 give
    /// (nearly) 0, as softmax needs.
    @inline(__always) func exp() -> SIMD8<Float> {
        let x0 = self.clampedFast(-87, 88)
        // Round x·log2(e) to the nearest integer n with the 1.5·2²³ trick: the sum's low
        // mantissa bits hold n, which then become the exponent field of 2ⁿ below.
        let magic = F8(repeating: 12582912)
        let t = x0 * F8(repeating: 1.44269504088896341) + magic
        let n = t - magic
        var x = x0 - n * F8(repeating: 0.693359375)
        x = x - n * F8(repeating: -2.12194440e-4)
        let z = x * x
        var y = F8(repeating: 1.9875691500e-4)
        y = y * x + F8(repeating: 1.3981999507e-3)
        y = y * x + F8(repeating: 8.3334519073e-3)
        y = y * x + F8(repeating: 4.1665795894e-2)
        y = y * x + F8(repeating: 1.6666665459e-1)
        y = y * x + F8(repeating: 5.0000001201e-1)
        y = y * z + x + F8(repeating: 1)
        let bits = (unsafeBitCast(t, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(bits, to: SIMD8<Float>.self)
    }
}

extension SIMD8 where Scalar == Float {
    /// Lane-wise clamp to [lo, hi] via compare-and-blend (the generic `clamped` is not inlined).
    @inline(__always) func clampedFast(_ lo: Float, _ hi: Float) -> SIMD8<Float> {
        var x = self
        x.replace(with: lo, where: x .< lo)
        x.replace(with: hi, where: x .> hi)
        return x
    }

    /// Lane-wise maximum via compare-and-blend.
    @inline(__always) func maxFast(_ other: SIMD8<Float>) -> SIMD8<Float> {
        var x = self
        x.replace(with: other, where: other .> x)
        return x
    }
}
