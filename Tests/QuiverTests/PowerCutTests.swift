import Foundation
import Testing
@testable import Quiver

/// Power cuts after every system call of every write path (see ``SimulatedDisk``).
///
/// A workload drives inserts, upserts, deletes, explicit and insert-triggered flushes, index
/// build and drop, compaction, collection create/rename/drop, alias create/alter/drop, partition
/// create/drop with partition-scoped inserts, and close through the recording
/// file-system seam once. Then, for every prefix of the recorded calls and both ways a cut can
/// leave unsynced data, the surviving files are written to a fresh directory and opened. The
/// database must open, and what it holds must be the state after some prefix of the calls: at
/// least every call acknowledged as durable (each call under `.always`; under `.batched` each
/// call before the last completed group sync, flush or close; under `.none` each call before the
/// last flush or close), at most every call that had begun. So nothing acknowledged is lost,
/// nothing is half applied and no deleted row comes back.
///
/// `QUIVER_POWER_CUT_SCALE=N` multiplies the workload's rows (`scripts/power-cut-sweep.sh`).
@Suite struct PowerCutTests {
    /// What the database holds, by a collection identity that survives renames.
    struct State: Equatable {
        var names: [String: Int] = [:]
        /// Rows of each collection: id → tag (the row's vector is `[id, tag]`, its `v` field `tag`).
        var rows: [Int: [Int64: Int64]] = [:]
        var indexes: [Int: [String]] = [:]
        /// Alias → the collection (identity) it names.
        var aliases: [String: Int] = [:]
        /// The partitions of each collection besides `_default`, sorted.
        var partitions: [Int: [String]] = [:]

        /// The partitions by the names their collections have in this state.
        var partitionNames: [String: [String]] {
            Dictionary(uniqueKeysWithValues: names.map { ($0.key, partitions[$0.value] ?? []) })
        }

        /// The aliases by the names their collections have in this state.
        var aliasNames: [String: String] {
            aliases.compactMapValues { c in names.first { $0.value == c }?.key }
        }
    }

    enum Sync {
        /// The step makes no earlier write durable.
        case none
        /// Every earlier write to this collection is durable once the step returns.
        case collection(String)
        /// Every earlier write is durable once the step returns.
        case all
    }

    struct Step {
        var kind: String
        var sync: Sync = .none
        var run: (inout Database?) throws -> Void
        var model: (inout State) -> Void = { _ in }
    }

    static var scale: Int { ProcessInfo.processInfo.environment["QUIVER_POWER_CUT_SCALE"].flatMap(Int.init) ?? 1 }

    static func options(_ durability: Durability) -> DatabaseOptions {
        var o = quietOptions(durability)
        o.autoCompaction = false
        o.flushRowThreshold = 10 * scale
        o.syncInterval = .seconds(3600)  // the group sync runs when the workload says
        o.indexBuildThreads = 1
        return o
    }

    /// The tag of every row inserted into a partition other than `_default` (`observe` checks
    /// each partition holds rows of its tag only).
    static let partitionTags: [String: Int64] = ["p1": 12, "p2": 13]

    static func row(_ id: Int64, _ tag: Int64) -> Row {
        ["id": .int(id), "vector": .vector([Float(id), Float(tag)]), "v": .int(tag)]
    }

