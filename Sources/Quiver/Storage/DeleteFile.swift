/// The rows of one sealed segment that are deleted, as of one manifest version.
///
/// ```
/// "QVDEL\0\0\0" (8) | version u32 | reserved u32 | segment id u64 | count u32 | row u32 × count | crc32c u32
/// ```
/// The crc covers every byte before it. Rows are strictly increasing.
enum DeleteFile {
    static let magic: [UInt8] = Array("QVDEL".utf8) + [0, 0, 0]
    static let version: UInt32 = 1

    static func encode(segmentID: UInt64, deleted: Bitset) -> [UInt8] {
        var w = ByteWriter()
        w.writeBytes(magic)
        w.writeInteger(version)
        w.writeInteger(UInt32(0))
        w.writeInteger(segmentID)
        w.writeInteger(UInt32(deleted.cardinality))
        deleted.forEachSet { w.writeInteger(UInt32($0)) }
        w.writeInteger(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], path: String, segmentID: UInt64, rowCount: Int) throws -> Bitset {
        try bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw, context: "delete file '\(path)'")
            guard raw.count >= 32 else { throw r.corruption("file too short") }
            let body = UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 4)])
            let crc = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 4, as: UInt32.self))
            guard CRC32C.checksum(body) == crc else { throw r.corruption("checksum mismatch") }
            guard Array(try r.readBytes(8)) == magic else { throw r.corruption("bad magic number") }
            let v: UInt32 = try r.readInteger()
            guard v == version else { throw r.corruption("unsupported version \(v)") }
            _ = try r.readInteger(UInt32.self)
            let id: UInt64 = try r.readInteger()
            guard id == segmentID else { throw r.corruption("belongs to segment \(id), not \(segmentID)") }
            let count = Int(try r.readInteger(UInt32.self))
            guard count * 4 == r.remaining - 4 else { throw r.corruption("count \(count) does not match the file size") }
            var bits = Bitset(count: rowCount)
            var previous = -1
            for _ in 0..<count {
                let row = Int(try r.readInteger(UInt32.self))
                guard row > previous, row < rowCount else { throw r.corruption("row \(row) out of order or range") }
                bits[row] = true
                previous = row
            }
            return bits
        }
    }
}
