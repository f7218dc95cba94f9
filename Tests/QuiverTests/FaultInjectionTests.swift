import Foundation
import Testing
@testable import Quiver

/// Short writes, failed fsyncs, ENOSPC and failed renames: each surfaces as a thrown `.io`
/// error, and the database reopens in a consistent state with every acknowledged write.
@Suite struct FaultInjectionTests {
    struct Scenario: CustomStringConvertible, Sendable {
        var name: String
        /// The fault, relative to the database directory.
        var file: String
        var operation: FaultInjector.Operation
        var errno: Int32
        var partial = false
        var skip = 0
        /// What the failing step does: "insert" or "flush".
        var step: String
        var description: String { name }
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "ENOSPC on a WAL append", file: "/c1/wal-", operation: .write, errno: ENOSPC, step: "insert"),
        Scenario(name: "short WAL write", file: "/c1/wal-", operation: .write, errno: EIO, partial: true, step: "insert"),
        Scenario(name: "failed WAL fsync", file: "/c1/wal-", operation: .fsync, errno: EIO, step: "insert"),
        Scenario(name: "ENOSPC writing a segment", file: "/c1/seg-", operation: .write, errno: ENOSPC, step: "flush"),
        Scenario(name: "short segment write", file: "/c1/seg-", operation: .write, errno: EIO, partial: true, step: "flush"),
        Scenario(name: "failed segment fsync", file: "/c1/seg-", operation: .fsync, errno: EIO, step: "flush"),
        Scenario(name: "failed directory fsync in flush", file: "/c1/", operation: .fsync, errno: EIO, skip: 0, step: "flush-dir"),
        Scenario(name: "failed manifest rename", file: "/c1/MANIFEST", operation: .rename, errno: EIO, step: "flush"),
        Scenario(name: "ENOSPC writing the manifest", file: "/c1/MANIFEST", operation: .write, errno: ENOSPC, step: "flush"),
        Scenario(name: "ENOSPC opening the next WAL", file: "/c1/wal-", operation: .open, errno: ENOSPC, step: "flush"),
    ]

    @Test(arguments: scenarios)
    func faultSurfacesAndDatabaseReopensConsistent(_ s: Scenario) throws {
        let dir = TemporaryDirectory()
        let options = quietOptions(.always)
        var acknowledged = Set<Int64>()
        do {
            let db = try Database.open(at: dir.path, options: options)
            try db.createCollection("c", dimension: 2)
            for i in 0..<5 {
                _ = try db.insert("c", rows: [["id": .int(Int64(i)), "vector": .vector([1, Float(i)])]])
                acknowledged.insert(Int64(i))
            }
            try db.flush("c")
            _ = try db.delete("c", ids: [0])
            acknowledged.remove(0)
            _ = try db.insert("c", rows: [["id": 5, "vector": [1, 5]]])
            acknowledged.insert(5)
            let prefix = s.step == "flush-dir" ? dir.path + "/c1/" : dir.path + s.file
            FaultInjector.shared.add(.init(pathPrefix: prefix, operation: s.operation, errno: s.errno, partial: s.partial, skip: s.skip))
            defer { FaultInjector.shared.removeAll(under: dir.path) }
            #expect {
                if s.step == "insert" {
                    _ = try db.insert("c", rows: [["id": 6, "vector": [1, 6]], ["id": 7, "vector": [1, 7]]])
                } else {
                    try db.flush("c")
                }
            } throws: { error in
                guard let e = error as? QuiverError else { return false }
                return e.code == .io && e.message.contains(dir.path)
            }
            FaultInjector.shared.removeAll(under: dir.path)
            // Reads still work after any failure.
            #expect(try db.get("c", ids: [1]).count == 1)
            db.abandonForTesting()
        }
        let db = try Database.open(at: dir.path, options: options)
        let ids = Set(try db.query("c", limit: 100).compactMap { $0["id"]?.intValue })
        // Every acknowledged write is there; the failed call is there whole or not at all.
        #expect(ids == acknowledged || ids == acknowledged.union([6, 7]), "\(s.name): \(ids.sorted())")
        // And the database keeps working.
        _ = try db.insert("c", rows: [["id": 8, "vector": [1, 8]]])
        try db.flush("c")
        try db.close()
        let again = try Database.open(at: dir.path, options: options)
        #expect(try again.collectionStats("c").rowCount == ids.count + 1)
        try again.close()
    }

    @Test func failedCatalogWriteCreatesNothing() throws {
        let dir = TemporaryDirectory()
        let db = try Database.open(at: dir.path, options: quietOptions())
        FaultInjector.shared.add(.init(pathPrefix: dir.path + "/CATALOG", operation: .rename, errno: EIO))
        defer { FaultInjector.shared.removeAll(under: dir.path) }
        #expect { try db.createCollection("c", dimension: 2) } throws: { ($0 as? QuiverError)?.code == .io }
        #expect(!db.hasCollection("c"))
        try db.createCollection("c", dimension: 2)
        try db.close()
        let again = try Database.open(at: dir.path, options: quietOptions())
        #expect(try again.listCollections() == ["c"])
        try again.close()
    }
}
