/// The immutable segment file format. Byte layout in `Documentation/FileFormats.md` § Segment.
///
/// ```
/// header   := "QVSEG\0\0\0" (8) | version u32 | reserved u32                       16 bytes
/// blocks   := LZ4 blocks of scalar columns (8192 rows each)
/// vectors  := per vector field, 64-byte aligned raw little-endian float32, row-major,
///             then its norms (float32 per row)
/// footer   := segment id u64 | row count u64 | section count varint | section*
/// trailer  := footer length u32 | footer crc32c u32 | "QVSEGEND" (8)                  16 bytes
/// ```
enum SegmentFormat {
    static let magic: [UInt8] = Array("QVSEG".utf8) + [0, 0, 0]
    static let endMagic: [UInt8] = Array("QVSEGEND".utf8)
    static let version: UInt32 = 1
    static let headerSize = 16
    static let trailerSize = 16
    static let rowsPerBlock = 8192
    /// Vector data is checksummed in chunks of this many bytes, verified in parallel on open.
    static let vectorChunkBytes = 1 << 20

    enum SectionKind: UInt8 {
        case scalar = 0
        case vector = 1
    }

    /// Storage tags inside a raw column block.
    enum StorageTag: UInt8 {
        case bool = 0, int = 1, float = 2, double = 3, string = 4, value = 5
    }

    struct Block: Sendable, Equatable {
        var offset: UInt64
        var storedLength: UInt32
        var rawLength: UInt32
        var rowCount: UInt32
        var crc: UInt32
        var nullCount: UInt32
        var min: Value?
        var max: Value?
    }

    struct ScalarSection: Sendable, Equatable {
        var name: String
        var blocks: [Block]
    }

    struct VectorSection: Sendable, Equatable {
        var name: String
        var dimension: Int
        /// Offset of the vectors; the norms follow at `offset + rowCount * dimension * 4`.
        var offset: UInt64
        /// crc32c of each `vectorChunkBytes` chunk of vectors-then-norms.
        var chunkCRCs: [UInt32]
    }

    struct Footer: Sendable, Equatable {
        var segmentID: UInt64
        var rowCount: Int
        var scalars: [ScalarSection]
        var vectors: [VectorSection]

        func encode() -> [UInt8] {
            var w = ByteWriter()
            w.writeInteger(segmentID)
            w.writeInteger(UInt64(rowCount))
            w.writeVarint(UInt64(scalars.count + vectors.count))
            for s in scalars {
                w.writeInteger(SectionKind.scalar.rawValue)
                w.writeString(s.name)
                w.writeVarint(UInt64(s.blocks.count))
                for b in s.blocks {
                    w.writeInteger(b.offset)
                    w.writeInteger(b.storedLength)
                    w.writeInteger(b.rawLength)
                    w.writeInteger(b.rowCount)
                    w.writeInteger(b.crc)
                    w.writeInteger(b.nullCount)
                    w.writeValue(b.min ?? .null)
                    w.writeValue(b.max ?? .null)
                }
            }
            for v in vectors {
                w.writeInteger(SectionKind.vector.rawValue)
                w.writeString(v.name)
                w.writeVarint(UInt64(v.dimension))
                w.writeInteger(v.offset)
                w.writeVarint(UInt64(v.chunkCRCs.count))
                for c in v.chunkCRCs { w.writeInteger(c) }
            }
            return w.bytes
        }

        static func decode(_ reader: inout ByteReader) throws -> Footer {
            let id: UInt64 = try reader.readInteger()
            let rows = try reader.readInteger(UInt64.self)
            guard rows <= UInt64(Int32.max) else { throw reader.corruption("row count \(rows) is too large") }
            var footer = Footer(segmentID: id, rowCount: Int(rows), scalars: [], vectors: [])
            let sections = try reader.readCount(limit: reader.remaining)
            for _ in 0..<sections {
                let kindRaw: UInt8 = try reader.readInteger()
                guard let kind = SectionKind(rawValue: kindRaw) else { throw reader.corruption("unknown section kind \(kindRaw)") }
                let name = try reader.readString()
                switch kind {
                case .scalar:
                    let n = try reader.readCount(limit: reader.remaining / 24)
                    var blocks = [Block]()
                    for _ in 0..<n {
                        var b = Block(
                            offset: try reader.readInteger(), storedLength: try reader.readInteger(),
                            rawLength: try reader.readInteger(), rowCount: try reader.readInteger(),
                            crc: try reader.readInteger(), nullCount: try reader.readInteger())
                        let mn = try reader.readValue(), mx = try reader.readValue()
                        b.min = mn.isNull ? nil : mn
                        b.max = mx.isNull ? nil : mx
                        blocks.append(b)
                    }
                    footer.scalars.append(ScalarSection(name: name, blocks: blocks))
                case .vector:
                    let dim = try reader.readCount(limit: 1 << 20)
                    let offset: UInt64 = try reader.readInteger()
                    let n = try reader.readCount(limit: reader.remaining / 4)
                    var crcs = [UInt32]()
                    crcs.reserveCapacity(n)
                    for _ in 0..<n { crcs.append(try reader.readInteger()) }
                    footer.vectors.append(VectorSection(name: name, dimension: dim, offset: offset, chunkCRCs: crcs))
                }
            }
            guard reader.isAtEnd else { throw reader.corruption("trailing bytes in footer") }
            return footer
        }
    }

