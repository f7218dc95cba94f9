/// Kernels for binary vectors (`UInt8` buffers, 8 dimensions per byte) via popcount.
///
/// Distances follow Milvus: HAMMING is the number of differing bits, JACCARD is
/// `1 − |a ∧ b| / |a ∨ b|` (0 when both vectors are all zero); lower is better for both.
/// `nonzeroBitCount` compiles to `popcnt` when the build enables it (`-Xcc -mpopcnt`, implied by
/// `-mavx2`/haswell); otherwise LLVM emits a short bit-twiddling sequence.
extension Kernels {
    /// The number of differing bits between `byteCount` bytes at `a` and `b`.
    @inlinable
    public static func hamming(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, byteCount n: Int) -> Float {
        var c0 = 0, c1 = 0, c2 = 0, c3 = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 32 <= n {
            c0 &+= (ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ rb.loadUnaligned(fromByteOffset: i, as: UInt64.self)).nonzeroBitCount
            c1 &+= (ra.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self) ^ rb.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)).nonzeroBitCount
            c2 &+= (ra.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self) ^ rb.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)).nonzeroBitCount
            c3 &+= (ra.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self) ^ rb.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)).nonzeroBitCount
            i += 32
        }
        while i + 8 <= n {
            c0 &+= (ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ rb.loadUnaligned(fromByteOffset: i, as: UInt64.self)).nonzeroBitCount
            i += 8
        }
        while i < n { c1 &+= (a[i] ^ b[i]).nonzeroBitCount; i += 1 }
        return Float((c0 &+ c1) &+ (c2 &+ c3))
    }

    /// Jaccard distance between `byteCount` bytes at `a` and `b`.
    @inlinable
    public static func jaccard(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, byteCount n: Int) -> Float {
        var inter0 = 0, inter1 = 0, union0 = 0, union1 = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 16 <= n {
            let x0 = ra.loadUnaligned(fromByteOffset: i, as: UInt64.self), y0 = rb.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let x1 = ra.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self), y1 = rb.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
            inter0 &+= (x0 & y0).nonzeroBitCount; union0 &+= (x0 | y0).nonzeroBitCount
            inter1 &+= (x1 & y1).nonzeroBitCount; union1 &+= (x1 | y1).nonzeroBitCount
            i += 16
        }
        while i + 8 <= n {
            let x = ra.loadUnaligned(fromByteOffset: i, as: UInt64.self), y = rb.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            inter0 &+= (x & y).nonzeroBitCount; union0 &+= (x | y).nonzeroBitCount
            i += 8
        }
        while i < n {
            inter1 &+= (a[i] & b[i]).nonzeroBitCount; union1 &+= (a[i] | b[i]).nonzeroBitCount
            i += 1
        }
        let union = union0 &+ union1
        guard union > 0 else { return 0 }
        return 1 - Float(inter0 &+ inter1) / Float(union)
    }
}
