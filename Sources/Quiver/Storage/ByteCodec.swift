/// Little-endian binary encoding used by every file format (WAL, segments, delete files).
///
/// `write*` appends; `read*` consumes and throws `.corruption` on short or malformed input,
/// so a damaged file can never make a reader trap. See `Documentation/FileFormats.md`.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func writeFloat(_ value: Float) { writeInteger(value.bitPattern) }
    mutating func writeDouble(_ value: Double) { writeInteger(value.bitPattern) }

    mutating func writeBytes(_ data: UnsafeRawBufferPointer) { bytes.append(contentsOf: data) }
    mutating func writeBytes(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    /// A LEB128 unsigned varint.
    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// A varint byte length followed by the UTF-8 bytes.
    mutating func writeString(_ s: String) {
        var copy = s
        copy.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func writeFloats(_ values: [Float]) {
        #if _endian(little)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for v in values { writeFloat(v) }
        #endif
    }

    /// Pads with zeros until the length is a multiple of `alignment`.
    mutating func align(to alignment: Int) {
        let rem = bytes.count % alignment
        if rem != 0 { bytes.append(contentsOf: repeatElement(0, count: alignment - rem)) }
    }

    // Value tags; never renumber (they are on disk).
    enum Tag: UInt8 {
        case null = 0, bool = 1, int = 2, double = 3, string = 4, vector = 5, bytes = 6, array = 7, object = 8, sparse = 9
    }

    /// Encodes a `Value` recursively: a tag byte, then the payload.
    mutating func writeValue(_ value: Value) {
        switch value {
        case .null: writeInteger(Tag.null.rawValue)
        case .bool(let b): writeInteger(Tag.bool.rawValue); writeInteger(UInt8(b ? 1 : 0))
        case .int(let v): writeInteger(Tag.int.rawValue); writeInteger(v)
        case .double(let d): writeInteger(Tag.double.rawValue); writeDouble(d)
        case .string(let s): writeInteger(Tag.string.rawValue); writeString(s)
        case .vector(let v):
            writeInteger(Tag.vector.rawValue); writeVarint(UInt64(v.count)); writeFloats(v)
        case .bytes(let b): writeInteger(Tag.bytes.rawValue); writeVarint(UInt64(b.count)); writeBytes(b)
        case .array(let a):
            writeInteger(Tag.array.rawValue); writeVarint(UInt64(a.count))
            for item in a { writeValue(item) }
        case .object(let o):
            writeInteger(Tag.object.rawValue); writeVarint(UInt64(o.count))
            for key in o.keys.sorted() { writeString(key); writeValue(o[key]!) }
        case .sparse(let v):
            writeInteger(Tag.sparse.rawValue); writeSparse(v)
        }
    }
}

struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    private(set) var offset: Int
    /// Names the file or structure in error messages.
    let context: String

    init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0, context: String) {
        self.buffer = buffer
        self.offset = offset
        self.context = context
    }

    var remaining: Int { buffer.count - offset }
    var isAtEnd: Bool { offset >= buffer.count }

    func corruption(_ what: String) -> QuiverError {
        QuiverError.corruption("\(context): \(what) at byte \(offset)")
    }

    mutating func readInteger<T: FixedWidthInteger>(_: T.Type = T.self) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw corruption("unexpected end of data") }
        let v = buffer.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: v)
    }

    mutating func readFloat() throws -> Float { Float(bitPattern: try readInteger(UInt32.self)) }
    mutating func readDouble() throws -> Double { Double(bitPattern: try readInteger(UInt64.self)) }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte: UInt8 = try readInteger()
            guard shift < 64 else { throw corruption("varint too long") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A varint that must not exceed `limit` (and the remaining bytes when it counts bytes).
    mutating func readCount(limit: Int) throws -> Int {
        let v = try readVarint()
        guard v <= UInt64(limit) else { throw corruption("count \(v) exceeds the limit \(limit)") }
        return Int(v)
    }

    mutating func readBytes(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw corruption("unexpected end of data") }
        let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
        offset += count
        return slice
    }

    mutating func readString() throws -> String {
        let n = try readCount(limit: remaining)
        let raw = try readBytes(n)
        guard let s = String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw corruption("string is not valid UTF-8")
        }
        return s
    }

    mutating func readFloats(_ count: Int) throws -> [Float] {
        guard count <= remaining / 4 else { throw corruption("unexpected end of data") }
        let raw = try readBytes(count * 4)
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
            initialized = count
        }
    }

    mutating func readValue(depth: Int = 0) throws -> Value {
        guard depth < 256 else { throw corruption("value nested deeper than 256") }
        let raw: UInt8 = try readInteger()
        guard let tag = ByteWriter.Tag(rawValue: raw) else { throw corruption("unknown value tag \(raw)") }
        switch tag {
        case .null: return .null
        case .bool:
            let b: UInt8 = try readInteger()
            guard b <= 1 else { throw corruption("bad bool byte \(b)") }
            return .bool(b == 1)
        case .int: return .int(try readInteger(Int64.self))
        case .double: return .double(try readDouble())
        case .string: return .string(try readString())
        case .vector:
            let n = try readCount(limit: remaining / 4)
            return .vector(try readFloats(n))
        case .bytes:
            let n = try readCount(limit: remaining)
            return .bytes(Array(try readBytes(n)))
        case .array:
            let n = try readCount(limit: remaining)
            var items = [Value]()
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try readValue(depth: depth + 1)) }
            return .array(items)
        case .object:
            let n = try readCount(limit: remaining)
            var o = [String: Value](minimumCapacity: n)
            for _ in 0..<n {
                let key = try readString()
                o[key] = try readValue(depth: depth + 1)
            }
            return .object(o)
        case .sparse:
            return .sparse(try readSparse())
        }
    }
}
