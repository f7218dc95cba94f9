import Foundation
import Testing
@testable import Quiver

/// The same body for every index type: recall@10 against brute force at the default parameters,
/// with and without a filter, with deletes, before and after reopen.
@Suite struct IndexDatabaseTests {
    static let types: [IndexType] = [.flat, .hnsw, .ivfFlat, .ivfSQ8, .hnswSQ]

    struct Model {
        var vectors: [Int64: [Float]] = [:]
        func exact(_ q: [Float], k: Int, metric: MetricType, where keep: (Int64) -> Bool) -> [Int64] {
            let scored = vectors.filter { keep($0.key) }.map { ($0.key, referenceDistance(metric, q, $0.value)) }
            return scored.sorted { metric.higherIsBetter ? ($0.1, $1.0) > ($1.1, $0.0) : ($0.1, $0.0) < ($1.1, $1.0) }.prefix(k).map(\.0)
        }
    }

    func recallOf(_ db: Database, _ model: Model, queries: [[Float]], filter: String, keep: (Int64) -> Bool,
                  metric: MetricType) throws -> Double {
        let hits = try db.search("c", vectors: queries, limit: 10, filter: filter)
        var got = [[Int]](), want = [[Int]]()
        for (q, list) in zip(queries, hits) {
            #expect(list.count == 10)
            let ids = list.map { Int($0.id.intValue!) }
            #expect(ids.allSatisfy { keep(Int64($0)) && model.vectors[Int64($0)] != nil }, "a deleted or filtered row was returned")
            got.append(ids)
            want.append(model.exact(q, k: 10, metric: metric, where: keep).map { Int($0) })
        }
        let r = recall(got, want)
        if ProcessInfo.processInfo.environment["QUIVER_PRINT_RECALL"] != nil { print("recall filter='\(filter)': \(r)") }
        return r
    }

