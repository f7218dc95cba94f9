import Foundation
import Testing
@testable import Quiver

/// The flush-failure contract: a write whose rows are logged and applied succeeds even when the
/// flush it triggers fails; the failure is reported separately (`flushError`, the log, an
/// explicit `flush`) and retried after a backoff; and once the growing segment reaches
/// `growingSegmentByteLimit`, writes are refused with `.resourceExhausted` before anything is logged.
@Suite struct FlushFailureTests {
    func options(rowThreshold: Int, byteLimit: Int? = nil) -> DatabaseOptions {
        var o = quietOptions(.always)
        o.flushRowThreshold = rowThreshold
        o.growingSegmentByteLimit = byteLimit
        o.autoCompaction = false
        return o
    }

    func row(_ id: Int) -> Row { ["id": .int(Int64(id)), "vector": .vector([1, Float(id)])] }

    @Test func aWriteWhoseFlushFailsIsAcknowledgedAndTheFlushIsRetried() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: options(rowThreshold: 4))
        try db.createCollection("c", dimension: 2)
        _ = try db.insert("c", rows: (0..<3).map(row))
        // The disk is full for segment files: the flush the fourth row triggers fails.
        FaultInjector.shared.add(.init(pathPrefix: dir.path + "/c1/seg-", operation: .write, errno: ENOSPC, times: 1000))
        defer { FaultInjector.shared.removeAll(under: dir.path) }
        #expect(try db.insert("c", rows: [row(3)]).insertCount == 1)
        var stats = try db.collectionStats("c")
        #expect(stats.flushError?.code == .io)
        #expect(stats.segmentCount == 0 && stats.rowCount == 4)
        // The call was acknowledged, so its row is there: a retry is a duplicate, as it should be.
        let retry = #expect(throws: QuiverError.self) { _ = try db.insert("c", rows: [row(3)]) }
        #expect(retry?.code == .alreadyExists)
        // Writes go on while the flush backs off; an explicit flush reports the failure.
        _ = try db.insert("c", rows: [row(4)])
        let explicit = #expect(throws: QuiverError.self) { try db.flush("c") }
        #expect(explicit?.code == .io)

        // Space again: the next trigger after the backoff flushes, and the error clears.
        FaultInjector.shared.removeAll(under: dir.path)
        Thread.sleep(forTimeInterval: 1)
        _ = try db.insert("c", rows: [row(5)])
        stats = try db.collectionStats("c")
        #expect(stats.flushError == nil)
        #expect(stats.segmentCount == 1 && stats.growingRowCount == 0 && stats.rowCount == 6)
        try db.close()
        let again = try Database.open(at: dir.path, options: options(rowThreshold: 4))
        #expect(Set(try again.query("c", limit: 100).compactMap { $0["id"]?.intValue }) == Set(0..<6))
        try again.close()
    }

    @Test func writesAreRefusedOnceTheGrowingSegmentReachesItsLimit() throws {
        let dir = TemporaryDirectory()
        // A row counts 8 (id) + 8 + 4 (vector and norm) + 16 (empty dynamic fields) bytes in the
        // growing segment's estimate; the limit is 40 rows' worth.
        let limit = 40 * 36
        let db = try Database.open(at: dir.path, options: options(rowThreshold: 4, byteLimit: limit))
        try db.createCollection("c", dimension: 2)
        let meta = dir.path + "/c1/"
        FaultInjector.shared.add(.init(pathPrefix: meta + "seg-", operation: .write, errno: ENOSPC, times: 1_000_000))
        defer { FaultInjector.shared.removeAll(under: dir.path) }
        var acknowledged = 0
        var refusal: QuiverError? = nil
        for i in 0..<1000 {
            do {
                _ = try db.insert("c", rows: [row(i)])
                acknowledged += 1
            } catch let error as QuiverError {
                refusal = error
                break
            }
        }
        // Refused at the limit, not earlier and not never; the refused row was not written.
        #expect(refusal?.code == .resourceExhausted)
        #expect(refusal?.message.contains("growingSegmentByteLimit") == true)
        #expect(acknowledged == 40)
        let stats = try db.collectionStats("c")
        #expect(stats.rowCount == acknowledged && stats.growingRowCount == acknowledged)
        // Deletes and reads go on.
        #expect(try db.delete("c", ids: [0]).deleteCount == 1)
        #expect(try db.search("c", vectors: [[1, 1]], limit: 1).first?.count == 1)

        // Space again: an explicit flush succeeds and writes are accepted.
        FaultInjector.shared.removeAll(under: dir.path)
        try db.flush("c")
        _ = try db.insert("c", rows: [row(acknowledged)])
        #expect(try db.collectionStats("c").flushError == nil)
        db.abandonForTesting()
        let again = try Database.open(at: dir.path, options: options(rowThreshold: 4, byteLimit: limit))
        #expect(try again.collectionStats("c").rowCount == acknowledged)
        try again.close()
    }
}
