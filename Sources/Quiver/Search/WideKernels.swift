// The HNSW walk's distances in the widest vectors the build has.
//
// A walk computes most of its distances on rows that are already in cache (the upper levels, the
// neighbourhood of the answer), where the arithmetic is the limit, so with AVX-512
// (`QUIVER_AVX512`, see Package.swift) a 16-float kernel is a few percent faster overall on
// 384-d rows (Documentation/Benchmarks.md). Without AVX-512 these are the 8-float kernels.
//
// The sums are in a different order than `dot` / `l2Squared`, so a walk's distances may differ
// from a flat scan's in the last bits; both are correctly within float rounding of the exact value.
extension Kernels {
    /// The dot product of `n` floats at `a` and `b` (see the file comment).
    @inline(__always)
    static func dotWide(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        #if QUIVER_AVX512
        guard n & 31 == 0 else { return dot(a, b, n) }
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var i = 0
        while i < n {
            s0 = s0.addingProduct(load16(a + i), load16(b + i))
            s1 = s1.addingProduct(load16(a + i + 16), load16(b + i + 16))
            i += 32
        }
        let s = s0 + s1
        return reduce(s.lowHalf + s.highHalf)
        #else
        return dot(a, b, n)
        #endif
    }

    /// The squared Euclidean distance between `n` floats at `a` and `b` (see the file comment).
    @inline(__always)
    static func l2SquaredWide(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        #if QUIVER_AVX512
        guard n & 31 == 0 else { return l2Squared(a, b, n) }
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var i = 0
        while i < n {
            let d0 = load16(a + i) - load16(b + i), d1 = load16(a + i + 16) - load16(b + i + 16)
            s0 = s0.addingProduct(d0, d0)
            s1 = s1.addingProduct(d1, d1)
            i += 32
        }
        let s = s0 + s1
        return reduce(s.lowHalf + s.highHalf)
        #else
        return l2Squared(a, b, n)
        #endif
    }

    #if QUIVER_AVX512
    /// Sixteen floats from `p`, which need not be aligned.
    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    #endif
}
