/// Reads a WAL file, validating every record (leveldb's `log::Reader`).
///
/// A damaged record at the very end of the file, with nothing valid after it, is a torn write
/// from a crash: it is dropped, reported, and `validLength` marks where the good records end.
/// Damage followed by valid records is real corruption and throws `.corruption`.
struct WALReader {
    struct Result {
        var operations: [WALOperation]
        /// The byte length of the header plus every valid record.
        var validLength: Int
        /// Set when a torn tail was dropped: what was wrong with it.
        var tornTail: String?
    }

    static func read(path: String) throws -> Result {
        let bytes = try FileSystem.readFile(path)
        return try bytes.withUnsafeBytes { try read(buffer: $0, name: path) }
    }

    static func read(buffer: UnsafeRawBufferPointer, name: String) throws -> Result {
        let h = WALFormat.headerSize
        if buffer.count < h {
            // A crash while the header was written: an empty log.
            return Result(operations: [], validLength: 0, tornTail: buffer.isEmpty ? nil : "partial header")
        }
        guard Array(buffer[0..<8]) == WALFormat.magic else {
            throw QuiverError.corruption("WAL '\(name)': bad magic number")
        }
        let version = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == WALFormat.version else {
            throw QuiverError.corruption("WAL '\(name)': unsupported version \(version)")
        }
        var ops = [WALOperation]()
        var offset = h
        var lastSequence: UInt64 = 0
        while offset < buffer.count {
            switch check(buffer, at: offset) {
            case .valid(let type, let length):
                let payload = UnsafeRawBufferPointer(
                    rebasing: buffer[(offset + WALFormat.recordHeaderSize)..<(offset + WALFormat.recordHeaderSize + length)])
                guard let recordType = WALFormat.RecordType(rawValue: type) else {
                    throw QuiverError.corruption("WAL '\(name)': unknown record type \(type) at byte \(offset)")
                }
                let op = try WALOperation.decode(type: recordType, payload: payload, context: "WAL '\(name)' record at byte \(offset)")
                guard op.sequence < 1 << 62 else {
                    throw QuiverError.corruption("WAL '\(name)': sequence \(op.sequence) at byte \(offset) is out of range")
                }
                guard op.sequence > lastSequence else {
                    throw QuiverError.corruption("WAL '\(name)': sequence \(op.sequence) at byte \(offset) does not increase")
                }
                lastSequence = op.sequence
                ops.append(op)
                offset += WALFormat.recordHeaderSize + length
            case .damaged(let why):
                if hasValidRecord(buffer, after: offset) {
                    throw QuiverError.corruption("WAL '\(name)': \(why) at byte \(offset), followed by valid records")
                }
                return Result(operations: ops, validLength: offset, tornTail: "\(why) at byte \(offset)")
            }
        }
        return Result(operations: ops, validLength: offset, tornTail: nil)
    }

    private enum Check {
        case valid(type: UInt8, length: Int)
        case damaged(String)
    }

    private static func check(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> Check {
        let remaining = buffer.count - offset
        guard remaining >= WALFormat.recordHeaderSize else { return .damaged("truncated record header") }
        let crc = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let length = Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
        guard length <= WALFormat.maxRecordLength, length >= 8 else { return .damaged("bad record length \(length)") }
        guard length <= remaining - WALFormat.recordHeaderSize else { return .damaged("record length \(length) runs past the end") }
        let covered = UnsafeRawBufferPointer(rebasing: buffer[(offset + 4)..<(offset + WALFormat.recordHeaderSize + length)])
        guard CRC32C.checksum(covered) == crc else { return .damaged("checksum mismatch") }
        return .valid(type: buffer[offset + 8], length: length)
    }

    /// `true` when some offset after `offset` starts a record whose checksum verifies.
    private static func hasValidRecord(_ buffer: UnsafeRawBufferPointer, after offset: Int) -> Bool {
        var o = offset + 1
        while o + WALFormat.recordHeaderSize + 8 <= buffer.count {
            let type = buffer[o + 8]
            if WALFormat.RecordType(rawValue: type) != nil, case .valid = check(buffer, at: o) { return true }
            o += 1
        }
        return false
    }
}