    /// The workload; `n` scales the row counts.
    static func steps(_ path: String, _ durability: Durability) -> [Step] {
        let n = Int64(scale)
        var ids = 0
        func newID() -> Int { ids += 1; return ids }
        var steps = [Step]()
        func db(_ d: Database?) -> Database { d! }
        func insert(
            _ kind: String, _ name: String, _ range: Range<Int64>, tag: Int64, upsert: Bool = false, sync: Sync = .none,
            partition: String? = nil
        ) {
            steps.append(Step(kind: kind, sync: sync, run: { d in
                let rows = range.map { row($0, tag) }
                if upsert {
                    _ = try db(d).upsert(name, rows: rows, partition: partition)
                } else {
                    _ = try db(d).insert(name, rows: rows, partition: partition)
                }
            }, model: { s in
                let c = s.names[name]!
                for id in range { s.rows[c, default: [:]][id] = tag }
            }))
        }
        func delete(_ name: String, _ idList: [Int64]) {
            steps.append(Step(kind: "delete", run: { d in _ = try db(d).delete(name, ids: idList.map { .int($0) }) }, model: { s in
                let c = s.names[name]!
                for id in idList { s.rows[c]?[id] = nil }
            }))
        }
        func create(_ name: String) {
            let id = newID()
            steps.append(Step(kind: "create collection", run: { d in try db(d).createCollection(name, dimension: 2, metric: .l2) }, model: { s in
                s.names[name] = id
                s.rows[id] = [:]
                s.indexes[id] = []
            }))
        }
        func alias(_ kind: String, _ alias: String, _ collection: String?) {
            steps.append(Step(kind: kind + " alias", run: { d in
                switch (kind, collection) {
                case ("create", let c?): try db(d).createAlias(c, alias: alias)
                case ("alter", let c?): try db(d).alterAlias(c, alias: alias)
                default: try db(d).dropAlias(alias)
                }
            }, model: { s in s.aliases[alias] = collection.map { s.names[$0]! } }))
        }
        func partition(_ kind: String, _ name: String, _ partition: String) {
            // A drop is a flush of the collection (its manifest also leaves the partition out).
            steps.append(Step(kind: kind + " partition", sync: kind == "drop" ? .collection(name) : .none, run: { d in
                if kind == "create" {
                    try db(d).createPartition(name, partition: partition)
                } else {
                    try db(d).dropPartition(name, partition: partition)
                }
            }, model: { s in
                let c = s.names[name]!
                if kind == "create" {
                    s.partitions[c, default: []] = (s.partitions[c, default: []] + [partition]).sorted()
                } else {
                    s.partitions[c]?.removeAll { $0 == partition }
                    s.rows[c] = s.rows[c]?.filter { $0.value != partitionTags[partition] }
                }
            }))
        }
        func groupSync() {
            guard durability == .batched else { return }
            steps.append(Step(kind: "group sync", sync: .all, run: { d in db(d).syncAll() }))
        }

        steps.append(Step(kind: "open", run: { d in d = try Database.open(at: path, options: options(durability)) }))
        create("c")
        insert("insert", "c", 0..<(8 * n), tag: 1)
        groupSync()
        insert("upsert", "c", (4 * n)..<(10 * n), tag: 2, upsert: true)
        delete("c", [1, 2])
        steps.append(Step(kind: "flush", sync: .collection("c"), run: { d in try db(d).flush("c") }))
        insert("insert", "c", (10 * n)..<(14 * n), tag: 3)
        groupSync()
        delete("c", [0, 11])
        insert("upsert", "c", 3..<4, tag: 4, upsert: true)
        // 10n rows in the growing segment: this insert's flush runs before it returns.
        insert("insert+flush", "c", (20 * n)..<(26 * n), tag: 5, sync: .collection("c"))
        insert("insert", "c", (30 * n)..<(31 * n), tag: 6)
        steps.append(Step(kind: "index build", run: { d in
            try db(d).createIndex("c", field: "vector", type: .ivfFlat, params: ["nlist": 2])
        }, model: { s in s.indexes[s.names["c"]!] = ["vector"] }))
        steps.append(Step(kind: "index build", run: { d in try db(d).waitForIndexBuilds("c") }))
        delete("c", [4 * n, 20 * n])
        groupSync()
        steps.append(Step(kind: "compaction", run: { d in
            try db(d).compact("c")
            try db(d).waitForIndexBuilds("c")
        }))
        insert("upsert", "c", (21 * n)..<(22 * n), tag: 7, upsert: true)
        partition("create", "c", "p1")
        insert("insert p1", "c", (50 * n)..<(53 * n), tag: 12, partition: "p1")
        steps.append(Step(kind: "flush", sync: .collection("c"), run: { d in try db(d).flush("c") }))
        insert("insert p1", "c", (53 * n)..<(55 * n), tag: 12, partition: "p1")
        partition("create", "c", "p2")
        insert("upsert p2", "c", (60 * n)..<(62 * n), tag: 13, upsert: true, partition: "p2")
        groupSync()
        partition("drop", "c", "p1")
        insert("insert p2", "c", (62 * n)..<(63 * n), tag: 13, partition: "p2")
        steps.append(Step(kind: "index drop", run: { d in try db(d).dropIndex("c", field: "vector") }, model: { s in
            s.indexes[s.names["c"]!] = []
        }))
        create("d")
        insert("insert", "d", 0..<(3 * n), tag: 8)
        alias("create", "live", "c")
        alias("create", "dal", "d")
        steps.append(Step(kind: "rename collection", run: { d in try db(d).renameCollection("d", to: "e") }, model: { s in
            s.names["e"] = s.names.removeValue(forKey: "d")
        }))
        insert("insert", "e", (3 * n)..<(4 * n), tag: 9)
        create("f")
        alias("alter", "live", "f")
        alias("drop", "dal", nil)
        steps.append(Step(kind: "drop collection", run: { d in try db(d).dropCollection("e") }, model: { s in
            s.names["e"] = nil
        }))
        insert("insert", "c", (40 * n)..<(41 * n), tag: 10)
        steps.append(Step(kind: "close", sync: .all, run: { d in
            try db(d).close()
            d = nil
        }))
        steps.append(Step(kind: "open", run: { d in d = try Database.open(at: path, options: options(durability)) }))
        insert("insert", "f", 0..<(2 * n), tag: 11)
        alias("alter", "live", "c")
        delete("c", [40 * n])
        steps.append(Step(kind: "close", sync: .all, run: { d in
            try db(d).close()
            d = nil
        }))
        return steps
    }