    // MARK: Column blocks

    /// Encodes rows `range` of `column` as a raw (uncompressed) block.
    static func encodeBlock(_ column: Column, _ range: Range<Int>) -> (bytes: [UInt8], nullCount: Int, min: Value?, max: Value?) {
        var w = ByteWriter()
        var nullCount = 0
        if let nulls = column.nulls {
            w.writeInteger(UInt8(1))
            var byte: UInt8 = 0
            for (i, row) in range.enumerated() {
                if nulls[row] { byte |= 1 << UInt8(i & 7); nullCount += 1 }
                if i & 7 == 7 { w.writeInteger(byte); byte = 0 }
            }
            if range.count & 7 != 0 { w.writeInteger(byte) }
        } else {
            w.writeInteger(UInt8(0))
        }
        let isNull = { (row: Int) in column.nulls?[row] ?? false }
        var mn: Value? = nil, mx: Value? = nil
        func track<T: Comparable>(_ values: [T], _ wrap: (T) -> Value) {
            var lo: T? = nil, hi: T? = nil
            for row in range where !isNull(row) {
                let v = values[row]
                if lo == nil || v < lo! { lo = v }
                if hi == nil || v > hi! { hi = v }
            }
            mn = lo.map(wrap)
            mx = hi.map(wrap)
        }
        switch column.storage {
        case .bool(let a):
            w.writeInteger(StorageTag.bool.rawValue)
            for row in range { w.writeInteger(UInt8(a[row] ? 1 : 0)) }
        case .int(let a):
            w.writeInteger(StorageTag.int.rawValue)
            for row in range { w.writeInteger(a[row]) }
            track(a) { .int($0) }
        case .float(let a):
            w.writeInteger(StorageTag.float.rawValue)
            for row in range { w.writeFloat(a[row]) }
            track(a) { .double(Double($0)) }
        case .double(let a):
            w.writeInteger(StorageTag.double.rawValue)
            for row in range { w.writeDouble(a[row]) }
            track(a) { .double($0) }
        case .string(let a):
            w.writeInteger(StorageTag.string.rawValue)
            for row in range { w.writeString(a[row]) }
            track(a) { .string($0) }
        case .value(let a):
            w.writeInteger(StorageTag.value.rawValue)
            for row in range {
                if a[row].isNull { nullCount += 1 }
                w.writeValue(a[row])
            }
        }
        return (w.bytes, nullCount, mn, mx)
    }

    /// Decodes a raw block of `rows` rows, appending to the arrays of `into`.
    static func decodeBlock(_ raw: UnsafeRawBufferPointer, rows: Int, into column: inout Column?, context: String) throws {
        var r = ByteReader(raw, context: context)
        let hasNulls: UInt8 = try r.readInteger()
        guard hasNulls <= 1 else { throw r.corruption("bad null flag") }
        var blockNulls: UnsafeRawBufferPointer? = nil
        if hasNulls == 1 { blockNulls = try r.readBytes((rows + 7) / 8) }
        let tagRaw: UInt8 = try r.readInteger()
        guard let tag = StorageTag(rawValue: tagRaw) else { throw r.corruption("unknown storage tag \(tagRaw)") }
        let start = column?.count ?? 0
        var c = column ?? {
            switch tag {
            case .bool: Column(storage: .bool([]), nulls: nil)
            case .int: Column(storage: .int([]), nulls: nil)
            case .float: Column(storage: .float([]), nulls: nil)
            case .double: Column(storage: .double([]), nulls: nil)
            case .string: Column(storage: .string([]), nulls: nil)
            case .value: Column(storage: .value([]), nulls: nil)
            }
        }()
        column = nil
        switch (tag, c.storage) {
        case (.bool, .bool(var a)):
            c.storage = .bool([])
            for _ in 0..<rows {
                let b: UInt8 = try r.readInteger()
                guard b <= 1 else { throw r.corruption("bad bool byte") }
                a.append(b == 1)
            }
            c.storage = .bool(a)
        case (.int, .int(var a)):
            c.storage = .int([])
            guard r.remaining >= rows * 8 else { throw r.corruption("short int block") }
            for _ in 0..<rows { a.append(try r.readInteger()) }
            c.storage = .int(a)
        case (.float, .float(var a)):
            c.storage = .float([])
            for _ in 0..<rows { a.append(try r.readFloat()) }
            c.storage = .float(a)
        case (.double, .double(var a)):
            c.storage = .double([])
            for _ in 0..<rows { a.append(try r.readDouble()) }
            c.storage = .double(a)
        case (.string, .string(var a)):
            c.storage = .string([])
            for _ in 0..<rows { a.append(try r.readString()) }
            c.storage = .string(a)
        case (.value, .value(var a)):
            c.storage = .value([])
            for _ in 0..<rows { a.append(try r.readValue()) }
            c.storage = .value(a)
        default:
            throw r.corruption("storage tag changes between blocks")
        }
        guard r.isAtEnd else { throw r.corruption("trailing bytes in block") }
        if let blockNulls {
            if c.nulls == nil { c.nulls = Bitset(count: start) }
            for i in 0..<rows { c.nulls!.append(blockNulls[i >> 3] & (1 << UInt8(i & 7)) != 0) }
        } else if c.nulls != nil {
            for _ in 0..<rows { c.nulls!.append(false) }
        }
        column = c
    }
}
