import Foundation
import Testing
@testable import Quiver

@Suite struct CompactionTests {
    func directorySize(_ path: String) throws -> Int {
        try FileSystem.listDirectory(path).reduce(0) { $0 + (try FileSystem.fileSize(path + "/" + $1)) }
    }

    @Test func deletingHalfAndCompactingHalvesTheSize() throws {
        let dir = TemporaryDirectory()
        var options = quietOptions()
        options.autoCompaction = false
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 64, metric: .l2)
        var g = SeededGenerator(seed: 3)
        for batch in 0..<4 {
            let rows: [Row] = (0..<2000).map { i in
                ["id": .int(Int64(batch * 2000 + i)), "vector": .vector(randomVector(64, using: &g)), "text": .string("row \(i)")]
            }
            _ = try db.insert("c", rows: rows)
            try db.flush("c")
        }
        let before = try directorySize(dir.path + "/c1")
        _ = try db.delete("c", ids: (0..<8000).filter { $0 % 2 == 0 }.map { .int(Int64($0)) })
        let q = randomVector(64, using: &g)
        let hitsBefore = try db.search("c", vectors: [q], limit: 20)
        #expect(try db.compact("c"))
        #expect(try db.collectionStats("c").segmentCount == 1)
        let after = try directorySize(dir.path + "/c1")
        #expect(Double(after) < Double(before) * 0.6, "before \(before) after \(after)")
        #expect(Double(after) > Double(before) * 0.4, "before \(before) after \(after)")
        #expect(try db.search("c", vectors: [q], limit: 20) == hitsBefore)
        #expect(try db.collectionStats("c").rowCount == 4000)
        #expect(try db.get("c", ids: [1, 2, 7999]).map { $0["id"]! } == [1, 7999])
        try db.close()
        let reopened = try Database.open(at: dir.path, options: options)
        #expect(try reopened.search("c", vectors: [q], limit: 20) == hitsBefore)
        #expect(try reopened.collectionStats("c").segmentCount == 1)
        try reopened.close()
    }

    @Test func readersOfAnOldSnapshotKeepWorkingDuringCompaction() throws {
        let dir = TemporaryDirectory()
        var options = quietOptions()
        options.autoCompaction = false
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 8)
        var g = SeededGenerator(seed: 4)
        for batch in 0..<3 {
            _ = try db.insert("c", rows: (0..<100).map { ["id": .int(Int64(batch * 100 + $0)), "vector": .vector(randomVector(8, using: &g))] })
            try db.flush("c")
        }
        let engine = try db.engine("c")
        let snapshot = try engine.snapshot()
        func checksum(_ snap: Snapshot) -> Float {
            snap.sealed.reduce(0) { $0 + $1.vectors("vector").reduce(0, +) }
        }
        let before = checksum(snapshot)
        _ = try db.delete("c", ids: [0, 1, 2])
        #expect(try db.compact("c"))
        // The old segments' files are gone, but the snapshot's mappings still read them.
        let files = try FileSystem.listDirectory(dir.path + "/c1").filter { $0.hasSuffix(".qseg") }
        #expect(files.count == 1)
        #expect(snapshot.sealed.count == 3)
        #expect(checksum(snapshot) == before)
        #expect(try engine.snapshot().sealed.map(\.rowCount) == [297])
        try db.close()
    }

    @Test func automaticTieredCompactionMergesSmallSegments() throws {
        let dir = TemporaryDirectory()
        var options = quietOptions()
        options.flushRowThreshold = 50
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 4)
        var g = SeededGenerator(seed: 5)
        for i in 0..<400 {
            _ = try db.insert("c", rows: [["id": .int(Int64(i)), "vector": .vector(randomVector(4, using: &g))]])
        }
        // Background compactions run after flushes; close waits for them.
        try db.close()
        let reopened = try Database.open(at: dir.path, options: options)
        let stats = try reopened.collectionStats("c")
        #expect(stats.rowCount == 400)
        #expect(stats.segmentCount < 8, "\(stats)")
        try reopened.close()
    }
}
