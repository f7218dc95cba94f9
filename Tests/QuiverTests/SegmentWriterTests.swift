import Foundation
import Testing
@testable import Quiver

/// The segment writer copies vectors from where they are (a growing segment's arrays, the
/// segments a compaction merges) into the file about 1 MiB (whole checksum groups) at a time,
/// into an image (segments read into memory) or through a bounded buffer (memory-mapped segments).
@Suite struct SegmentWriterTests {
    /// Rows of 12, 10 and 11 bytes (checksum groups of 256 rows, 2.5–3 KiB), and every seventh
    /// row deleted cuts the live rows into runs. (Rows cut by a write piece's
    /// edge, which version 1's 1 MiB chunks made, are covered by the version 1 test below.)
    @Test(arguments: [DataType.floatVector(dimension: 3), .float16Vector(dimension: 5), .binaryVector(dimension: 88)])
    func streamedAndInMemoryWritesAreTheSameFileAndReadBackBitForBit(_ type: DataType) throws {
        let dir = TemporaryDirectory()
        try FileSystem.createDirectory(dir.path)
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "v", dataType: type),
            FieldSchema(name: "tag", dataType: .varchar(maxLength: 8), nullable: true),
        ])
        var g = SeededGenerator(seed: 20)
        var growing = GrowingSegment(schema: schema)
        let rows = 260_000
        for i in 0..<rows {
            let vector: Value = type.isBinaryVector
                ? .bytes((0..<11).map { _ in UInt8.random(in: 0...255, using: &g) })
                : .vector(randomVector(type.dimension!, using: &g))
            growing.append(["id": .int(Int64(i)), "v": vector, "tag": i % 5 == 0 ? .null : .string("t\(i % 3)")], partition: 0)
        }
        for row in stride(from: 3, to: rows, by: 7) { growing.markDeleted(row) }
        let live = growing.liveRowsByPartition()[0] ?? []
        let content = growing.content(of: live)
        #expect(live.count == rows - (rows - 3 + 6) / 7)
        let regionBytes = content.vectors["v"]!.region.length
        #expect(regionBytes > 2 * SegmentFormat.vectorChunkBytes)

        let inMemory = try #require(try SegmentWriter.write(content, id: 1, path: dir.path + "/a.qseg", inMemory: true))
        #expect(try SegmentWriter.write(content, id: 1, path: dir.path + "/b.qseg", inMemory: false) == nil)
        let written = try FileSystem.readFile(dir.path + "/b.qseg")
        #expect(try FileSystem.readFile(dir.path + "/a.qseg") == written)
        #expect(Array(inMemory.bytes) == written)

        let mapped = try SealedSegment(path: dir.path + "/b.qseg", id: 1, schema: schema, load: false)
        let loaded = try SealedSegment(file: inMemory, id: 1, schema: schema)
        for segment in [mapped, loaded] {
            #expect(segment.rowCount == live.count)
            let field = schema.field(named: "v")!
            for (i, row) in live.enumerated() {
                guard try segment.vectorValue("v", row: i) == growing.vectorValue(field, row: row) else {
                    Issue.record("row \(i) (growing row \(row)) differs")
                    break
                }
            }
            if !type.isBinaryVector {
                #expect(Array(try segment.norms("v")) == live.map { growing.norms["v"]![$0] })
            }
            #expect((0..<live.count).map { segment.columns["id"]!.value(at: $0) } == live.map { .int(Int64($0)) })
            #expect((0..<live.count).map { segment.columns["tag"]!.value(at: $0) } == live.map { $0 % 5 == 0 ? .null : .string("t\($0 % 3)") })
        }
    }

    /// A compaction's content reads the kept rows of several sealed segments in runs; written
    /// streamed, a damaged byte anywhere in the vectors or norms of the result is `.corruption`
    /// naming the rows when they are read, while the other rows still read.
    @Test func gatheredFromSegmentsAndDamagedChunkIsCorruption() throws {
        let dir = TemporaryDirectory()
        try FileSystem.createDirectory(dir.path)
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "v", dataType: .floatVector(dimension: 7)),
        ])
        var g = SeededGenerator(seed: 21)
        var sources = [SealedSegment]()
        var kept = [[Int]]()
        var expected = [[Float]]()
        for (s, rows) in [50_000, 1, 30_000].enumerated() {
            var growing = GrowingSegment(schema: schema)
            var vectors = [[Float]]()
            for i in 0..<rows {
                vectors.append(randomVector(7, using: &g))
                growing.append(["id": .int(Int64(s * 100_000 + i)), "v": .vector(vectors[i])], partition: 0)
            }
            let path = dir.path + "/s\(s).qseg"
            sources.append(try SealedSegment.write(growing.content(of: growing.liveRowsByPartition()[0] ?? []), id: UInt64(10 + s), path: path, schema: schema, load: true))
            let rowsKept = (0..<rows).filter { $0 % 11 != 4 && ($0 / 1000) % 3 != 1 }
            kept.append(rowsKept)
            expected += rowsKept.map { vectors[$0] }
        }
        let content = try SegmentContent.gathering(kept, of: sources, schema: schema)
        let path = dir.path + "/m.qseg"
        do {  // released before the file is damaged below (it maps the file)
            let merged = try SealedSegment.write(content, id: 20, path: path, schema: schema, load: false)
            #expect(merged.rowCount == expected.count)
            #expect(try (0..<expected.count).allSatisfy { try merged.vectorValue("v", row: $0) == .vector(expected[$0]) })
            #expect(Array(try merged.norms("v")) == (try kept.enumerated().flatMap { s, rows in try rows.map { try sources[s].norms("v")[$0] } }))
        }

        // Version 2 verifies vectors when they are read: the damaged segment opens, and reading
        // the damaged row's group (or all rows) is `.corruption` naming the rows.
        let original = try FileSystem.readFile(path)
        let regionStart = try #require(Self.vectorRegionOffset(original))
        let groupRows = SegmentFormat.vectorGroupRows(rowBytes: 28)
        let chunkCount = (expected.count * 32 + SegmentFormat.vectorChunkBytes - 1) / SegmentFormat.vectorChunkBytes
        #expect(chunkCount >= 2)
        for chunk in 0..<chunkCount {
            var damaged = original
            let at = chunk * SegmentFormat.vectorChunkBytes + 5
            damaged[regionStart + at] ^= 0x01
            try FileSystem.writeFile(path, damaged)
            let segment = try SealedSegment(path: path, id: 20, schema: schema, load: false)
            // The byte is a vector's or, past the vectors, a norm's.
            let row = at < expected.count * 28 ? at / 28 : (at - ((expected.count * 28 + 3) & ~3)) / 4
            let group = row / groupRows
            let rows = "rows \(group * groupRows)..<\(min((group + 1) * groupRows, expected.count)) checksum mismatch"
            let elsewhere = group == 0 ? expected.count - 1 : 0
            #expect(try segment.vectorValue("v", row: elsewhere) == .vector(expected[elsewhere]))
            for read in [{ _ = try segment.vectorValue("v", row: row) }, { _ = try segment.vectors("v") }] {
                do {
                    try read()
                    Issue.record("chunk \(chunk): damaged row \(row) was read")
                } catch let e as QuiverError {
                    #expect(e.code == .corruption && e.message.contains(rows) && e.message.contains("m.qseg"), "\(e)")
                }
            }
        }
    }

    /// Version 1 files (1 MiB checksum chunks, every chunk verified on open) still open, read
    /// back bit for bit, and a damaged chunk is `.corruption` at open.
    @Test func versionOneSegmentsAreVerifiedWholeOnOpen() throws {
        let dir = TemporaryDirectory()
        try FileSystem.createDirectory(dir.path)
        let schema = try CollectionSchema(fields: [
            FieldSchema(name: "id", dataType: .int64, isPrimaryKey: true),
            FieldSchema(name: "v", dataType: .floatVector(dimension: 5)),
        ])
        var g = SeededGenerator(seed: 23)
        var growing = GrowingSegment(schema: schema)
        let vectors = (0..<60_000).map { _ in randomVector(5, using: &g) }
        for (i, v) in vectors.enumerated() { growing.append(["id": .int(Int64(i)), "v": .vector(v)], partition: 0) }
        let path = dir.path + "/v1.qseg"
        try SegmentWriter.write(growing.content(of: Array(0..<vectors.count)), id: 3, path: path, inMemory: false, version: 1)
        let original = try FileSystem.readFile(path)
        #expect(original[8] == 1)
        for load in [false, true] {
            let segment = try SealedSegment(path: path, id: 3, schema: schema, load: load)
            #expect(segment.space("v", metric: .l2).verifier == nil)  // nothing left to verify
            #expect(try (0..<vectors.count).allSatisfy { try segment.vectorValue("v", row: $0) == .vector(vectors[$0]) })
        }
        var damaged = original
        damaged[try #require(Self.vectorRegionOffset(original, version: 1)) + SegmentFormat.vectorChunkBytes + 9] ^= 0x10
        try FileSystem.writeFile(path, damaged)
        #expect { _ = try SealedSegment(path: path, id: 3, schema: schema, load: false) } throws: { error in
            (error as? QuiverError)?.code == .corruption && "\(error)".contains("chunk 1 checksum mismatch")
        }
    }

    /// The offset of the first vector section, read from the footer of a file of format `version`.
    static func vectorRegionOffset(_ file: [UInt8], version: UInt32 = SegmentFormat.version) -> Int? {
        file.withUnsafeBytes { bytes -> Int? in
            let t = bytes.count - SegmentFormat.trailerSize
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: t, as: UInt32.self)))
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[(t - length)..<t]), context: "test")
            return (try? SegmentFormat.Footer.decode(&reader, version: version))?.vectors.first.map { Int($0.offset) }
        }
    }

    /// Any output range of the runs maps to the same source rows as the rows listed one by one.
    @Test func rowRunsMatchTheListedRows() {
        var g = SeededGenerator(seed: 22)
        for trial in 0..<200 {
            let kept = (0..<Int.random(in: 1...4, using: &g)).map { _ in
                (0..<Int.random(in: 0...60, using: &g)).filter { _ in Bool.random(using: &g) }
            }
            let model = kept.enumerated().flatMap { s, rows in rows.map { (s, $0) } }
            let runs = RowRuns(kept)
            #expect(runs.count == model.count)
            guard !model.isEmpty else { continue }
            let a = Int.random(in: 0..<model.count, using: &g), b = Int.random(in: a...model.count, using: &g)
            var seen = [(Int, Int)?](repeating: nil, count: b - a)
            runs.forEach(in: a..<b) { source, rows, at in
                for (i, row) in rows.enumerated() { seen[at + i] = (source, row) }
            }
            let want = model[a..<b].map { [$0.0, $0.1] }
            #expect(seen.map { $0.map { [$0.0, $0.1] } ?? [] } == want, "trial \(trial)")
        }
    }
}
