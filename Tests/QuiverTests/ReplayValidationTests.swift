import Foundation
import Testing
@testable import Quiver

/// Files whose checksums verify but whose content is inconsistent (written by a bug, another
/// program or an attacker): recovery reports `.corruption` naming the file, never traps; and a
/// damaged collection does not stop `Database.open` for the others.
@Suite struct ReplayValidationTests {
    /// A database whose collection "c" (id, 2-d vector, dynamic fields) holds row 1 and whose
    /// collection "ok" holds row 7, then what `more` does; closed (flushed) or left unflushed.
    static func database(close: Bool, _ more: (Database) throws -> Void = { _ in }) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("c", dimension: 2)
        try db.createCollection("ok", dimension: 2)
        _ = try db.insert("c", rows: [["id": 1, "vector": [1, 2]]])
        _ = try db.insert("ok", rows: [["id": 7, "vector": [1, 2]]])
        try more(db)
        if close { try db.close() } else { db.abandonForTesting() }
        return dir
    }

    /// `database(close: false)` and the path of "c"'s WAL.
    static func makeDatabase() throws -> (TemporaryDirectory, wal: String) {
        let dir = try database(close: false)
        let wal = try FileSystem.listDirectory(dir.path + "/c1").first { $0.hasPrefix("wal-") }!
        return (dir, dir.path + "/c1/" + wal)
    }

    /// Expects collection "c" to be reported damaged naming `file`, and "ok" to work.
    static func expectDamaged(_ dir: TemporaryDirectory, file: String, _ label: String) throws {
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        #expect(db.damagedCollections.isEmpty, "\(label): collections are loaded on first use")
        #expect(try db.get("ok", ids: [7]).count == 1, "\(label)")
        #expect(throws: QuiverError.self, "\(label)") {
            do { _ = try db.query("c", limit: 10) } catch let e as QuiverError {
                #expect(e.code == .corruption && e.message.contains(file), "\(label): \(e)")
                throw e
            }
        }
        let damage = db.damagedCollections["c"]
        #expect(damage?.code == .corruption, "\(label): \(String(describing: damage))")
        #expect(damage?.message.contains(file) == true, "\(label): \(damage?.message ?? "")")
    }

    static let good: Row = ["id": 2, "vector": .vector([1, 2]), "$meta": .object([:])]

    static let hostileRows: [(String, Row)] = [
        ("missing vector", ["id": 2, "$meta": .object([:])]),
        ("wrong dimension", ["id": 2, "vector": .vector([1, 2, 3]), "$meta": .object([:])]),
        ("NaN component", ["id": 2, "vector": .vector([.nan, 2]), "$meta": .object([:])]),
        ("string primary key", ["id": "x", "vector": .vector([1, 2]), "$meta": .object([:])]),
        ("null primary key", ["id": .null, "vector": .vector([1, 2]), "$meta": .object([:])]),
        ("unknown field", ["id": 2, "vector": .vector([1, 2]), "$meta": .object([:]), "zzz": 1]),
        ("$meta not an object", ["id": 2, "vector": .vector([1, 2]), "$meta": 5]),
        ("$meta missing", ["id": 2, "vector": .vector([1, 2])]),
        ("bytes as vector", ["id": 2, "vector": .bytes([1, 2, 3, 4, 5, 6, 7, 8]), "$meta": .object([:])]),
    ]

    @Test(arguments: hostileRows.indices)
    func hostileWALRowIsCorruption(_ i: Int) throws {
        let (label, row) = Self.hostileRows[i]
        for upsert in [false, true] {
            let (dir, wal) = try Self.makeDatabase()
            let op: WALOperation = upsert ? .upsert(sequence: 2, rows: [row]) : .insert(sequence: 2, rows: [Self.good, row])
            try FileSystem.writeFile(wal, try FileSystem.readFile(wal) + op.encode())
            try Self.expectDamaged(dir, file: "wal-", "\(label), upsert \(upsert)")
        }
    }

    @Test func walSequenceOutOfRangeIsCorruption() throws {
        let (dir, wal) = try Self.makeDatabase()
        try FileSystem.writeFile(wal, try FileSystem.readFile(wal) + WALOperation.insert(sequence: .max, rows: [Self.good]).encode())
        try Self.expectDamaged(dir, file: "wal-", "sequence UInt64.max")
    }

    @Test func walKeyInsertedTwiceInOneRecordIsCorruption() throws {
        let (dir, wal) = try Self.makeDatabase()
        try FileSystem.writeFile(wal, try FileSystem.readFile(wal) + WALOperation.insert(sequence: 2, rows: [Self.good, Self.good]).encode())
        try Self.expectDamaged(dir, file: "wal-", "key inserted twice in one record")
    }

    @Test func walCountPastTheRecordIsCorruption() throws {
        let (dir, wal) = try Self.makeDatabase()
        var w = ByteWriter()
        w.writeInteger(UInt64(2))
        w.writeVarint(1_000_000)  // rows, with no bytes after
        try FileSystem.writeFile(wal, try FileSystem.readFile(wal) + WALFormat.frame(type: .insert, payload: w.bytes))
        try Self.expectDamaged(dir, file: "wal-", "count past the record")
    }

    // MARK: Manifest

    /// A flushed database whose "c" manifest is rewritten (with a valid checksum) by `edit`.
    static func editManifest(_ label: String, _ edit: (inout [String: Value]) -> Void) throws {
        let dir = try database(close: true) { db in
            _ = try db.insert("c", rows: [["id": 2, "vector": [3, 4]]])
            try db.flush("c")
            _ = try db.delete("c", ids: [2])  // a delete file at close
        }
        let path = dir.path + "/c1/MANIFEST"
        guard case .object(var o) = try Envelope.unwrap(try FileSystem.readFile(path), magic: Manifest.magic, version: Manifest.formatVersion, path: path)
        else { Issue.record("manifest is not an object"); return }
        edit(&o)
        try FileSystem.writeFile(path, Envelope.wrap(magic: Manifest.magic, version: Manifest.formatVersion, payload: .object(o)))
        try expectDamaged(dir, file: "MANIFEST", label)
    }

    static func editSegment(_ o: inout [String: Value], _ edit: (inout [String: Value]) -> Void) {
        guard case .array(var segs)? = o["segments"], case .object(var first)? = segs.first else { return }
        edit(&first)
        segs[0] = .object(first)
        o["segments"] = .array(segs)
    }

    @Test func inconsistentManifestIsCorruption() throws {
        try Self.editManifest("negative row count") { o in Self.editSegment(&o) { $0["rows"] = -1 } }
        try Self.editManifest("negative deleted count") { o in Self.editSegment(&o) { $0["deleted"] = -1 } }
        try Self.editManifest("row count past Int32") { o in Self.editSegment(&o) { $0["rows"] = .int(1 << 40) } }
        try Self.editManifest("next segment id at the top") { $0["next_segment_id"] = -1 }
        try Self.editManifest("checkpoint sequence at the top") { $0["checkpoint_sequence"] = -1 }
        try Self.editManifest("next index number at the top") { $0["next_index_number"] = -1 }
        try Self.editManifest("delete file outside the collection") { o in Self.editSegment(&o) { $0["delete_file"] = "../CATALOG" } }
        try Self.editManifest("deleted rows without a delete file") { o in Self.editSegment(&o) { $0["delete_file"] = nil } }
        try Self.editManifest("segment listed twice") { o in
            guard case .array(let segs)? = o["segments"] else { return }
            o["segments"] = .array(segs + segs)
        }
    }

    // MARK: Segment

    /// Rewrites the footer of "c"'s segment (with a valid checksum) by `edit`.
    static func editFooter(_ label: String, _ edit: (inout SegmentFormat.Footer) -> Void) throws {
        let dir = try database(close: true)
        let name = try FileSystem.listDirectory(dir.path + "/c1").first { $0.hasSuffix(".qseg") }!
        let path = dir.path + "/c1/" + name
        let bytes = try FileSystem.readFile(path)
        let t = bytes.count - SegmentFormat.trailerSize
        let length = bytes.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: t, as: UInt32.self))) }
        var footer = try bytes.withUnsafeBytes { raw in
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: raw[(t - length)..<t]), context: "test")
            return try SegmentFormat.Footer.decode(&r, version: SegmentFormat.version)
        }
        edit(&footer)
        let encoded = footer.encode()
        var w = ByteWriter()
        w.writeBytes(Array(bytes[0..<(t - length)]))
        w.writeBytes(encoded)
        w.writeInteger(UInt32(encoded.count))
        w.writeInteger(CRC32C.checksum(encoded))
        w.writeBytes(SegmentFormat.endMagic)
        try FileSystem.writeFile(path, w.bytes)
        try expectDamaged(dir, file: name, label)
    }

    @Test func inconsistentSegmentFooterIsCorruption() throws {
        try Self.editFooter("block offset past Int.max") { $0.scalars[0].blocks[0].offset = .max }
        try Self.editFooter("block offset near Int.max") { $0.scalars[0].blocks[0].offset = UInt64(Int.max) - 4 }
        try Self.editFooter("vector offset past Int.max") { $0.vectors[0].offset = .max }
        try Self.editFooter("vector offset near Int.max") { $0.vectors[0].offset = UInt64(Int.max) & ~63 }
    }

    // MARK: Damaged collections

    @Test func damagedCollectionDoesNotStopOpen() throws {
        let dir = try Self.database(close: true)
        let path = dir.path + "/c1/MANIFEST"
        var bytes = try FileSystem.readFile(path)
        bytes[bytes.count - 3] ^= 0x04
        try FileSystem.writeFile(path, bytes)

        let db = try Database.open(at: dir.path, options: quietOptions())
        #expect(db.damagedCollections.isEmpty, "collections are loaded on first use")
        #expect(throws: QuiverError.self) { try db.loadCollection("c") }
        #expect(Array(db.damagedCollections.keys) == ["c"])
        #expect(db.damagedCollections["c"]?.message.contains("MANIFEST") == true)
        #expect(try db.listCollections() == ["c", "ok"])
        #expect(db.hasCollection("c"))
        #expect(try db.get("ok", ids: [7]).count == 1)
        _ = try db.insert("ok", rows: [["id": 3, "vector": [1, 2]]])
        let uses: [(String, () throws -> Void)] = [
            ("insert", { _ = try db.insert("c", rows: [["id": 4, "vector": [1, 2]]]) }),
            ("query", { _ = try db.query("c", limit: 10) }),
            ("search", { _ = try db.search("c", vectors: [[1, 2]], limit: 1) }),
            ("stats", { _ = try db.collectionStats("c") }),
            ("rename", { try db.renameCollection("c", to: "z") }),
        ]
        for (label, use) in uses {
            #expect(throws: QuiverError.self, "\(label)") {
                do { try use() } catch let e as QuiverError {
                    #expect(e.code == .corruption && e.message.contains("MANIFEST"), "\(label): \(e)")
                    throw e
                }
            }
        }
        #expect(throws: QuiverError.self) { try db.createCollection("c", dimension: 2) }
        try db.dropCollection("c")
        #expect(db.damagedCollections.isEmpty)
        #expect(!FileSystem.exists(dir.path + "/c1"))
        try db.close()

        let again = try Database.open(at: dir.path, options: quietOptions())
        #expect(again.damagedCollections.isEmpty)
        #expect(try again.listCollections() == ["ok"])
        #expect(try again.collectionStats("ok").rowCount == 2)
        try again.close()
    }
}
