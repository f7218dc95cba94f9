import Foundation
import Testing
@testable import Quiver

/// Sealed segments read into memory (the default) and memory-mapped
/// (`DatabaseOptions.memoryMapSegments`) must be indistinguishable through the API.
@Suite struct SegmentMemoryTests {
    /// Everything a client can read back: exact and indexed search, filtered query, get.
    struct Answers: Equatable {
        var exact: [[Int64]]
        var indexed: [[Int64]]
        var scores: [[Float]]
        var query: [Int64]
        var vectors: [[Float]]
    }

    func answers(_ db: Database, queries: [[Float]]) throws -> Answers {
        var options = SearchOptions()
        options.params = ["ef": 32]
        let indexed = try db.search("c", vectors: queries, limit: 10, options: options)
        let exact = try db.search("e", vectors: queries, limit: 10, filter: "id % 2 == 0")
        let rows = try db.query("c", filter: "tag == 1 and id < 300", outputFields: ["id"])
        let got = try db.get("c", ids: [.int(3), .int(450), .int(899)], outputFields: ["vector"])
        return Answers(
            exact: exact.map { $0.map { $0.id.intValue! } },
            indexed: indexed.map { $0.map { $0.id.intValue! } },
            scores: indexed.map { $0.map(\.distance) },
            query: rows.map { $0["id"]!.intValue! }.sorted(),
            vectors: got.map { $0["vector"]!.floatVector! })
    }

    @Test func mappedAndLoadedSegmentsAnswerAlike() throws {
        let dir = TemporaryDirectory()
        let d = 24
        var g = SeededGenerator(seed: 7)
        let vectors = (0..<900).map { _ in randomVector(d, using: &g) }
        let queries = (0..<12).map { _ in randomVector(d, using: &g) }
        var options = manualCompactionOptions()
        options.indexBuildThreads = 1
        do {
            let db = try Database.open(at: dir.path, options: options)
            for name in ["c", "e"] {
                try db.createCollection(name, dimension: d, metric: .cosine)
                for part in 0..<3 {
                    _ = try db.insert(name, rows: (part * 300..<(part + 1) * 300).map {
                        ["id": .int(Int64($0)), "vector": .vector(vectors[$0]), "tag": .int(Int64($0 % 3))]
                    })
                    try db.flush(name)
                }
            }
            try db.createIndex("c", field: "vector", type: .hnsw, params: ["M": 8, "efConstruction": 64])
            try db.waitForIndexBuilds("c")
            try db.close()
        }
        func open(mapped: Bool, readOnly: Bool = false) throws -> Database {
            var o = options
            o.memoryMapSegments = mapped
            o.readOnly = readOnly
            return try Database.open(at: dir.path, options: o)
        }
        let mapped = try open(mapped: true)
        let reference = try answers(mapped, queries: queries)
        try mapped.close()
        #expect(reference.indexed.allSatisfy { $0.count == 10 } && reference.query.count == 100)

        let loaded = try open(mapped: false)
        #expect(try answers(loaded, queries: queries) == reference)
        // A compaction writes a new segment and opens it the same way.
        _ = try loaded.compact("c")
        try loaded.waitForIndexBuilds("c")
        #expect(try loaded.collectionStats("c").segmentCount == 1)
        let compacted = try answers(loaded, queries: queries)
        #expect(compacted.exact == reference.exact && compacted.query == reference.query && compacted.vectors == reference.vectors)
        try loaded.close()

        // Compacted (one segment, a new graph) and opened read-only, mapped and loaded agree.
        let mappedAgain = try open(mapped: true, readOnly: true)
        let afterMapped = try answers(mappedAgain, queries: queries)
        try mappedAgain.close()
        let loadedAgain = try open(mapped: false, readOnly: true)
        #expect(try answers(loadedAgain, queries: queries) == afterMapped)
        try loadedAgain.close()
    }

    @Test func pageArraysAreZeroedAndAligned() {
        for count in [0, 1, 1000, PageMemory.hugePageSize / 4 + 3] {
            let a = PageArray<Int32>(count: count)
            #expect(a.count == count)
            #expect((0..<count).allSatisfy { a[$0] == 0 })
            for i in 0..<count { a.pointer[i] = Int32(truncatingIfNeeded: i &* 7) }
            #expect((0..<count).allSatisfy { a[$0] == Int32(truncatingIfNeeded: $0 &* 7) })
            #expect(Int(bitPattern: a.pointer) % 64 == 0)
            if count * 4 >= PageMemory.hugePageSize {
                #expect(Int(bitPattern: a.pointer) % PageMemory.hugePageSize == 0)
            }
        }
        let source: [UInt16] = [3, 1, 4, 1, 5]
        let copy = source.withUnsafeBufferPointer { PageArray($0) }
        #expect(Array(copy.buffer) == source)
    }
}
