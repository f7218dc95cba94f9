import Foundation

/// SHA-256 (FIPS 180-4), used to verify downloaded model files without a crypto dependency.
///
/// ```swift
/// var h = SHA256()
/// h.update(Array("abc".utf8))
/// h.finalize().hex   // "ba7816bf..."
/// ```
public struct SHA256: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// A hasher in the initial state (no bytes fed yet).
    public init() {}

    /// Feeds more bytes.
    public mutating func update<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        length &+= UInt64(bytes.count)
        buffer.append(contentsOf: bytes)
        let whole = buffer.count / 64 * 64
        if whole > 0 {
            buffer.withUnsafeBufferPointer { p in
                var offset = 0
                while offset < whole {
                    compress(p.baseAddress! + offset)
                    offset += 64
                }
            }
            buffer.removeFirst(whole)
        }
    }

    /// The digest of everything fed so far.
    public func finalize() -> Digest {
        var copy = self
        let bitLength = length &* 8
        var pad: [UInt8] = [0x80]
        let rem = (copy.buffer.count + 1) % 64
        pad += [UInt8](repeating: 0, count: rem <= 56 ? 56 - rem : 120 - rem)
        for i in (0..<8).reversed() { pad.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        let savedLength = copy.length
        copy.update(pad)
        copy.length = savedLength
        precondition(copy.buffer.isEmpty)
        let s = copy.state
        var out: [UInt8] = []
        for w in [s.0, s.1, s.2, s.3, s.4, s.5, s.6, s.7] {
            out += [UInt8(w >> 24), UInt8(w >> 16 & 0xff), UInt8(w >> 8 & 0xff), UInt8(w & 0xff)]
        }
        return Digest(bytes: out)
    }

    /// A 32-byte SHA-256 digest.
    public struct Digest: Sendable, Equatable {
        /// The 32 digest bytes, most significant byte of the first state word first.
        public let bytes: [UInt8]
        /// Lowercase hexadecimal, as `sha256sum` prints it.
        public var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }
    }

    /// The SHA-256 of a file, read in 1 MiB chunks.
    ///
    /// - Throws: `.io` when the file cannot be read.
    public static func hash(fileAt url: URL) throws -> Digest {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw MiniLMError(.io, "cannot open \(url.path) for reading")
        }
        defer { try? handle.close() }
        var h = SHA256()
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch {
                throw MiniLMError(.io, "cannot read \(url.path): \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            h.update(chunk)
        }
        return h.finalize()
    }

    @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    private mutating func compress(_ p: UnsafePointer<UInt8>) {
        var w = [UInt32](repeating: 0, count: 64)
        w.withUnsafeMutableBufferPointer { w in
            for i in 0..<16 {
                w[i] = UInt32(p[4 * i]) << 24 | UInt32(p[4 * i + 1]) << 16 | UInt32(p[4 * i + 2]) << 8 | UInt32(p[4 * i + 3])
            }
            for i in 16..<64 {
                let s0 = Self.rotr(w[i - 15], 7) ^ Self.rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = Self.rotr(w[i - 2], 17) ^ Self.rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = state
            Self.k.withUnsafeBufferPointer { k in
                for i in 0..<64 {
                    let s1 = Self.rotr(e, 6) ^ Self.rotr(e, 11) ^ Self.rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = Self.rotr(a, 2) ^ Self.rotr(a, 13) ^ Self.rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    h = g; g = f; f = e; e = d &+ t1
                    d = c; c = b; b = a; a = t1 &+ t2
                }
            }
            state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d,
                     state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
        }
    }
}
