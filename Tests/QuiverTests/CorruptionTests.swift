import Foundation
import Synchronization
import Testing
@testable import Quiver

/// One test per WAL damage shape and per segment damage: damage gives `.corruption` (or, for a
/// torn WAL tail, drops the torn record and reports it), never a crash or a wrong result.
@Suite struct CorruptionTests {
    final class Messages: Sendable {
        let list = Locked<[String]>([])
        func options() -> DatabaseOptions {
            var o = quietOptions()
            o.logHandler = { [self] _, message in list.withLock { $0.append(message) } }
            return o
        }
        var all: [String] { list.withLock { $0 } }
    }

    /// A database whose collection "c" holds rows 0..<n, one WAL record each, never flushed.
    func makeWAL(rows n: Int) throws -> (TemporaryDirectory, String) {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("c", dimension: 4)
        for i in 0..<n { _ = try db.insert("c", rows: [["id": .int(Int64(i)), "vector": .vector([1, 2, 3, Float(i)])]]) }
        db.abandonForTesting()
        let walName = try FileSystem.listDirectory(dir.path + "/c1").first { $0.hasPrefix("wal-") }!
        return (dir, dir.path + "/c1/" + walName)
    }

    func recordOffsets(_ bytes: [UInt8]) -> [Int] {
        var offsets = [Int]()
        var o = WALFormat.headerSize
        while o + 9 <= bytes.count {
            offsets.append(o)
            let length = Int(bytes[o + 4]) | Int(bytes[o + 5]) << 8 | Int(bytes[o + 6]) << 16 | Int(bytes[o + 7]) << 24
            o += 9 + length
        }
        return offsets
    }

    func ids(_ dir: TemporaryDirectory, _ messages: Messages) throws -> [Int64] {
        let db = try Database.open(at: dir.path, options: messages.options())
        defer { try? db.close() }
        return try db.query("c", limit: 100).compactMap { $0["id"]?.intValue }.sorted()
    }

