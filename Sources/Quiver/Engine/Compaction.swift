import Dispatch

/// Compaction: merge sealed segments into one, dropping deleted and replaced rows.
///
/// 1. Serialized with writes (`serialized`): choose the segments, reserve a segment id, copy
///    their delete bitmaps.
/// 2. Without any lock (writers and readers go on): when the primary-key index is not built yet
///    (nothing has checked the keys since open), check that no key is live in two of the chosen
///    rows; write the merged live rows to a new segment file and open it.
/// 3. Holding `writeLock`: rows deleted in the old segments meanwhile are deleted in the new one
///    and the primary-key index is re-pointed at the merged rows, both computed on copies taken
///    under `state`'s lock and worked on without it; their delete file is written, the WAL is
///    fsynced (those deletes' records must be durable before the manifest that carries them), the
///    manifest is written, then memory follows under `state`'s lock (O(segments): the new index is
///    swapped in), and the old files are unlinked. Readers holding an old snapshot keep the old
///    segments' memory, which stays valid until they release them (POSIX keeps an unlinked file's
///    pages while it is mapped).
///
/// Background compactions run on the collection's `BackgroundQueue`, below the callers' priority.
extension CollectionEngine {
    /// How a compaction picks segments.
    enum CompactionPolicy {
        /// The sealed segments of the first partition that has two or more, or one with deleted
        /// rows (`Database.compact(_:)` repeats it until nothing is left to compact).
        case all
        /// Automatic (after flushes, in the background), one bounded step at a time; see `choose`.
        case automatic
    }

