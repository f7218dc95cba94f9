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
        #if QUIVER_FMA
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
