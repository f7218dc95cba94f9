import Foundation
@testable import Quiver

/// A fresh temporary directory path (not created) removed when the value is released.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String
    init(_ name: String = "db") {
        let base = FileManager.default.temporaryDirectory.path + "/quiver-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base + "/" + name
    }
    deinit { try? FileManager.default.removeItem(atPath: FileSystem.parentDirectory(of: path)) }
}

/// Opens the database at `path` and uses its collection `name`: throws what a damaged collection
/// gives (`Database.open` reads no collection; the use loads `name`).
func openAndUse(_ path: String, _ name: String = "c") throws {
    let db = try Database.open(at: path, options: quietOptions())
    defer { db.abandonForTesting() }
    _ = try db.collectionStats(name)
    try readEverything(db, name)
}

/// Reads every stored byte of collection `name` that opening leaves for later: every field of
/// every row (sealed vectors are verified when first read) and every index part a walk verifies
/// when it first reads it (an HNSW file's layer-0 links and codes).
func readEverything(_ db: Database, _ name: String = "c") throws {
    _ = try db.query(name, limit: maxTopK, outputFields: ["*"])
    try db.verify(name)
}

/// The engine's SplitMix64, so failures reproduce from the seed.
typealias SeededGenerator = SplitMix64

func randomVector(_ d: Int, using g: inout SeededGenerator) -> [Float] {
    (0..<d).map { _ in Float.random(in: -1...1, using: &g) }
}

/// Options that keep tests quiet and deterministic.
func quietOptions(_ durability: Durability = .none) -> DatabaseOptions {
    var o = DatabaseOptions()
    o.durability = durability
    o.logHandler = { _, _ in }
    return o
}

/// `quietOptions()` with background compaction off, so a test decides when segments merge.
func manualCompactionOptions() -> DatabaseOptions {
    var o = quietOptions()
    o.autoCompaction = false
    return o
}

/// Opens a database in `path` with background compaction off and fills collection "c" with
/// `segments` sealed segments of `rows` random vectors each (ids 0, 1, … in insertion order).
func segmentedDatabase(
    at path: String, dimension: Int, metric: MetricType, segments: Int, rows: Int, using g: inout SeededGenerator
) throws -> Database {
    let db = try Database.open(at: path, options: manualCompactionOptions())
    try db.createCollection("c", dimension: dimension, metric: metric)
    for s in 0..<segments {
        _ = try db.insert("c", rows: (0..<rows).map { ["id": .int(Int64(s * rows + $0)), "vector": .vector(randomVector(dimension, using: &g))] })
        try db.flush("c")
    }
    return db
}

/// Brute-force reference distances in Double precision, Milvus conventions.
func referenceDistance(_ metric: MetricType, _ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0, l2 = 0.0
    for i in a.indices {
        let x = Double(a[i]), y = Double(b[i])
        dot += x * y; na += x * x; nb += y * y; l2 += (x - y) * (x - y)
    }
    switch metric {
    case .ip: return dot
    case .l2: return l2
    case .cosine: return na == 0 || nb == 0 ? 0 : dot / (na.squareRoot() * nb.squareRoot())
    case .hamming, .jaccard: preconditionFailure("binary metrics have their own reference")
    }
}

extension Database {
    /// The engine of collection `name`, loaded when it is not (tests reach into the engine
    /// through this; the library's calls use `withEngine`).
    func engine(_ name: String) throws -> CollectionEngine {
        try withEngine(name, .manage) { $0 }
    }
}