    /// Compacts according to `policy`; returns whether anything was compacted.
    @discardableResult
    func compact(_ policy: CompactionPolicy) throws -> Bool {
        compactionGroup.enter()
        defer { compactionGroup.leave() }
        // Step 1.
        let plan: (ids: [UInt64], segments: [SealedSegment], deletes: [Bitset], newID: UInt64, keysChecked: Bool)? = try serialized { state.withLock { s in
            guard !s.compacting else { return nil }
            let chosen = nextCompaction(policy, &s)
            guard !chosen.isEmpty else { return nil }
            s.compactingSegments = Set(chosen)
            let newID = s.manifest.nextSegmentID
            s.manifest.nextSegmentID += 1
            let indices = chosen.map { s.segmentIndex[$0]! }
            return (chosen, indices.map { s.sealed[$0] }, indices.map { s.sealedDeletes[$0] }, newID, s.pkIndexBuilt)
        } }
        guard let plan else { return false }
        var finished = false
        defer {
            if !finished { state.withLock { $0.compactingSegments = [] } }
            scheduleIndexBuilds()
        }

        // Step 2. A key live in two of the chosen rows (damage the index would report when built)
        // must not be merged into one segment: the error would then name the new file, and the
        // files that hold the damage would be unlinked. The check's index is thrown away.
        if !plan.keysChecked {
            _ = try Self.primaryKeyIndex(plan.segments, deletes: plan.deletes, schema: schema)
        }
        var mapping = [[Int32]]()  // old row → new row (-1 when dropped), per chosen segment
        var kept = [[Int]]()  // the live rows of each chosen segment
        var mergedRows = 0
        for (segment, deleted) in zip(plan.segments, plan.deletes) {
            var live = [Int]()
            live.reserveCapacity(segment.rowCount)
            var map = [Int32](repeating: -1, count: segment.rowCount)
            for row in 0..<segment.rowCount where !deleted[row] {
                map[row] = Int32(mergedRows + live.count)
                live.append(row)
            }
            mergedRows += live.count
            mapping.append(map)
            kept.append(live)
        }
        // The chosen segments are read from end to end (advised so when mapped: VectorVerifier).
        let content = try SegmentContent.gathering(kept, of: plan.segments, schema: schema)
        let path = directory + "/" + FileNames.segment(plan.newID)
        var merged: SealedSegment? = nil
        if content.rowCount > 0 {
            do {
                merged = try VectorVerifier.readingWhole(plan.segments.flatMap(\.verifiers)[...]) {
                    try SealedSegment.write(content, id: plan.newID, path: path, schema: schema, load: !options.memoryMapSegments)
                }
            } catch {
                try? FileSystem.remove(path)
                throw error
            }
        }

        // Step 3.
        try writeLock.withLock { _ in
            // Copied under `state`'s lock (copy-on-write, O(segments)): the chosen segments' delete
            // bitmaps now, the manifest and the primary-key index.
            let prepared = state.withLock { s -> (deletes: [Bitset], next: Manifest, oldEntries: [Manifest.SegmentEntry], pkIndex: PrimaryKeyIndex?)? in
                // A partition drop may have removed the chosen segments meanwhile: nothing to switch.
                guard !s.closed, s.failure == nil, plan.ids.allSatisfy({ s.segmentIndex[$0] != nil }) else { return nil }
                let removed = Set(plan.ids)
                return (plan.ids.map { s.sealedDeletes[s.segmentIndex[$0]!] }, s.manifest,
                        s.manifest.segments.filter { removed.contains($0.id) }, s.pkIndexBuilt ? s.pkIndex : nil)
            }
            guard let prepared else {
                try? FileSystem.remove(path)
                return
            }
            // Without it (O(rows); nothing else changes them while `writeLock` is held): the rows
            // deleted since step 1, and the primary-key index re-pointed at the merged rows.
            var newDeletes = Bitset(count: merged?.rowCount ?? 0)
            for (i, var fresh) in prepared.deletes.enumerated() {
                fresh.subtract(plan.deletes[i])
                fresh.forEachSet { row in
                    let target = mapping[i][row]
                    if target >= 0 { newDeletes[Int(target)] = true }
                }
            }
            let newDeleteCount = newDeletes.cardinality
            // An index not built yet (nothing written since open) is left so: it will be built
            // from the segments as they are then.
            var pkIndex = prepared.pkIndex
            if let merged, pkIndex != nil {
                FaultInjector.shared.stall(.repoint, path: merged.path)
                let keys = merged.columns[schema.primaryField.name]!
                for (i, id) in plan.ids.enumerated() {
                    pkIndex!.repoint(
                        keys: keys, segment: merged.id,
                        rows: mapping[i].enumerated().lazy.filter { $0.element >= 0 && !newDeletes[Int($0.element)] }
                            .map { (Int($0.element), RowLocation(segment: id, row: Int32($0.offset))) })
                }
            }
            // I/O, without `state`'s lock: the delete file and the manifest.
            var next = prepared.next
            next.version += 1
            let removed = Set(plan.ids)
            let firstPosition = next.segments.firstIndex { removed.contains($0.id) } ?? next.segments.count
            next.segments.removeAll { removed.contains($0.id) }
            if let merged {
                var entry = Manifest.SegmentEntry(
                    id: merged.id, rowCount: merged.rowCount, deleteFile: nil, deletedCount: 0, partition: prepared.oldEntries[0].partition)
                if !newDeletes.isEmpty {
                    let name = FileNames.deletes(segment: merged.id, version: next.version)
                    do {
                        try FileSystem.writeFile(directory + "/" + name, DeleteFile.encode(segmentID: merged.id, deleted: newDeletes))
                    } catch {
                        try? FileSystem.remove(path)
                        throw error
                    }
                    entry.deleteFile = name
                    entry.deletedCount = newDeleteCount
                }
                next.segments.insert(entry, at: min(firstPosition, next.segments.count))
            }
            do {
                // The new delete file carries deletes (and the delete halves of upserts) whose WAL
                // records may not be fsynced yet: they must be durable before the manifest is.
                try state.withLock { $0.wal }?.sync()
                try FileSystem.syncDirectory(directory)
                try FileSystem.replaceAtomically(directory + "/" + FileNames.manifest, next.encode())
            } catch let error as QuiverError {
                throw markFailed(error)
            }
            // Memory follows the new manifest (O(segments) under `state`'s lock; the old index is
            // swapped out and released after it).
            state.withLock { s in
                s.manifest = next
                var sealed = [SealedSegment]()
                var deletes = [Bitset]()
                var counts = [Int]()
                var index = [UInt64: Int]()
                for entry in next.segments {
                    if let merged, entry.id == merged.id {
                        sealed.append(merged)
                        deletes.append(newDeletes)
                        counts.append(newDeleteCount)
                    } else {
                        let i = s.segmentIndex[entry.id]!
                        sealed.append(s.sealed[i])
                        deletes.append(s.sealedDeletes[i])
                        counts.append(s.sealedDeleteCounts[i])
                    }
                    index[entry.id] = sealed.count - 1
                }
                if pkIndex != nil {
                    precondition(s.pkIndexBuilt)
                    swap(&s.pkIndex, &pkIndex!)
                }
                s.sealed = sealed
                s.sealedDeletes = deletes
                s.sealedDeleteCounts = counts
                s.segmentIndex = index
                for id in plan.ids { s.dirtyDeletes.remove(id) }
                for entry in prepared.oldEntries { s.segmentIndexes[entry.id] = nil }
                s.compactingSegments = []
                s.compactionFailed = false
            }
            finished = true
            for entry in prepared.oldEntries {
                var names = [FileNames.segment(entry.id)]
                if let d = entry.deleteFile { names.append(d) }
                names += entry.indexFiles.values
                for name in names {
                    do { try FileSystem.remove(directory + "/" + name) } catch {
                        options.logHandler(.warning, "could not remove compacted file '\(directory)/\(name)': \(error)")
                    }
                }
            }
        }
        return true
    }

