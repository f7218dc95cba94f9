/// The checksummed envelope around small metadata files (CATALOG, MANIFEST).
///
/// ```
/// magic (8) | version u32 | length u32 | crc32c u32 (of the payload) | payload[length] (UTF-8 JSON)
/// ```
enum Envelope {
    static let headerSize = 20

    static func wrap(magic: String, version: UInt32, payload: Value) -> [UInt8] {
        let json = Array(payload.jsonString.utf8)
        var w = ByteWriter(capacity: json.count + headerSize)
        w.writeBytes(magicBytes(magic))
        w.writeInteger(version)
        w.writeInteger(UInt32(json.count))
        w.writeInteger(CRC32C.checksum(json))
        w.writeBytes(json)
        return w.bytes
    }

    static func unwrap(_ bytes: [UInt8], magic: String, version: UInt32, path: String) throws -> Value {
        try bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw, context: "'\(path)'")
            let m = try r.readBytes(8)
            guard Array(m) == magicBytes(magic) else { throw r.corruption("bad magic number") }
            let v: UInt32 = try r.readInteger()
            guard v == version else { throw r.corruption("unsupported version \(v)") }
            let length = Int(try r.readInteger(UInt32.self))
            let crc: UInt32 = try r.readInteger()
            guard length == r.remaining else { throw r.corruption("length \(length) does not match the file") }
            let payload = try r.readBytes(length)
            guard CRC32C.checksum(payload) == crc else { throw r.corruption("checksum mismatch") }
            do {
                return try Value(jsonData: Data(payload))
            } catch {
                throw QuiverError.corruption("'\(path)': payload is not valid JSON")
            }
        }
    }

    private static func magicBytes(_ magic: String) -> [UInt8] {
        let b = Array(magic.utf8)
        return b + [UInt8](repeating: 0, count: max(0, 8 - b.count))
    }
}

import struct Foundation.Data
