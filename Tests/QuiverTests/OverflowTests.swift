import Foundation
import Testing
@testable import Quiver

/// Values at the edge of `Int64`/`Int` are refused with `.invalidArgument` before anything is
/// logged. Before the fix each of these trapped: an auto id past `Int64.max` overflowed while
/// the record was applied — after it was in the WAL, so every later open trapped in replay —
/// and `limit + offset` overflowed in the paging check.
@Suite struct OverflowTests {
    func refused(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: QuiverError.self, sourceLocation: sourceLocation, performing: body)
        #expect(error?.code == .invalidArgument, sourceLocation: sourceLocation)
    }


    @Test func upsertOfTheLargestKeyIntoAnAutoIDCollectionIsRefused() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path, options: quietOptions(.always))
            try db.createCollection("a", dimension: 2, autoID: true)
            refused { _ = try db.upsert("a", rows: [["id": .int(Int64.max), "vector": [1, 2]]]) }
            // The collection still works, and so does the next open (nothing was logged).
            let ids = try db.insert("a", rows: [["vector": [3, 4]]]).ids
            #expect(ids.count == 1)
            try db.close()
        }
        let db = try Database.open(at: dir.path, options: quietOptions(.always))
        #expect(try db.collectionStats("a").rowCount == 1)
        try db.close()
    }

    @Test func generatedKeysThatWouldPassTheLargestKeyAreRefused() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path, options: quietOptions(.always))
            try db.createCollection("a", dimension: 2, autoID: true)
            // An explicit key just below the limit moves the next auto id to Int64.max - 1.
            _ = try db.upsert("a", rows: [["id": .int(Int64.max - 2), "vector": [0, 0]]])
            // Two generated keys would be Int64.max - 1 and Int64.max, leaving no next id.
            refused { _ = try db.insert("a", rows: [["vector": [1, 1]], ["vector": [2, 2]]]) }
            #expect(try db.insert("a", rows: [["vector": [1, 1]]]).ids == [.int(Int64.max - 1)])
            refused { _ = try db.insert("a", rows: [["vector": [2, 2]]]) }
            // A large insert is refused as a whole, through a collection handle too.
            let handle = try db.collection("a")
            refused { _ = try handle.insert(Array(repeating: ["vector": [1, 1]], count: 1000)) }
            try db.flush("a")
            try db.close()
        }
        let db = try Database.open(at: dir.path, options: quietOptions(.always))
        #expect(try db.collectionStats("a").rowCount == 2)
        try db.close()
    }

    static let edges = [(1, Int.max), (Int.max, 1), (Int.max, Int.max), (maxTopK, 1)]

    @Test func pagingPastIntMaxIsRefused() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        try db.createCollection("c", dimension: 2)
        _ = try db.insert("c", rows: [["id": 1, "vector": [1, 0]]])
        let handle = try db.collection("c")
        for (limit, offset) in Self.edges {
            refused { _ = try db.query("c", limit: limit, offset: offset) }
            refused { _ = try db.search("c", vectors: [[1, 0]], limit: limit, offset: offset) }
            refused { _ = try handle.search([[1, 0]], limit: limit, offset: offset) }
        }
        // The edge itself is accepted.
        #expect(try db.query("c", limit: 1, offset: maxTopK - 1).isEmpty)
        #expect(try db.search("c", vectors: [[1, 0]], limit: 1, offset: maxTopK - 1) == [[]])
        try db.close()
    }

    @Test func asyncPagingPastIntMaxIsRefused() async throws {
        let dir = TemporaryDirectory()
        let db = try await Database.open(at: dir.path, options: quietOptions())
        try await db.createCollection("c", dimension: 2)
        for (limit, offset) in Self.edges {
            for call in 0..<2 {
                do {
                    if call == 0 {
                        _ = try await db.query("c", limit: limit, offset: offset)
                    } else {
                        _ = try await db.search("c", vectors: [[1, 0]], limit: limit, offset: offset)
                    }
                    Issue.record("limit \(limit), offset \(offset) was accepted")
                } catch let error as QuiverError {
                    #expect(error.code == .invalidArgument)
                }
            }
        }
        try await db.close()
    }
}