    @Test(arguments: types)
    func recallFiltersDeletesReopen(_ type: IndexType) throws {
        let dir = TemporaryDirectory()
        let metric = MetricType.l2
        let n = 1500, d = 16
        let all = clusteredVectors(count: n + 20, dimension: d, clusters: 8, spread: 0.9, seed: 42)
        let queries = Array(all.suffix(20))
        var model = Model()
        // One build thread: a parallel build is not deterministic, and this test is about
        // recall with filters, deletes and reopen (IndexTests cover parallel builds).
        var options = quietOptions()
        options.indexBuildThreads = 1
        // Two segments, one per half, each with its index: a target size of one half (750 rows
        // of 16 × 4 + 8 bytes) keeps the explicit flushes from packing them into one.
        options.segmentTargetBytes = 750 * (d * 4 + 8)
        var db = try Database.open(at: dir.path, options: options)
        try db.createCollection("c", dimension: d, metric: metric)
        for half in 0..<2 {
            let rows: [Row] = (half * n / 2..<(half + 1) * n / 2).map { i in
                model.vectors[Int64(i)] = all[i]
                return ["id": .int(Int64(i)), "vector": .vector(all[i]), "tag": .int(Int64(i % 3))]
            }
            _ = try db.insert("c", rows: rows)
            try db.flush("c")
        }
        try db.createIndex("c", field: "vector", type: type, metric: metric)
        try db.waitForIndexBuilds("c")
        let described = try db.describeIndex("c", field: "vector")
        #expect(described.state == .finished && described.indexedRows == n && described.pendingRows == 0)
        #expect(try db.listIndexes("c") == ["vector"])
        #expect(try db.engine("c").snapshot().indexes.count == (type == .flat ? 0 : 2), "searches must use the built indexes")

        let filter = "tag != 0"
        let tagged: (Int64) -> Bool = { $0 % 3 != 0 }
        var r = try recallOf(db, model, queries: queries, filter: "", keep: { _ in true }, metric: metric)
        #expect(r >= 0.95, "\(type.rawValue): recall \(r)")
        r = try recallOf(db, model, queries: queries, filter: filter, keep: tagged, metric: metric)
        #expect(r >= 0.95, "\(type.rawValue) filtered: recall \(r)")

        // Deletes are never returned.
        let deleted = (0..<Int64(n)).filter { $0 % 7 == 0 }
        _ = try db.delete("c", ids: deleted.map { .int($0) })
        for id in deleted { model.vectors[id] = nil }
        r = try recallOf(db, model, queries: queries, filter: filter, keep: tagged, metric: metric)
        #expect(r >= 0.95, "\(type.rawValue) filtered with deletes: recall \(r)")
        let before = try db.search("c", vectors: queries, limit: 10, filter: filter).map { $0.map(\.id) }

        // Reopen: the index is loaded, not rebuilt, and answers the same.
        try db.close()
        let files = try FileSystem.listDirectory(dir.path + "/c1").filter { $0.hasSuffix(".qidx") }
        #expect(files.count == (type == .flat ? 0 : 2))
        db = try Database.open(at: dir.path, options: options)
        #expect(try db.describeIndex("c", field: "vector").state == .finished)
        #expect(try db.engine("c").snapshot().indexes.count == (type == .flat ? 0 : 2), "reopen must load the index files")
        let after = try db.search("c", vectors: queries, limit: 10, filter: filter).map { $0.map(\.id) }
        #expect(after == before)
        r = try recallOf(db, model, queries: queries, filter: "", keep: { _ in true }, metric: metric)
        #expect(r >= 0.95, "\(type.rawValue) after reopen: recall \(r)")
        try db.waitForIndexBuilds("c")
        let filesAfter = try FileSystem.listDirectory(dir.path + "/c1").filter { $0.hasSuffix(".qidx") }
        #expect(filesAfter.sorted() == files.sorted(), "reopening must not rebuild")
        try db.close()

        // A flipped byte in an index file is `.corruption` naming the file.
        for name in files {
            let path = dir.path + "/c1/" + name
            var bytes = try FileSystem.readFile(path)
            bytes[bytes.count / 2] ^= 0x10
            try FileSystem.writeFile(path, bytes)
            do {
                try openAndUse(dir.path)
                Issue.record("a damaged index file was loaded")
            } catch let e as QuiverError {
                #expect(e.code == .corruption && e.message.contains(name), "\(e)")
            }
            bytes[bytes.count / 2] ^= 0x10
            try FileSystem.writeFile(path, bytes)
        }
    }

    /// `indexBuildThreads = 1` builds through the public API are deterministic: two databases
    /// filled the same way write byte-identical index files and answer alike.
    /// A single query over several indexed segments walks them at once, one thread each
    /// (`candidates` in CollectionEngine+Search.swift); the hits are those of walking them one
    /// after another on one thread, with and without a filter, and a range search (exact) is
    /// not affected.
    @Test func aQueryWalksTheIndexedSegmentsAtOnceWithTheSameHits() throws {
        let dir = TemporaryDirectory()
        var o = manualCompactionOptions()
        o.indexBuildThreads = 1
        let db = try Database.open(at: dir.path, options: o)
        try db.createCollection("c", dimension: 12, metric: .l2)
        let vectors = clusteredVectors(count: 3_000, dimension: 12, clusters: 10, spread: 0.5, seed: 9)
        for first in stride(from: 0, to: 2_700, by: 900) {  // three indexed segments and a growing one
            _ = try db.insert("c", rows: (first..<first + 900).map { ["id": .int(Int64($0)), "vector": .vector(vectors[$0]), "tag": .int(Int64($0 % 3))] })
            try db.flush("c")
        }
        _ = try db.insert("c", rows: (2_700..<3_000).map { ["id": .int(Int64($0)), "vector": .vector(vectors[$0]), "tag": .int(Int64($0 % 3))] })
        try db.createIndex("c", field: "vector", type: .hnsw, params: ["M": 8, "efConstruction": 40])
        try db.waitForIndexBuilds("c")
        #expect(try db.engine("c").snapshot().indexes.count == 3)
        let queries = clusteredVectors(count: 20, dimension: 12, clusters: 10, spread: 0.5, seed: 10)
        for filter in ["", "tag != 1"] {
            var one = SearchOptions(), several = SearchOptions()
            one.threads = 1
            several.threads = 4
            for q in queries {
                let a = try db.search("c", vectors: [q], limit: 10, filter: filter, options: one)
                let b = try db.search("c", vectors: [q], limit: 10, filter: filter, options: several)
                #expect(a.map { $0.map(\.id) } == b.map { $0.map(\.id) }, "filter '\(filter)'")
                #expect(a.map { $0.map(\.distance) } == b.map { $0.map(\.distance) }, "filter '\(filter)'")
            }
        }
        try db.close()
    }

