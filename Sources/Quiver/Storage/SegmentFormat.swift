/// The immutable segment file format. Byte layout in `Documentation/FileFormats.md` § Segment.
///
/// ```
/// header   := "QVSEG\0\0\0" (8) | version u32 | reserved u32                       16 bytes
/// blocks   := LZ4 blocks of scalar columns (8192 rows each)
/// vectors  := per vector field, 64-byte aligned raw little-endian float32, row-major,
///             then its norms (float32 per row); checksummed per group of rows (version 2)
///             or per 1 MiB chunk (version 1, still read)
/// footer   := segment id u64 | row count u64 | section count varint | section*
/// trailer  := footer length u32 | footer crc32c u32 | "QVSEGEND" (8)                  16 bytes
/// ```
enum SegmentFormat {
    static let magic: [UInt8] = Array("QVSEG".utf8) + [0, 0, 0]
    static let endMagic: [UInt8] = Array("QVSEGEND".utf8)
    /// The version written: 2 checksums vectors per group of rows, verified when first read
    /// (``VectorVerifier``); 1 checksummed them per 1 MiB chunk, all verified on open.
    static let version: UInt32 = 2
    static let supportedVersions: ClosedRange<UInt32> = 1...2
    static let headerSize = 16
    static let trailerSize = 16
    static let rowsPerBlock = 8192
    /// Version 1 checksummed vector data in chunks of this many bytes, verified in parallel on
    /// open; version 2 writes vectors through a buffer of about this size.
    static let vectorChunkBytes = 1 << 20
    /// The bytes of vectors a version 2 checksum group covers at most (one 4 KiB page), unless
    /// one row is larger.
    static let vectorGroupBytes = 4096

    /// Rows per checksum group for rows of `rowBytes` bytes: the largest power of two whose
    /// vectors fit in `vectorGroupBytes`, at least 1 (a power of two so that a row's group is a shift).
    static func vectorGroupRows(rowBytes: Int) -> Int {
        var rows = 1
        while rows * 2 * rowBytes <= vectorGroupBytes { rows *= 2 }
        return rows
    }

    /// The number of checksum groups of `rows` rows.
    static func groupCount(rows: Int, rowsPerGroup: Int) -> Int { (rows + rowsPerGroup - 1) / rowsPerGroup }

    /// The checksum of a group's vector bytes (its first part; ``groupChecksum(_:norms:)`` adds the norms).
    static func groupChecksum(vectors: UnsafeRawBufferPointer) -> UInt32 { VectorChecksum.checksum(vectors) }

    /// A group's checksum: the checksum of its vectors continued by CRC-32C over its norms (the
    /// register's start is a bijection of the vectors' part, so damage to either changes it).
    static func groupChecksum(_ vectorPart: UInt32, norms: UnsafeRawBufferPointer?) -> UInt32 {
        guard let norms else { return vectorPart }
        return CRC32C.checksum(norms, crc: vectorPart)
    }

    /// The checksum of rows `rows` of a vector region whose vectors (`rowBytes` each) start at
    /// `vectors` and whose norms (`normBytes` each, nil for binary vectors) start at `norms`.
    /// (An HNSW file's groups use it too: link blocks for vectors, SQ8 codes for norms.)
    static func groupChecksum(
        vectors: UnsafeRawPointer, norms: UnsafeRawPointer?, normBytes: Int = 4, rows: Range<Int>, rowBytes: Int
    ) -> UInt32 {
        let v = groupChecksum(vectors: UnsafeRawBufferPointer(start: vectors + rows.lowerBound * rowBytes, count: rows.count * rowBytes))
        return groupChecksum(v, norms: norms.map { UnsafeRawBufferPointer(start: $0 + rows.lowerBound * normBytes, count: rows.count * normBytes) })
    }

    enum SectionKind: UInt8 {
        case scalar = 0
        case vector = 1
    }