    /// The segments the next compaction of `policy` merges; empty when none is due.
    ///
    /// `.automatic`, the automatic policy, in the manner of Milvus's single-segment and mix
    /// compactions, one bounded step at a time (the background task repeats until none is due):
    /// 1. Deleted rows: a segment whose deleted share of rows reaches `deletedRatio`
    ///    (`DatabaseOptions.compactionDeletedRatio`) is rewritten without them, since a search
    ///    still reads a deleted row until a compaction drops it. The segment with the largest
    ///    share goes first (it drops the most rows per row written), together with the other
    ///    segments of its size tier past the ratio (so that small ones are merged as well).
    /// 2. Otherwise size tiers: the smallest tier (live rows within 4× of each other,
    ///    `floor(log4(rows))`) holding four or more segments is merged, its smallest members up to
    ///    the target size (`DatabaseOptions.segmentTargetBytes`), when at least two fit.
    /// 3. Otherwise, when packing was asked for (an explicit flush or an index creation: a bulk load
    ///    is done), the small segments are packed: the segments under the target taken smallest
    ///    first, as many as fit in the target, down to the longest such run whose largest segment
    ///    holds at most two thirds of its rows. The two-thirds rule keeps a flush after every few
    ///    rows from rewriting a large segment each time: small segments merge among themselves
    ///    until together they are worth merging into a larger one, so a row is rewritten a
    ///    logarithmic number of times. It is waived for segments that the collection's index has
    ///    not been built on yet (nor is being built on): the index is built once, on what the
    ///    packing makes of them, so the small last segment of a load joins the large one instead
    ///    of getting a graph of its own that every search would walk.
    private static func choose(_ policy: CompactionPolicy, _ s: State, deletedRatio: Double, targetRows: Int) -> [UInt64] {
        let entries = s.manifest.segments
        // Compaction never mixes partitions: each step looks at the segments of one partition at a
        // time (in the order of the manifest's partitions), and returns the first partition's choice.
        let groups = s.manifest.partitions.map { p in entries.indices.filter { entries[$0].partition == p.id } }
        let deleted = entries.map { s.sealedDeleteCounts[s.segmentIndex[$0.id]!] }
        switch policy {
        case .all:
            let group = groups.first { g in g.count >= 2 || g.contains { deleted[$0] > 0 } } ?? []
            return group.map { entries[$0].id }
        case .automatic:
            let live = zip(entries, deleted).map { e, d in e.rowCount - d }
            let share = zip(entries, deleted).map { e, d in e.rowCount > 0 ? Double(d) / Double(e.rowCount) : 0 }
            let tier = live.map { Int(log2(Double(max($0, 1))) / 2) }
            /// Step 1 within `group`.
            func deletedRows(_ group: [Int]) -> [Int] {
                let pastRatio = group.filter { deleted[$0] > 0 && share[$0] >= deletedRatio }
                guard let worst = pastRatio.max(by: { share[$0] < share[$1] }) else { return [] }
                return pastRatio.filter { tier[$0] == tier[worst] }
            }
            /// The longest run of `candidates`, smallest first, whose live rows fit in the target.
            func fitting(_ candidates: [Int]) -> [Int] {
                var total = 0
                return Array(candidates.sorted { live[$0] < live[$1] }.prefix { i in
                    total += live[i]
                    return total <= targetRows
                })
            }
            /// Step 2 within `group`.
            func sizeTiers(_ group: [Int]) -> [Int] {
                let tiers = Dictionary(grouping: group, by: { tier[$0] })
                for (_, members) in tiers.filter({ $0.value.count >= 4 }).sorted(by: { $0.key < $1.key }) {
                    let fit = fitting(members)
                    if fit.count >= 2 { return fit }
                }
                return []
            }
            // The graph or list indexes this collection builds, and whether a segment has one of
            // them built or being built.
            let built = s.manifest.indexes.filter { $0.type != .flat }
            func hasIndex(_ i: Int) -> Bool {
                let entry = entries[i]
                return built.contains { def in
                    entry.indexFiles[def.field] != nil || s.building.contains(buildKey(segment: entry.id, definition: def))
                }
            }
            /// Step 3 within `group`.
            func packing(_ group: [Int]) -> [Int] {
                let fit = fitting(group.filter { live[$0] < targetRows })
                var total = 0, pack = 0, unindexed = !built.isEmpty
                for (n, i) in fit.enumerated() {
                    total += live[i]
                    unindexed = unindexed && !hasIndex(i)
                    if n >= 1 && (3 * live[i] <= 2 * total || unindexed) { pack = n + 1 }
                }
                return Array(fit.prefix(pack))
            }
            var steps = [deletedRows, sizeTiers]
            if s.packRequested { steps.append(packing) }
            for step in steps {
                for group in groups {
                    let chosen = step(group)
                    if !chosen.isEmpty { return chosen.map { entries[$0].id } }
                }
            }
            return []
        }
    }

