import Foundation
import Testing
@testable import Quiver

/// Sealed vectors (segment format 2) are verified a group of rows at a time when first read, not
/// on open: an indexed search verifies only the rows it scores, a scan or a compaction every row,
/// and a damaged row is `.corruption` naming the file before anything read from it is returned.
@Suite struct VectorVerificationTests {
    static let rows = 4000
    static let dimension = 256  // 1 KiB rows: 4 rows per checksum group, 1,000 groups

    /// A closed database with one sealed segment of `rows` COSINE rows (id i = row i), HNSW-indexed.
    static func makeDatabase() throws -> (dir: TemporaryDirectory, vectors: [[Float]], segment: String) {
        let dir = TemporaryDirectory()
        var g = SeededGenerator(seed: 31)
        let vectors = (0..<rows).map { _ in randomVector(dimension, using: &g) }
        let db = try Database.open(at: dir.path, options: manualCompactionOptions())
        try db.createCollection("c", dimension: dimension, metric: .cosine)
        _ = try db.insert("c", rows: vectors.enumerated().map { ["id": .int(Int64($0.offset)), "vector": .vector($0.element)] })
        try db.flush("c")
        try db.createIndex("c", field: "vector", type: .hnsw, params: ["M": 8, "efConstruction": 32])
        try db.waitForIndexBuilds("c")
        try db.close()
        let name = try #require(try FileSystem.listDirectory(dir.path + "/c1").first { $0.hasSuffix(".qseg") })
        return (dir, vectors, dir.path + "/c1/" + name)
    }

    /// Where row `row`'s vector and norm are in the segment file.
    static func offsets(_ file: [UInt8], row: Int) throws -> (vector: Int, norm: Int) {
        let start = try #require(SegmentWriterTests.vectorRegionOffset(file))
        return (start + row * dimension * 4, start + rows * dimension * 4 + row * 4)
    }

    static func sealed(_ db: Database) throws -> SealedSegment {
        try #require(try db.engine("c").snapshot().sealed.first)
    }

    static func expectCorruption(_ segment: String, _ body: () throws -> Void, _ what: String) {
        do {
            try body()
            Issue.record("\(what): a damaged row was read")
        } catch let e as QuiverError {
            #expect(e.code == .corruption && e.message.contains(segment.split(separator: "/").last!), "\(what): \(e)")
        } catch {
            Issue.record("\(what): \(error)")
        }
    }

    @Test(arguments: [false, true])
    func openVerifiesNoVectorsAndAnIndexedSearchOnlyTheRowsItReads(mapped: Bool) throws {
        let (dir, vectors, _) = try Self.makeDatabase()
        var options = quietOptions()
        options.memoryMapSegments = mapped
        let db = try Database.open(at: dir.path, options: options)
        defer { db.abandonForTesting() }
        _ = try db.collectionStats("c")
        let verifier = try #require(try Self.sealed(db).space("vector", metric: .cosine).verifier)
        let groups = verifier.groupCount
        #expect(groups == Self.rows / 4)
        var ef16 = SearchOptions()
        ef16.params = ["ef": 16]
        let hits = try db.search("c", vectors: [vectors[17]], limit: 5, options: ef16)[0]
        #expect(hits.first?.id == 17)
        // The walk scored a few hundred rows at most: most groups are still unread.
        #expect(!verifier.isComplete)
        // Reading every row (a query of the vectors) verifies the rest; `verify` also the links.
        #expect(try db.query("c", limit: Self.rows, outputFields: ["vector"]).count == Self.rows)
        #expect(verifier.isComplete)
        try db.verify("c")
        guard case .hnsw(let h)? = try db.engine("c").snapshot().indexes.values.first?["vector"] else {
            Issue.record("no HNSW index loaded")
            return
        }
        #expect(h.linkVerifier?.isComplete == true)
        #expect(try Self.sealed(db).space("vector", metric: .cosine).verifier == nil)
    }