    /// Storage tags inside a raw column block.
    enum StorageTag: UInt8 {
        case bool = 0, int = 1, float = 2, double = 3, string = 4, value = 5
        /// Sparse vectors: `rows × count varint`, then every index (u32), then every weight (f32).
        case sparse = 6
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
        /// Version 2: rows per checksum group (a power of two); nil in version 1.
        var rowsPerGroup: Int?
        /// Version 2: each group's checksum (`groupChecksum`). Version 1: the `VectorChecksum` of
        /// each `vectorChunkBytes` chunk of vectors-then-norms.
        var checksums: [UInt32]
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
                if let g = v.rowsPerGroup { w.writeVarint(UInt64(g)) }
                w.writeVarint(UInt64(v.checksums.count))
                for c in v.checksums { w.writeInteger(c) }
            }
            return w.bytes
        }

        /// Decodes a footer of a segment of format `version`.
        static func decode(_ reader: inout ByteReader, version: UInt32) throws -> Footer {
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
                    var groupRows: Int? = nil
                    if version >= 2 {
                        let g = try reader.readCount(limit: 1 << 20)
                        guard g > 0, g & (g - 1) == 0 else { throw reader.corruption("rows per checksum group \(g) is not a power of two") }
                        groupRows = g
                    }
                    let n = try reader.readCount(limit: reader.remaining / 4)
                    var crcs = [UInt32]()
                    crcs.reserveCapacity(n)
                    for _ in 0..<n { crcs.append(try reader.readInteger()) }
                    footer.vectors.append(VectorSection(name: name, dimension: dim, offset: offset, rowsPerGroup: groupRows, checksums: crcs))
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
        case .sparse(let a):
            w.writeInteger(StorageTag.sparse.rawValue)
            w.writeSparseRows(a, range)
        }
        return (w.bytes, nullCount, mn, mx)
    }

    /// Accumulates the decoded blocks of one column into plain arrays (no copy-on-write churn).
    struct ColumnBuilder {
        var tag: StorageTag?
        var bools: [Bool] = [], ints: [Int64] = [], floats: [Float] = [], doubles: [Double] = []
        var strings: [String] = [], values: [Value] = []
        var sparse = SparseRows()
        var nulls: Bitset? = nil
        var count = 0
        let capacity: Int

        init(capacity: Int) { self.capacity = capacity }

        /// Decodes a raw block of `rows` rows and appends it.
        mutating func decodeBlock(_ raw: UnsafeRawBufferPointer, rows: Int, context: String) throws {
            var r = ByteReader(raw, context: context)
            let hasNulls: UInt8 = try r.readInteger()
            guard hasNulls <= 1 else { throw r.corruption("bad null flag") }
            var blockNulls: UnsafeRawBufferPointer? = nil
            if hasNulls == 1 { blockNulls = try r.readBytes((rows + 7) / 8) }
            let tagRaw: UInt8 = try r.readInteger()
            guard let blockTag = StorageTag(rawValue: tagRaw) else { throw r.corruption("unknown storage tag \(tagRaw)") }
            if let tag {
                guard tag == blockTag else { throw r.corruption("storage tag changes between blocks") }
            } else {
                tag = blockTag
            }
            switch blockTag {
            case .bool:
                if bools.isEmpty { bools.reserveCapacity(capacity) }
                let bytes = try r.readBytes(rows)
                for b in bytes {
                    guard b <= 1 else { throw r.corruption("bad bool byte") }
                    bools.append(b == 1)
                }
            case .int:
                if ints.isEmpty { ints.reserveCapacity(capacity) }
                let bytes = try r.readBytes(rows * 8)
                for i in 0..<rows { ints.append(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))) }
            case .float:
                if floats.isEmpty { floats.reserveCapacity(capacity) }
                let bytes = try r.readBytes(rows * 4)
                for i in 0..<rows {
                    floats.append(Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))))
                }
            case .double:
                if doubles.isEmpty { doubles.reserveCapacity(capacity) }
                let bytes = try r.readBytes(rows * 8)
                for i in 0..<rows {
                    doubles.append(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
                }
            case .string:
                if strings.isEmpty { strings.reserveCapacity(capacity) }
                for _ in 0..<rows { strings.append(try r.readString()) }
            case .value:
                if values.isEmpty { values.reserveCapacity(capacity) }
                for _ in 0..<rows { values.append(try r.readValue()) }
            case .sparse:
                sparse.append(contentsOf: try r.readSparseRows(rows))
            }
            guard r.isAtEnd else { throw r.corruption("trailing bytes in block") }
            if let blockNulls {
                if nulls == nil { nulls = Bitset(count: count) }
                for i in 0..<rows { nulls!.append(blockNulls[i >> 3] & (1 << UInt8(i & 7)) != 0) }
            } else if nulls != nil {
                for _ in 0..<rows { nulls!.append(false) }
            }
            count += rows
        }

        /// The column, or `nil` when no block was decoded.
        func build() -> Column? {
            guard let tag else { return nil }
            let n = nulls.flatMap { $0.isEmpty ? nil : $0 }
            switch tag {
            case .bool: return Column(storage: .bool(bools), nulls: n)
            case .int: return Column(storage: .int(ints), nulls: n)
            case .float: return Column(storage: .float(floats), nulls: n)
            case .double: return Column(storage: .double(doubles), nulls: n)
            case .string: return Column(storage: .string(strings), nulls: n)
            case .value: return Column(storage: .value(values), nulls: n)
            case .sparse: return Column(storage: .sparse(sparse), nulls: n)
            }
        }
    }
}