    @Test func singleThreadBuildsAreReproducible() throws {
        let vectors = clusteredVectors(count: 2_000, dimension: 12, clusters: 10, spread: 0.5, seed: 8)
        var files = [[UInt8]](), answers = [[[Int64]]]()
        for _ in 0..<2 {
            let dir = TemporaryDirectory()
            var o = quietOptions()
            o.indexBuildThreads = 1
            let db = try Database.open(at: dir.path, options: o)
            try db.createCollection("c", dimension: 12, metric: .l2)
            _ = try db.insert("c", rows: vectors.enumerated().map { ["id": .int(Int64($0.offset)), "vector": .vector($0.element)] })
            try db.flush("c")
            try db.createIndex("c", field: "vector", type: .hnsw, params: ["M": 8, "efConstruction": 40])
            try db.waitForIndexBuilds("c")
            let e = try db.engine("c")
            let names = try FileSystem.listDirectory(e.directory).filter { $0.hasSuffix(".qidx") }
            #expect(names.count == 1)
            files.append(try FileSystem.readFile(e.directory + "/" + names[0]))
            var options = SearchOptions()
            options.params = ["ef": 16]
            answers.append(try db.search("c", vectors: Array(vectors.prefix(20)), limit: 10, options: options).map { $0.map { $0.id.intValue! } })
            try db.close()
        }
        #expect(files[0] == files[1])
        #expect(answers[0] == answers[1])
    }

    @Test func compactionRebuildsAndDropRemoves() throws {
        let dir = TemporaryDirectory()
        var g = SeededGenerator(seed: 3)
        let db = try segmentedDatabase(at: dir.path, dimension: 8, metric: .cosine, segments: 2, rows: 300, using: &g)
        try db.createIndex("c", field: "vector", type: .hnsw, params: ["M": 8])
        try db.createIndex("c", field: "vector", type: .hnsw, params: ["M": 8])  // same definition: no-op
        #expect(throws: QuiverError.self) { try db.createIndex("c", field: "vector", type: .ivfFlat) }
        #expect(throws: QuiverError.self) { try db.createIndex("c", field: "vector", type: .hnsw, metric: .l2) }
        #expect(throws: QuiverError.self) { try db.createIndex("c", field: "vector", typeName: "ANNOY") }
        try db.waitForIndexBuilds("c")
        _ = try db.delete("c", ids: (0..<200).map { .int(Int64($0)) })
        try db.flush("c")
        let e = try db.engine("c")
        #expect(try e.compact(.all))
        try db.waitForIndexBuilds("c")
        let desc = try db.describeIndex("c", field: "vector")
        #expect(desc.state == .finished && desc.indexedRows == 400)
        var names = try FileSystem.listDirectory(e.directory).filter { $0.hasSuffix(".qidx") }
        #expect(names.count == 1)
        var options = SearchOptions()
        options.params = ["ef": 5]
        #expect(throws: QuiverError.self) { try db.search("c", vectors: [randomVector(8, using: &g)], limit: 10, options: options) }
        options.params = ["ef": 400]
        let hits = try db.search("c", vectors: [randomVector(8, using: &g)], limit: 10, options: options)
        #expect(hits[0].count == 10 && hits[0].allSatisfy { $0.id.intValue! >= 200 })
        try db.dropIndex("c", field: "vector")
        names = try FileSystem.listDirectory(e.directory).filter { $0.hasSuffix(".qidx") }
        #expect(names.isEmpty)
        #expect(try db.listIndexes("c").isEmpty)
        try db.close()
    }
}

