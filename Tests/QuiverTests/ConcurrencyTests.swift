import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Quiver

/// Many threads on one collection: writers, readers, flushes and compactions at once.
/// Run under ThreadSanitizer with `swift test --sanitize=thread --filter ConcurrencyTests`.
@Suite struct ConcurrencyTests {
    @Test func writersReadersFlushesAndCompactionsTogether() throws {
        let dir = TemporaryDirectory()
        var options = quietOptions(.batched)
        options.flushRowThreshold = 300
        options.syncInterval = .milliseconds(5)
        let db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: 8, metric: .l2)
        let batches = 60, batchSize = 10, writers = 3
        let torn = Locked(0)
        let failures = Locked([String]())
        let done = Atomic<Bool>(false)
        DispatchQueue.concurrentPerform(iterations: writers + 4) { worker in
            var g = SeededGenerator(seed: UInt64(worker + 1))
            do {
                if worker < writers {
                    // Writer: insert whole batches, delete some of them whole again.
                    for b in 0..<batches {
                        let base = Int64((worker * batches + b) * batchSize)
                        let rows: [Row] = (0..<batchSize).map { i in
                            ["id": .int(base + Int64(i)), "vector": .vector(randomVector(8, using: &g)), "batch": .int(base)]
                        }
                        _ = try db.insert("c", rows: rows)
                        if b % 3 == 2 {
                            let r = try db.delete("c", ids: (0..<batchSize).map { .int(base + Int64($0)) })
                            if r.deleteCount != batchSize { failures.withLock { $0.append("deleted \(r.deleteCount)") } }
                        } else if b % 5 == 1 {
                            _ = try db.upsert("c", rows: rows.map { var r = $0; r["v2"] = true; return r })
                        }
                    }
                    if worker == 0 { done.store(true, ordering: .releasing) }
                } else if worker == writers {
                    while !done.load(ordering: .acquiring) { try db.flush("c"); usleep(2000) }
                } else if worker == writers + 1 {
                    while !done.load(ordering: .acquiring) { try db.compact("c"); usleep(5000) }
                } else {
                    // Readers: a batch is visible whole or not at all.
                    while !done.load(ordering: .acquiring) {
                        let w = Int.random(in: 0..<writers, using: &g), b = Int.random(in: 0..<batches, using: &g)
                        let base = Int64((w * batches + b) * batchSize)
                        let rows = try db.get("c", ids: (0..<batchSize).map { .int(base + Int64($0)) })
                        if rows.count != 0 && rows.count != batchSize { torn.withLock { $0 += 1 } }
                        let hits = try db.search("c", vectors: [randomVector(8, using: &g)], limit: 5, outputFields: ["batch"])
                        if hits[0].count > 5 { failures.withLock { $0.append("too many hits") } }
                        _ = try db.query("c", limit: 50, outputFields: ["batch"])
                    }
                }
            } catch {
                failures.withLock { $0.append("worker \(worker): \(error)") }
            }
        }
        #expect(torn.withLock { $0 } == 0, "a reader saw half of an insert or delete")
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let expected = writers * batches * batchSize - writers * (batches / 3) * batchSize
        #expect(try db.collectionStats("c").rowCount == expected)
        try db.close()
        let reopened = try Database.open(at: dir.path, options: options)
        #expect(try reopened.collectionStats("c").rowCount == expected)
        try reopened.close()
    }

    @Test func asyncAPIRoundTrip() async throws {
        let dir = TemporaryDirectory()
        let db = try await Database.open(at: dir.path, options: quietOptions())
        try await db.createCollection("a", dimension: 2, metric: .ip)
        async let first = db.insert("a", rows: [["id": 1, "vector": [1, 0]]])
        async let second = db.insert("a", rows: [["id": 2, "vector": [0, 1]]])
        _ = try await (first, second)
        let hits = try await db.search("a", vectors: [[1, 0.5]], limit: 2)
        #expect(hits[0].map(\.id) == [1, 2])
        #expect(try await db.collectionStats("a").rowCount == 2)
        try await db.close()
    }
}