    func expectCorruption(_ dir: TemporaryDirectory, mentioning text: String) {
        #expect {
            try openAndUse(dir.path)
        } throws: { error in
            guard let e = error as? QuiverError else { return false }
            return e.code == .corruption && e.message.contains(text)
        }
    }

    @Test func badChecksumInLastRecordIsATornTail() throws {
        let (dir, wal) = try makeWAL(rows: 3)
        var bytes = try FileSystem.readFile(wal)
        bytes[bytes.count - 2] ^= 0xFF
        try FileSystem.writeFile(wal, bytes)
        let messages = Messages()
        #expect(try ids(dir, messages) == [0, 1])
        #expect(messages.all.contains { $0.contains("torn") && $0.contains("checksum mismatch") })
        // The torn tail was cut: the next open reports nothing.
        let again = Messages()
        #expect(try ids(dir, again) == [0, 1])
        #expect(again.all.isEmpty)
    }

    @Test func badChecksumInMiddleRecordIsCorruption() throws {
        let (dir, wal) = try makeWAL(rows: 3)
        var bytes = try FileSystem.readFile(wal)
        let offsets = recordOffsets(bytes)
        bytes[offsets[1] + 12] ^= 0x01
        try FileSystem.writeFile(wal, bytes)
        expectCorruption(dir, mentioning: "checksum mismatch")
    }

    @Test func badLengthInMiddleRecordIsCorruption() throws {
        let (dir, wal) = try makeWAL(rows: 3)
        var bytes = try FileSystem.readFile(wal)
        let offsets = recordOffsets(bytes)
        bytes[offsets[0] + 7] = 0x7F  // length ≈ 2 GB
        try FileSystem.writeFile(wal, bytes)
        expectCorruption(dir, mentioning: "length")
    }

    @Test func badLengthInLastRecordIsATornTail() throws {
        let (dir, wal) = try makeWAL(rows: 3)
        var bytes = try FileSystem.readFile(wal)
        let offsets = recordOffsets(bytes)
        bytes[offsets[2] + 5] ^= 0x10
        try FileSystem.writeFile(wal, bytes)
        let messages = Messages()
        #expect(try ids(dir, messages) == [0, 1])
        #expect(messages.all.contains { $0.contains("torn") })
    }

    @Test func truncatedTailAtEveryLengthDropsOnlyTheLastRecord() throws {
        let (dir, wal) = try makeWAL(rows: 3)
        let original = try FileSystem.readFile(wal)
        let last = recordOffsets(original)[2]
        let pristine = dir.path + ".pristine"
        try FileManager.default.copyItem(atPath: dir.path, toPath: pristine)
        for cut in last..<original.count {
            try FileManager.default.removeItem(atPath: dir.path)
            try FileManager.default.copyItem(atPath: pristine, toPath: dir.path)
            try FileSystem.writeFile(wal, Array(original[..<cut]))
            let messages = Messages()
            #expect(try ids(dir, messages) == [0, 1], "cut at \(cut)")
            #expect(messages.all.count == (cut == last ? 0 : 1), "cut at \(cut)")
        }
    }

    @Test func unknownRecordTypeIsCorruption() throws {
        let (dir, wal) = try makeWAL(rows: 2)
        var bytes = try FileSystem.readFile(wal)
        var payload = ByteWriter()
        payload.writeInteger(UInt64(99))
        payload.writeVarint(0)
        var record = WALFormat.frame(type: .delete, payload: payload.bytes)
        record[8] = 42  // an unknown type, then a valid checksum over it
        let crc = record.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[4...])) }
        withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { record[i] = $0[i] } }
        bytes += record
        try FileSystem.writeFile(wal, bytes)
        expectCorruption(dir, mentioning: "unknown record type 42")
    }

    @Test func everyFlippedSegmentByteIsCorruption() throws {
        let dir = TemporaryDirectory()
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "v", dataType: .floatVector(dimension: 3)),
            FieldSchema(name: "name", dataType: .varchar(maxLength: 10), nullable: true),
            FieldSchema(name: "score", dataType: .float),
        ], enableDynamicField: true)
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            try db.createCollection("c", schema: schema, metric: .l2)
            let rows: [Row] = (0..<5).map { (i: Int) -> Row in
                let name: Value = i == 2 ? .null : .string("n\(i)")
                return ["id": .int(Int64(i)), "v": .vector([Float(i), 1, 2]), "name": name, "score": 0.5, "extra": .int(Int64(i))]
            }
            _ = try db.insert("c", rows: rows)
            try db.close()
        }
        let segName = try FileSystem.listDirectory(dir.path + "/c1").first { $0.hasSuffix(".qseg") }!
        let segPath = dir.path + "/c1/" + segName
        let original = try FileSystem.readFile(segPath)
        for i in 0..<original.count {
            var bytes = original
            bytes[i] ^= 0x20
            try FileSystem.writeFile(segPath, bytes)
            #expect(throws: QuiverError.self, "flipped byte \(i)") {
                do { try openAndUse(dir.path) } catch let e as QuiverError {
                    #expect(e.code == .corruption, "byte \(i): \(e)")
                    #expect(e.message.contains(segName), "byte \(i): \(e)")
                    throw e
                }
            }
        }
        try FileSystem.writeFile(segPath, original)
        let db = try Database.open(at: dir.path, options: quietOptions())
        #expect(try db.collectionStats("c").rowCount == 5)
        try db.close()
    }

    @Test func damagedManifestIsCorruption() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            try db.createCollection("c", dimension: 2)
            _ = try db.insert("c", rows: [["id": 1, "vector": [1, 2]]])
            try db.close()
        }
        let path = dir.path + "/c1/MANIFEST"
        var bytes = try FileSystem.readFile(path)
        bytes[bytes.count - 3] ^= 0x04
        try FileSystem.writeFile(path, bytes)
        expectCorruption(dir, mentioning: "MANIFEST")
    }
}