@Suite struct IndexConcurrencyTests {
    /// Builds run while writers insert and flush and readers search: every search returns
    /// `limit` hits, and the final state is fully indexed.
    @Test func buildsDoNotBlockOrBreakReadersAndWriters() async throws {
        let dir = TemporaryDirectory()
        var o = quietOptions()
        o.autoCompaction = false
        let db = try await Database.open(at: dir.path, options: o)
        try await db.createCollection("c", dimension: 8, metric: .l2)
        var g = SeededGenerator(seed: 5)
        let first: [Row] = (0..<400).map { ["id": .int(Int64($0)), "vector": .vector(randomVector(8, using: &g))] }
        _ = try await db.insert("c", rows: first)
        try await db.flush("c")
        try await db.createIndex("c", field: "vector", type: .hnsw, params: ["M": 8, "efConstruction": 64])
        let query = randomVector(8, using: &g)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var g = SeededGenerator(seed: 6)
                for batch in 1...4 {
                    _ = try await db.insert("c", rows: (0..<200).map { ["id": .int(Int64(400 * batch + $0)), "vector": .vector(randomVector(8, using: &g))] })
                    try await db.flush("c")
                }
            }
            group.addTask {
                for _ in 0..<30 {
                    let hits = try await db.search("c", vectors: [query], limit: 10)
                    #expect(hits[0].count == 10)
                }
            }
            try await group.waitForAll()
        }
        try await db.waitForIndexBuilds("c")
        let desc = try await db.describeIndex("c", field: "vector")
        #expect(desc.state == .finished && desc.indexedRows == 1200 && desc.pendingRows == 0)
        try await db.close()
    }
}

/// Searches skip the live-row bitmap of sealed segments without deletes; the engine's delete
/// counts must follow deletes, flushes, reopen and compaction so deleted rows never come back.
@Suite struct SearchDeleteCountTests {
    @Test func deletedRowsNeverReturnedThroughFastPath() throws {
        let dir = TemporaryDirectory()
        var g = SeededGenerator(seed: 21)
        var db = try segmentedDatabase(at: dir.path, dimension: 4, metric: .l2, segments: 2, rows: 50, using: &g)
        let query = randomVector(4, using: &g)
        func ids(_ db: Database) throws -> [Int64] { try db.search("c", vectors: [query], limit: 100)[0].map { $0.id.intValue! } }
        #expect(try ids(db).count == 100)
        let gone = Array(try ids(db).prefix(7))
        _ = try db.delete("c", ids: gone.map { .int($0) })
        var deleted = Set(gone)
        #expect(try Set(ids(db)).isDisjoint(with: deleted) && ids(db).count == 93)
        try db.flush("c")
        try db.close()
        db = try Database.open(at: dir.path, options: manualCompactionOptions())
        #expect(try Set(ids(db)).isDisjoint(with: deleted) && ids(db).count == 93)
        #expect(try db.engine("c").compact(.all))
        #expect(try Set(ids(db)).isDisjoint(with: deleted) && ids(db).count == 93)
        let more = Array(try ids(db).suffix(3))
        _ = try db.delete("c", ids: more.map { .int($0) })
        deleted.formUnion(more)
        #expect(try Set(ids(db)).isDisjoint(with: deleted) && ids(db).count == 90)
        try db.close()
    }
}