    /// What the database at `path` holds.
    static func observe(_ path: String, _ durability: Durability) throws -> Observed {
        let db = try Database.open(at: path, options: options(.none))
        defer { try? db.close() }
        var rows = [String: [Int64: Int64]]()
        var indexes = [String: [String]]()
        var names = try db.listCollections()
        var aliases = [String: String]()
        for alias in try db.listAliases() { aliases[alias] = try db.describeAlias(alias) }
        var partitions = [String: [String]]()
        // A dropped collection's files, or a create cut before its catalog switch, are gone.
        let directories = try FileSystem.listDirectory(path).filter(FileNames.isCollectionDirectory)
        if directories.count != names.count { names.append("directories \(directories)") }
        for name in names where db.hasCollection(name) {
            var r = [Int64: Int64]()
            for row in try db.query(name, limit: 16_384, outputFields: ["vector", "v"]) {
                let id = row["id"]!.intValue!
                var tag = row["v"]?.intValue ?? -1
                if case .vector(let v)? = row["vector"], v != [Float(id), Float(tag)] { tag = -2 }
                r[id] = tag
            }
            rows[name] = r
            indexes[name] = try db.listIndexes(name)
            partitions[name] = try db.listPartitions(name).filter { $0 != "_default" }.sorted()
            // Each partition holds rows of its own tag only (reported as a mismatch otherwise).
            for partition in try db.listPartitions(name) {
                let scoped = try db.query(name, limit: 16_384, outputFields: ["v"], partitions: [partition])
                let wrong = scoped.filter { row in
                    let tag = row["v"]?.intValue ?? -1
                    return partitionTags[partition].map { $0 != tag } ?? partitionTags.values.contains(tag)
                }
                if !wrong.isEmpty { rows[name]![-3] = Int64(wrong.count) }
            }
            if !r.isEmpty {
                // The index files and delete files agree with the rows: search returns exactly them.
                var options = SearchOptions()
                options.params = ["nprobe": 2]
                let hits = try db.search(name, vectors: [[0, 0]], limit: r.count, options: options)[0]
                let found = Set(hits.compactMap { $0.id.intValue })
                if found != Set(r.keys) { rows[name]![-1] = Int64(found.count) }  // reported as a mismatch
            }
        }
        return (names, rows, indexes, aliases, partitions)
    }

    typealias Observed = (
        names: [String], rows: [String: [Int64: Int64]], indexes: [String: [String]], aliases: [String: String],
        partitions: [String: [String]]
    )

    struct Result {
        var cutsByKind = [String: Int]()
        var failures = [String]()
    }

    /// Runs the workload once with recording on, then opens the state after every cut.
    static func sweep(_ durability: Durability) throws -> Result {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: false)
        let steps = steps(dir.path, durability)
        var models = [State()]
        for step in steps {
            var s = models.last!
            step.model(&s)
            models.append(s)
        }
        PowerCutRecorder.shared.start(root: dir.path)
        var bounds = [(start: Int, end: Int)]()
        var d: Database? = nil
        do {
            defer { if let d { d.abandonForTesting() } }
            for step in steps {
                let start = PowerCutRecorder.shared.count(root: dir.path)
                try step.run(&d)
                bounds.append((start, PowerCutRecorder.shared.count(root: dir.path)))
            }
        } catch {
            _ = PowerCutRecorder.shared.stop(root: dir.path)
            throw error
        }
        let trace = PowerCutRecorder.shared.stop(root: dir.path)

