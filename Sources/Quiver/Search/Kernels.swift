/// Distance kernels on float32 vectors.
///
/// Scores follow Milvus: `l2` is the squared Euclidean distance, `ip` the dot product,
/// `cosine` the dot product divided by both norms (0 when either norm is 0).
enum Kernels {
    @inlinable
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            let a0 = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let b0 = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            let a1 = UnsafeRawPointer(a + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            let b1 = UnsafeRawPointer(b + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            s0.addProduct(a0, b0)
            s1.addProduct(a1, b1)
            i += 16
        }
        var s = (s0 + s1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    @inlinable
    static func l2Squared(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            let d0 = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                - UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            let d1 = UnsafeRawPointer(a + i + 8).loadUnaligned(as: SIMD8<Float>.self)
                - UnsafeRawPointer(b + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            s0.addProduct(d0, d0)
            s1.addProduct(d1, d1)
            i += 16
        }
        var s = (s0 + s1).sum()
        while i < n { let d = a[i] - b[i]; s += d * d; i += 1 }
        return s
    }

    @inlinable
    static func norm(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
        dot(a, a, n).squareRoot()
    }

    /// The score of `query` against `row` under `metric`; for cosine, `queryNorm` and `rowNorm`
    /// are the vectors' Euclidean norms.
    @inlinable
    static func score(
        _ metric: MetricType, _ query: UnsafePointer<Float>, _ row: UnsafePointer<Float>, _ n: Int,
        queryNorm: Float, rowNorm: Float
    ) -> Float {
        switch metric {
        case .ip: return dot(query, row, n)
        case .l2: return l2Squared(query, row, n)
        case .cosine:
            let d = queryNorm * rowNorm
            return d > 0 ? dot(query, row, n) / d : 0
        }
    }
}
