/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected as 0x82F63B78), slice-by-8.
///
/// The checksum of WAL records, segment blocks and manifests (as in leveldb's `crc32c`).
enum CRC32C {
    static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[0][i] = c
        }
        for i in 0..<256 {
            for s in 1..<8 { t[s][i] = (t[s - 1][i] >> 8) ^ t[0][Int(t[s - 1][i] & 0xFF)] }
        }
        return t
    }()

    static let flat: [UInt32] = tables.flatMap { $0 }

    /// The checksum of `bytes`, continuing from `crc` (0 to start).
    static func checksum(_ bytes: UnsafeRawBufferPointer, crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        flat.withUnsafeBufferPointer { t in
            var p = bytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) }
            var n = bytes.count
            guard var ptr = p else { return }
            while n >= 8 {
                let lo = UnsafeRawPointer(ptr).loadUnaligned(as: UInt32.self).littleEndian ^ c
                let hi = UnsafeRawPointer(ptr + 4).loadUnaligned(as: UInt32.self).littleEndian
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                ptr += 8
                n -= 8
            }
            while n > 0 {
                c = t[Int((c ^ UInt32(ptr.pointee)) & 0xFF)] ^ (c >> 8)
                ptr += 1
                n -= 1
            }
            p = ptr
        }
        return ~c
    }

    static func checksum(_ bytes: [UInt8], crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, crc: crc) }
    }
}

/// A checksum that runs at memory bandwidth, for the large vector regions of segment files.
///
/// Eight lanes of Fletcher-style sums over little-endian 32-bit words (`a += w; b += a`,
/// wrapping), folded with CRC-32C together with the tail bytes and the length. Any change of
/// one word changes `a`; reordered words change `b`. It guards against damage, not attackers.
enum VectorChecksum {
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var a0 = SIMD8<UInt32>(repeating: 0), b0 = SIMD8<UInt32>(repeating: 0)
        var a1 = SIMD8<UInt32>(repeating: 0), b1 = SIMD8<UInt32>(repeating: 0)
        let n = bytes.count
        var i = 0
        if let base = bytes.baseAddress {
            while i + 64 <= n {
                let w0 = (base + i).loadUnaligned(as: SIMD8<UInt32>.self)
                let w1 = (base + i + 32).loadUnaligned(as: SIMD8<UInt32>.self)
                a0 &+= w0; b0 &+= a0
                a1 &+= w1; b1 &+= a1
                i += 64
            }
        }
        // The fold: the 32 lane sums, the tail (under 64 bytes) and the length, little-endian,
        // laid out on the stack (a 4 KiB group is checksummed per first read of its rows).
        let tail = n - i
        return withUnsafeTemporaryAllocation(byteCount: 128 + 64 + 8, alignment: 8) { fold in
            var at = 0
            func store(_ lanes: SIMD8<UInt32>) {
                for lane in 0..<8 {
                    fold.storeBytes(of: lanes[lane].littleEndian, toByteOffset: at, as: UInt32.self)
                    at += 4
                }
            }
            store(a0)
            store(b0)
            store(a1)
            store(b1)
            if tail > 0 { (fold.baseAddress! + at).copyMemory(from: bytes.baseAddress! + i, byteCount: tail) }
            at += tail
            fold.storeBytes(of: UInt64(n).littleEndian, toByteOffset: at, as: UInt64.self)
            return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: fold[0..<(at + 8)]))
        }
    }
}
