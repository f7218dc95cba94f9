/// The write-ahead log format. Byte layout in `Documentation/FileFormats.md` § WAL.
///
/// ```
/// file   := header record*
/// header := "QVWAL\0\0\0" (8) | version u32 | reserved u32          (16 bytes)
/// record := crc32c u32 | length u32 | type u8 | payload[length]
///           crc32c covers length, type and payload (leveldb's log_format.h, with the length included)
/// payload:= sequence u64 | body
/// ```
enum WALFormat {
    static let magic: [UInt8] = Array("QVWAL".utf8) + [0, 0, 0]
    static let version: UInt32 = 1
    static let headerSize = 16
    /// crc (4) + length (4) + type (1).
    static let recordHeaderSize = 9
    /// Larger records are refused on write and treated as damage on read.
    static let maxRecordLength = 1 << 30

    enum RecordType: UInt8 {
        /// body := rowCount varint | row*   (row := encoded `Value.object` of the stored row)
        case insert = 1
        /// Same body as insert; each row replaces the live row with its primary key.
        case upsert = 2
        /// body := keyCount varint | key*   (key := encoded `Value`, `.int` or `.string`)
        case delete = 3
        /// body := the stored rows column by column (`StoredBatch.encode`); what inserts write.
        case insertColumns = 4
        /// Same body as insertColumns; each row replaces the live row with its primary key.
        case upsertColumns = 5
        /// body := partition varint | the body of insertColumns: an insert into the partition
        /// with that id (`Manifest.Partition`, never 0). Types 1 and 4 insert into `_default`
        /// (id 0) or, with a partition key, into the partitions the rows' keys hash to.
        case insertColumnsIntoPartition = 6
        /// The upsert form of type 6.
        case upsertColumnsIntoPartition = 7
    }

    static func header() -> [UInt8] {
        var w = ByteWriter()
        w.writeBytes(magic)
        w.writeInteger(version)
        w.writeInteger(UInt32(0))
        return w.bytes
    }

    /// A framed record for `type` with `payload`.
    static func frame(type: RecordType, payload: [UInt8]) -> [UInt8] {
        var w = ByteWriter(capacity: payload.count + recordHeaderSize)
        w.writeInteger(UInt32(0))  // crc placeholder
        w.writeInteger(UInt32(payload.count))
        w.writeInteger(type.rawValue)
        w.writeBytes(payload)
        let crc = w.bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[4...])) }
        withUnsafeBytes(of: crc.littleEndian) { src in
            for i in 0..<4 { w.bytes[i] = src[i] }
        }
        return w.bytes
    }
}

/// One decoded WAL operation.
enum WALOperation: Sendable, Equatable {
    /// Rows as objects: written before columnar records existed (still replayed).
    case insert(sequence: UInt64, rows: [Row])
    /// Rows as objects: written before columnar records existed (still replayed).
    case upsert(sequence: UInt64, rows: [Row])
    case delete(sequence: UInt64, keys: [PrimaryKey])
    /// Rows into `partition` (a partition id; 0 is `_default`, and what a collection with a
    /// partition key logs: its rows' partitions follow from their keys).
    case insertColumns(sequence: UInt64, batch: StoredBatch, partition: UInt64 = 0)
    case upsertColumns(sequence: UInt64, batch: StoredBatch, partition: UInt64 = 0)

    var sequence: UInt64 {
        switch self {
        case .insert(let s, _), .upsert(let s, _), .delete(let s, _), .insertColumns(let s, _, _), .upsertColumns(let s, _, _): s
        }
    }

    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.writeInteger(sequence)
        let type: WALFormat.RecordType
        switch self {
        case .insertColumns(_, let batch, let partition), .upsertColumns(_, let batch, let partition):
            // Records of `_default` keep types 4 and 5, which builds before partitions read.
            switch (self, partition) {
            case (.insertColumns, 0): type = .insertColumns
            case (.insertColumns, _): type = .insertColumnsIntoPartition
            case (_, 0): type = .upsertColumns
            default: type = .upsertColumnsIntoPartition
            }
            w.bytes.reserveCapacity(batch.byteEstimate + 1024)
            if partition != 0 { w.writeVarint(partition) }
            batch.encode(into: &w)
        case .insert(_, let rows), .upsert(_, let rows):
            if case .insert = self { type = .insert } else { type = .upsert }
            w.writeVarint(UInt64(rows.count))
            for row in rows { w.writeValue(.object(row)) }
        case .delete(_, let keys):
            type = .delete
            w.writeVarint(UInt64(keys.count))
            for key in keys { w.writeValue(key.value) }
        }
        return WALFormat.frame(type: type, payload: w.bytes)
    }

    static func decode(type: WALFormat.RecordType, payload: UnsafeRawBufferPointer, context: String) throws -> WALOperation {
        var r = ByteReader(payload, context: context)
        let sequence: UInt64 = try r.readInteger()
        switch type {
        case .insertColumns, .upsertColumns, .insertColumnsIntoPartition, .upsertColumnsIntoPartition:
            var partition: UInt64 = 0
            if type == .insertColumnsIntoPartition || type == .upsertColumnsIntoPartition {
                partition = try r.readVarint()
                guard partition != 0 else { throw r.corruption("partition record names the default partition") }
            }
            let batch = try StoredBatch.decode(&r)
            guard r.isAtEnd else { throw r.corruption("trailing bytes in record") }
            return type == .insertColumns || type == .insertColumnsIntoPartition
                ? .insertColumns(sequence: sequence, batch: batch, partition: partition)
                : .upsertColumns(sequence: sequence, batch: batch, partition: partition)
        default: break
        }
        let count = try r.readCount(limit: r.remaining)
        switch type {
        case .insertColumns, .upsertColumns, .insertColumnsIntoPartition, .upsertColumnsIntoPartition: preconditionFailure("decoded above")
        case .insert, .upsert:
            var rows = [Row]()
            rows.reserveCapacity(count)
            for _ in 0..<count {
                guard case .object(let row) = try r.readValue() else { throw r.corruption("row is not an object") }
                rows.append(row)
            }
            guard r.isAtEnd else { throw r.corruption("trailing bytes in record") }
            return type == .insert ? .insert(sequence: sequence, rows: rows) : .upsert(sequence: sequence, rows: rows)
        case .delete:
            var keys = [PrimaryKey]()
            keys.reserveCapacity(count)
            for _ in 0..<count {
                switch try r.readValue() {
                case .int(let v): keys.append(.int(v))
                case .string(let s): keys.append(.string(s))
                default: throw r.corruption("primary key is neither int nor string")
                }
            }
            guard r.isAtEnd else { throw r.corruption("trailing bytes in record") }
            return .delete(sequence: sequence, keys: keys)
        }
    }
}