    @Test(arguments: ["vector", "norm"])
    func aDamagedRowIsCorruptionWhenReadAndOtherRowsStillRead(_ part: String) throws {
        let (dir, vectors, segment) = try Self.makeDatabase()
        let damagedRow = 1234
        var file = try FileSystem.readFile(segment)
        let at = try Self.offsets(file, row: damagedRow)
        file[part == "vector" ? at.vector + 8 : at.norm + 1] ^= 0x04
        try FileSystem.writeFile(segment, file)

        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        #expect(try db.collectionStats("c").rowCount == Self.rows)  // opens: nothing read yet
        // Rows of other groups read and search as before.
        let far = try db.get("c", ids: [.int(3000)], outputFields: ["vector"])
        #expect(far.first?["vector"] == .vector(vectors[3000]))
        #expect(try db.get("c", ids: [.int(Int64(damagedRow))], outputFields: ["id"]).count == 1)  // no vector asked for
        Self.expectCorruption(segment, { try db.verify("c") }, "verify")
        Self.expectCorruption(segment, { _ = try db.get("c", ids: [.int(Int64(damagedRow))], outputFields: ["vector"]) }, "get")
        // A walk toward the damaged row scores it and fails; so does any scan of every row.
        Self.expectCorruption(segment, { _ = try db.search("c", vectors: [vectors[damagedRow]], limit: 3) }, "HNSW search")
        Self.expectCorruption(
            segment, { _ = try db.search("c", vectors: [vectors[0]], limit: 3, filter: "id < 50") }, "filtered (exact) search")
        Self.expectCorruption(segment, { _ = try db.query("c", limit: Self.rows, outputFields: ["vector"]) }, "query")
        Self.expectCorruption(segment, { _ = try db.queryIterator("c", outputFields: ["vector"]) }, "query iterator")
        // Compaction must not copy the damage into a new segment under fresh checksums.
        _ = try db.delete("c", ids: [1])
        try db.flush("c")
        Self.expectCorruption(segment, { try db.compact("c") }, "compaction")
    }

    /// An HNSW file (version 3) loads without reading its layer-0 links; a walk verifies the
    /// blocks it reads, and a damaged block is `.corruption` naming the file (and is never followed).
    @Test func damagedIndexLinksAreCorruptionWhenAWalkReadsThem() throws {
        let (dir, vectors, _) = try Self.makeDatabase()
        let index = try #require(try FileSystem.listDirectory(dir.path + "/c1").first { $0.hasSuffix(".qidx") })
        let path = dir.path + "/c1/" + index
        var file = try FileSystem.readFile(path)
        #expect(file[8] == 3)  // version
        do {
            let db = try Database.open(at: dir.path, options: quietOptions())
            defer { db.abandonForTesting() }
            let engine = try db.engine("c")
            _ = try db.collectionStats("c")
            guard case .hnsw(let h)? = try engine.snapshot().indexes.values.first?["vector"] else {
                Issue.record("no HNSW index loaded")
                return
            }
            let links = try #require(h.linkVerifier)
            #expect(!links.isComplete)
            #expect(try db.search("c", vectors: [vectors[99]], limit: 1)[0].first?.id == 99)
            #expect(!links.isComplete)  // a walk reads a few hundred of 4,000 blocks
        }
        // Damage node 2,000's link count: a walk that reaches it fails; loading does not.
        // The file ends: links | rows per group u32 | group count u32 | checksums | crc (M 8: 17-slot blocks).
        let blockBytes = 17 * 4
        let groups = SegmentFormat.groupCount(rows: Self.rows, rowsPerGroup: SegmentFormat.vectorGroupRows(rowBytes: blockBytes))
        let links = file.count - 4 - 4 * groups - 8 - Self.rows * blockBytes
        file[links + 2000 * blockBytes] = 0x7F
        try FileSystem.writeFile(path, file)
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        #expect(try db.query("c", limit: 3, outputFields: ["vector"]).count == 3)
        Self.expectCorruption(path, { _ = try db.search("c", vectors: [vectors[2000]], limit: 3) }, "HNSW search")
        Self.expectCorruption(path, { _ = try db.search("c", vectors: [vectors[2000]], limit: 3) }, "HNSW search again")
    }
}