    /// `choose` with this collection's options.
    private func due(_ policy: CompactionPolicy, _ s: State) -> [UInt64] {
        Self.choose(policy, s, deletedRatio: options.compactionDeletedRatio, targetRows: targetSegmentRows)
    }

    /// The segments the next compaction of `policy` merges; clears a request to pack once nothing
    /// is due.
    func nextCompaction(_ policy: CompactionPolicy, _ s: inout State) -> [UInt64] {
        let chosen = due(policy, s)
        if chosen.isEmpty && policy == .automatic { s.packRequested = false }
        return chosen
    }

    /// The segments a compaction is running on or is due for (none without automatic
    /// compaction): their indexes are built on what the compaction makes of them instead.
    func segmentsAwaitingCompaction(_ s: State) -> Set<UInt64> {
        guard options.autoCompaction, !options.readOnly, !s.compactionFailed else { return s.compactingSegments }
        return s.compactingSegments.union(due(.automatic, s))
    }

    /// Asks background compaction to pack the small segments (`choose`, step 3): the caller is
    /// done loading for now (an explicit flush, an index creation).
    func requestPacking() {
        if options.autoCompaction { state.withLock { $0.packRequested = true } }
        compactInBackgroundIfDue()
    }

    /// `DatabaseOptions.segmentTargetBytes` in rows: the vectors' bytes plus 8 per other field.
    var targetSegmentRows: Int {
        let rowBytes = schema.fields.reduce(0) { sum, field in
            sum + (field.dataType.isVector ? field.dataType.vectorRowBytes : 8)
        }
        return max(1, options.segmentTargetBytes / max(rowBytes, 1))
    }

    /// Starts an automatic compaction (see `choose`) in the background when one is due; it goes on
    /// compacting until none is due (the flushes made while one ran found it running and started
    /// none, and a writer that has stopped makes no more flushes to start one) or the collection
    /// closes.
    func compactInBackgroundIfDue() {
        scheduleIndexBuilds()
        guard options.autoCompaction, !options.readOnly else { return }
        let due = state.withLock { s in
            !s.closed && !s.closing && !s.compacting && !nextCompaction(.automatic, &s).isEmpty
        }
        guard due else { return }
        compactionGroup.enter()
        compactionQueue.async { [self] in
            defer { compactionGroup.leave() }
            do {
                while try compact(.automatic), !state.withLock({ $0.closing }) {}
            } catch let error as QuiverError where error.code == .closed {
                // The collection closed first; nothing to do.
            } catch {
                options.logHandler(.error, "background compaction failed: \(error)")
                state.withLock { $0.compactionFailed = true }
                scheduleIndexBuilds()  // the builds that waited for it
            }
        }
    }
}

extension SegmentContent {
    /// The rows `rows[i]` of `segments[i]` (each ascending), in that order, as one segment's
    /// content: every column is allocated once at its final size; the vectors and norms are read
    /// from the segments, in runs of consecutive rows, as the new segment is written.
    ///
    /// - Throws: `.corruption` naming the file when a source's vectors are damaged (verified
    ///   whole first: damage must not be copied under the new segment's fresh checksums).
    static func gathering(_ rows: [[Int]], of segments: [SealedSegment], schema: CollectionSchema) throws -> SegmentContent {
        let runs = RowRuns(rows)
        var out = SegmentContent(rowCount: runs.count, columns: [:], vectors: [:])
        for field in schema.vectorFields {
            let name = field.name, rowBytes = field.dataType.vectorRowBytes
            let vectors = try segments.map { try $0.vectorBytes(name) }
            let norms = field.dataType.isBinaryVector ? [] : try segments.map { try $0.norms(name) }
            out.vectors[name] = SegmentVectors(
                type: field.dataType, runs: runs,
                copyVectors: { source, rows, destination in
                    destination.copyMemory(from: vectors[source].baseAddress! + rows.lowerBound * rowBytes, byteCount: rows.count * rowBytes)
                },
                copyNorms: { source, rows, destination in
                    destination.copyMemory(from: norms[source].baseAddress! + rows.lowerBound, byteCount: rows.count * 4)
                })
        }
        var names = Set(schema.fields.filter { !$0.dataType.isVector }.map(\.name))
        if schema.enableDynamicField { names.insert(dynamicFieldName) }
        for name in names {
            out.columns[name] = Column.gathering(zip(segments, rows).map { ($0.columns[name]!, $1) })
        }
        return out
    }
}

import func Foundation.log2