        var result = Result()
        var disk = SimulatedDisk(root: dir.path)
        let scratch = TemporaryDirectory("cut")
        for cut in 0...trace.count {
            if cut > 0 { disk.apply(trace[cut - 1]) }
            let completed = bounds.prefix { $0.end <= cut }.count
            let begun = max(completed, bounds.prefix { $0.start < cut }.count)
            let kind = steps[min(completed, steps.count - 1)].kind
            result.cutsByKind[kind, default: 0] += 1
            for survival in disk.hasUnsyncedState ? SimulatedDisk.Survival.allCases : [.synced] {
                let target = scratch.path + "-\(cut)-\(survival)"
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: target) }
                try disk.materialize(survival, into: target)
                let label = "\(durability) cut after call \(cut)/\(trace.count) (\(kind), \(survival))"
                do {
                    let observed = try observe(target, durability)
                    if let why = check(observed, models: models, steps: steps, completed: completed, begun: begun, durability: durability) {
                        result.failures.append("\(label): \(why)")
                    }
                } catch {
                    result.failures.append("\(label): open or read failed: \(error)")
                }
            }
        }
        return result
    }

    /// `nil` when `observed` is the state after some allowed prefix of the steps; else why not.
    static func check(
        _ observed: Observed,
        models: [State], steps: [Step], completed: Int, begun: Int, durability: Durability
    ) -> String? {
        // Collections, aliases, partitions and indexes are switched atomically and durably before their call returns.
        let catalogStates = (completed...begun).filter {
            Set(models[$0].names.keys) == Set(observed.names) && models[$0].aliasNames == observed.aliases
                && models[$0].partitionNames == observed.partitions
        }
        guard !catalogStates.isEmpty else {
            return "collections \(observed.names.sorted()), aliases \(observed.aliases) and partitions \(observed.partitions) "
                + "match no state between steps \(completed) and \(begun)"
        }
        var why = ""
        for k in catalogStates {
            let names = models[k].names
            var ok = true
            for (name, c) in names {
                // The last step that made this collection's writes durable.
                var lo = completed
                if durability != .always {
                    lo = 0
                    for j in 0..<completed {
                        switch steps[j].sync {
                        case .all: lo = j + 1
                        case .collection(let n) where models[j].names[n] == c: lo = j + 1
                        default: break
                        }
                    }
                }
                let rowsMatch = (min(lo, begun)...begun).contains { (models[$0].rows[c] ?? [:]) == observed.rows[name] }
                let indexesMatch = (completed...begun).contains { (models[$0].indexes[c] ?? []) == observed.indexes[name] }
                if !rowsMatch {
                    ok = false
                    let expected = models[lo].rows[c] ?? [:]
                    let lost = expected.filter { observed.rows[name]?[$0.key] != $0.value }.keys.sorted()
                    let extra = (observed.rows[name] ?? [:]).filter { expected[$0.key] != $0.value }.keys.sorted()
                    why = "'\(name)' rows match no state between steps \(lo) and \(begun) (vs step \(lo): differing \(lost), unexpected \(extra))"
                }
                if !indexesMatch {
                    ok = false
                    why = "'\(name)' indexes \(observed.indexes[name] ?? []) match no state"
                }
            }
            if ok { return nil }
        }
        return why
    }

    static func run(_ durability: Durability) throws {
        let result = try sweep(durability)
        let total = result.cutsByKind.values.reduce(0, +)
        let counts = result.cutsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("power-cut sweep \(durability): \(total) cut points (\(counts)); \(result.failures.count) failures")
        #expect(total > 100)
        #expect(result.failures.isEmpty, Comment(rawValue: "\(result.failures.count) failures:\n" + result.failures.prefix(20).joined(separator: "\n")))
    }

    @Test func everyCutUnderAlways() throws { try Self.run(.always) }

    /// Records `body` on a fresh database directory; returns the directory and the trace, which
    /// ends where `body` returns (the database it returns is abandoned after, unrecorded: the
    /// power goes before anything else reaches the disk).
    static func record(_ body: (String) throws -> Database) throws -> (TemporaryDirectory, [PowerCutRecorder.Event]) {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: false)
        PowerCutRecorder.shared.start(root: dir.path)
        defer { FaultInjector.shared.removeAll(under: dir.path) }
        let db: Database
        do { db = try body(dir.path) } catch {
            _ = PowerCutRecorder.shared.stop(root: dir.path)
            throw error
        }
        let trace = PowerCutRecorder.shared.stop(root: dir.path)
        db.abandonForTesting()
        return (dir, trace)
    }

    /// The ids of collection "c" after a power cut at the end of `trace`, for each way it can leave unsynced data.
    static func idsAfterCut(_ root: String, _ trace: [PowerCutRecorder.Event]) throws -> [SimulatedDisk.Survival: Set<Int64>] {
        var disk = SimulatedDisk(root: root)
        for event in trace { disk.apply(event) }
        var out = [SimulatedDisk.Survival: Set<Int64>]()
        for survival in SimulatedDisk.Survival.allCases {
            let target = root + "-cut-\(survival)"
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(atPath: target) }
            try disk.materialize(survival, into: target)
            let db = try Database.open(at: target, options: quietOptions())
            defer { db.abandonForTesting() }
            out[survival] = Set(try db.query("c", limit: 100).compactMap { $0["id"]?.intValue })
        }
        return out
    }

    /// A flush that fails after creating the next WAL unlinks it and fsyncs the directory, so the
    /// WAL cannot reappear after a power cut behind records later appended to the previous one
    /// (which recovery would report as a torn record in a WAL that is not the newest).
    @Test func failedFlushCleanUpIsDurable() throws {
        let (dir, trace) = try Self.record { path in
            let db = try Database.open(at: path, options: Self.options(.batched))
            try db.createCollection("c", dimension: 2, metric: .l2)
            _ = try db.insert("c", rows: (0..<3).map { Self.row($0, 1) })
            db.syncAll()
            FaultInjector.shared.add(.init(pathPrefix: path + "/c1/seg-", operation: .write, errno: ENOSPC))
            #expect(throws: QuiverError.self) { try db.flush("c") }
            FaultInjector.shared.removeAll(under: path)
            // Acknowledged, not yet group-synced: appended to the previous WAL (the last record
            // large enough to be torn across a sector boundary).
            for i in 3..<6 { _ = try db.insert("c", rows: [Self.row(Int64(i), 1)]) }
            _ = try db.insert("c", rows: (10..<40).map { Self.row($0, 1) })
            return db
        }
        for (survival, ids) in try Self.idsAfterCut(dir.path, trace) {
            #expect(ids.isSuperset(of: [0, 1, 2]), "\(survival): \(ids.sorted())")
        }
    }

    /// A failed WAL append whose cut back fails too leaves the collection refusing writes until
    /// reopen, so no record follows the partial one and the database reopens with every
    /// acknowledged row.
    @Test func failedRollbackRefusesLaterAppends() throws {
        let dir = TemporaryDirectory()
        do {
            let db = try Database.open(at: dir.path, options: quietOptions(.always))
            defer { db.abandonForTesting() }
            try db.createCollection("c", dimension: 2, metric: .l2)
            _ = try db.insert("c", rows: [Self.row(0, 1)])
            FaultInjector.shared.add(.init(pathPrefix: dir.path + "/c1/wal-", operation: .write, errno: EIO, partial: true))
            FaultInjector.shared.add(.init(pathPrefix: dir.path + "/c1/wal-", operation: .truncate, errno: EIO))
            defer { FaultInjector.shared.removeAll(under: dir.path) }
            #expect(throws: QuiverError.self) { _ = try db.insert("c", rows: [Self.row(1, 1)]) }
            #expect {
                _ = try db.insert("c", rows: [Self.row(2, 1)])
            } throws: { error in
                (error as? QuiverError)?.code == .io && "\(error)".contains("partial record")
            }
        }
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        #expect(Set(try db.query("c", limit: 10).compactMap { $0["id"]?.intValue }) == [0])
    }
    @Test func everyCutUnderBatched() throws { try Self.run(.batched) }
    @Test func everyCutUnderNone() throws { try Self.run(.none) }
}
