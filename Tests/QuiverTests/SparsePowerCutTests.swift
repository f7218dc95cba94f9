import Foundation
import Testing
@testable import Quiver

/// Power cuts after every system call of a sparse-vector workload (inserts, a flush, deletes,
/// upserts, a compaction), as `PowerCutTests` does for the other field types: after each cut the
/// database opens, and its rows (with their sparse vectors, compared whole) are the state after
/// some prefix of the calls, at least every call that returned (`.always`: each is durable
/// when it returns) and at most every call that had begun.
@Suite struct SparsePowerCutTests {
    typealias State = [Int64: SparseVector]

    @Test func everyCutKeepsAPrefixOfTheCalls() throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: false)
        var options = quietOptions(.always)
        options.autoCompaction = false
        var g = SeededGenerator(seed: 21)
        func rows(_ ids: Range<Int64>) throws -> [(Int64, SparseVector)] {
            try ids.map { ($0, try SparseVector(SparseStorageTests.randomSparse(&g, maxTerms: 6))) }
        }
        func row(_ pair: (Int64, SparseVector)) -> Row { ["id": .int(pair.0), "sparse": .sparse(pair.1), "tag": 0] }
        let first = try rows(0..<6), second = try rows(6..<12), replaced = try rows(2..<4)
        // Each step: what it does, and the model after it (the first opens the database and creates the collection).
        var steps: [(run: (Database) throws -> Void, model: (inout State) -> Void)] = []
        steps.append(({ try $0.createCollection("c", schema: try SparseStorageTests.schema()) }, { _ in }))
        steps.append(({ _ = try $0.insert("c", rows: first.map(row)) }, { s in for (id, v) in first { s[id] = v } }))
        steps.append(({ try $0.flush("c") }, { _ in }))
        steps.append(({ _ = try $0.insert("c", rows: second.map(row)) }, { s in for (id, v) in second { s[id] = v } }))
        steps.append(({ _ = try $0.delete("c", ids: [0, 7]) }, { s in s[0] = nil; s[7] = nil }))
        steps.append(({ _ = try $0.upsert("c", rows: replaced.map(row)) }, { s in for (id, v) in replaced { s[id] = v } }))
        steps.append(({ try $0.flush("c") }, { _ in }))
        steps.append(({ _ = try $0.compact("c") }, { _ in }))
        var models = [State()]
        for step in steps {
            var s = models.last!
            step.model(&s)
            models.append(s)
        }

        PowerCutRecorder.shared.start(root: dir.path)
        var bounds = [(start: Int, end: Int)]()
        let db: Database
        do {
            db = try Database.open(at: dir.path, options: options)
        } catch {
            _ = PowerCutRecorder.shared.stop(root: dir.path)
            throw error
        }
        do {
            defer { db.abandonForTesting() }
            for step in steps {
                let start = PowerCutRecorder.shared.count(root: dir.path)
                try step.run(db)
                bounds.append((start, PowerCutRecorder.shared.count(root: dir.path)))
            }
        } catch {
            _ = PowerCutRecorder.shared.stop(root: dir.path)
            throw error
        }
        let trace = PowerCutRecorder.shared.stop(root: dir.path)
        #expect(trace.count > 20)

        var disk = SimulatedDisk(root: dir.path)
        let scratch = TemporaryDirectory("cut")
        var failures = [String]()
        for cut in 0...trace.count {
            if cut > 0 { disk.apply(trace[cut - 1]) }
            let completed = bounds.prefix { $0.end <= cut }.count
            let begun = max(completed, bounds.prefix { $0.start < cut }.count)
            for survival in disk.hasUnsyncedState ? SimulatedDisk.Survival.allCases : [.synced] {
                let target = scratch.path + "-\(cut)-\(survival)"
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: target) }
                try disk.materialize(survival, into: target)
                do {
                    let reopened = try Database.open(at: target, options: quietOptions())
                    defer { reopened.abandonForTesting() }
                    // Before the create returns, the collection may not exist yet: the state before every step.
                    guard reopened.hasCollection("c") else {
                        if completed > 0 { failures.append("cut \(cut)/\(trace.count) \(survival): the collection is gone") }
                        continue
                    }
                    let observed = Dictionary(uniqueKeysWithValues: try reopened.query("c", filter: "id >= 0", limit: 100, outputFields: ["sparse"]).map {
                        ($0["id"]!.intValue!, $0["sparse"]!)
                    })
                    if !(completed...begun).contains(where: { models[$0].mapValues { Value.sparse($0) } == observed }) {
                        failures.append("cut \(cut)/\(trace.count) \(survival): rows \(observed.keys.sorted()) match no state \(completed)...\(begun)")
                    }
                } catch {
                    failures.append("cut \(cut)/\(trace.count) \(survival): \(error)")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }
}
