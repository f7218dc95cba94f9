/// 8-bit scalar quantization, one range per dimension (FAISS's `QT_8bit`):
/// `x ≈ min[i] + code × scale[i]` with `scale[i] = (max[i] − min[i]) / 255`.
///
/// Approximate distances compare a float query with the decoded codes; indexes that use it
/// re-rank their best candidates with the exact float vectors.
struct ScalarQuantizer: Sendable, Equatable {
    let dimension: Int
    let minimum: [Float]
    let scale: [Float]

    init(minimum: [Float], scale: [Float]) {
        precondition(minimum.count == scale.count)
        dimension = minimum.count
        self.minimum = minimum
        self.scale = scale
    }

    /// Fits the per-dimension ranges to rows `rows` of `space` (all rows when `nil`).
    init(training space: VectorSpace) {
        let d = space.dimension
        var lo = [Float](repeating: .infinity, count: d), hi = [Float](repeating: -.infinity, count: d)
        for r in 0..<space.count {
            let p = space.row(r)
            for i in 0..<d {
                let v = p[i]
                if v.isFinite {
                    lo[i] = min(lo[i], v)
                    hi[i] = max(hi[i], v)
                }
            }
        }
        for i in 0..<d where !(lo[i] <= hi[i]) { lo[i] = 0; hi[i] = 0 }
        self.init(minimum: lo, scale: (0..<d).map { (hi[$0] - lo[$0]) / 255 })
    }

    /// Writes the `dimension` codes of `v` at `out`.
    func encode(_ v: UnsafePointer<Float>, to out: UnsafeMutablePointer<UInt8>) {
        for i in 0..<dimension {
            let s = scale[i]
            let x = s > 0 ? ((v[i] - minimum[i]) / s).rounded() : 0
            out[i] = x.isNaN ? 0 : UInt8(min(255, max(0, x)))
        }
    }

    /// Appends the codes of `v` to `out`.
    func encode(_ v: UnsafePointer<Float>, into out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: dimension))
        out.withUnsafeMutableBufferPointer { encode(v, to: $0.baseAddress! + start) }
    }

    /// A query prepared for approximate distances against codes.
    struct Query {
        /// For L2: `q − min`; for IP/COSINE: `q × scale` (with `bias = Σ q·min`).
        var a: [Float]
        var bias: Float
    }

    func prepare(_ q: [Float], metric: MetricType) -> Query {
        if metric == .l2 {
            return Query(a: (0..<dimension).map { q[$0] - minimum[$0] }, bias: 0)
        }
        var bias: Float = 0
        for i in 0..<dimension { bias += q[i] * minimum[i] }
        return Query(a: (0..<dimension).map { q[$0] * scale[$0] }, bias: bias)
    }

    /// Approximate distance (lower is closer) of a prepared query to the codes at `c`;
    /// `rowNorm` divides the dot product for COSINE. The sums are the SQ8 kernels'
    /// (CQuiverKernels/sq8.c).
    @inline(__always)
    func distance(_ q: UnsafePointer<Float>, bias: Float, scale s: UnsafePointer<Float>, codes c: UnsafePointer<UInt8>, metric: MetricType, rowNorm: Float) -> Float {
        if metric == .l2 { return Kernels.sq8L2Squared(q, scale: s, codes: c, dimension) }
        let dot = Kernels.sq8Dot(q, codes: c, dimension) + bias
        if metric == .ip { return -dot }
        return rowNorm > 0 ? -dot / rowNorm : 0
    }
}
