import Dispatch

/// Compaction: merge sealed segments into one, dropping deleted and replaced rows.
///
/// 1. Serialized with writes (`serialized`): choose the segments, reserve a segment id, copy
///    their delete bitmaps.
/// 2. Without any lock (writers and readers go on): write the merged live rows to a new segment
///    file and open it.
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
    /// How automatic compaction picks segments.
    enum CompactionPolicy {
        /// Every sealed segment, whenever there are two or more, or any has deleted rows.
        case all
        /// Size-tiered: four or more segments of a similar size (within 4×), or any segment whose
        /// rows are more than 30% deleted.
        case tiered
    }

    /// Compacts according to `policy`; returns whether anything was compacted.
    @discardableResult
    func compact(_ policy: CompactionPolicy) throws -> Bool {
        compactionGroup.enter()
        defer { compactionGroup.leave() }
        // Step 1.
        let plan: (ids: [UInt64], segments: [SealedSegment], deletes: [Bitset], newID: UInt64)? = try serialized { state.withLock { s in
            guard !s.compacting else { return nil }
            let chosen = Self.choose(policy, s)
            guard !chosen.isEmpty else { return nil }
            s.compacting = true
            let newID = s.manifest.nextSegmentID
            s.manifest.nextSegmentID += 1
            let indices = chosen.map { s.segmentIndex[$0]! }
            return (chosen, indices.map { s.sealed[$0] }, indices.map { s.sealedDeletes[$0] }, newID)
        } }
        guard let plan else { return false }
        var finished = false
        defer {
            if !finished { state.withLock { $0.compacting = false } }
            scheduleIndexBuilds()
        }

        // Step 2.
        var content = SegmentContent(rowCount: 0, columns: [:], vectors: [:], norms: [:], dimensions: [:])
        var mapping = [[Int32]]()  // old row → new row (-1 when dropped), per chosen segment
        var parts = [SegmentContent]()
        for (segment, deleted) in zip(plan.segments, plan.deletes) {
            var live = [Int]()
            var map = [Int32](repeating: -1, count: segment.rowCount)
            for row in 0..<segment.rowCount where !deleted[row] {
                map[row] = Int32(content.rowCount + live.count)
                live.append(row)
            }
            mapping.append(map)
            let part = segment.content(rows: live, schema: schema)
            content.rowCount += part.rowCount
            parts.append(part)
        }
        content = SegmentContent.concatenate(parts, schema: schema)
        let path = directory + "/" + FileNames.segment(plan.newID)
        var merged: SealedSegment? = nil
        if content.rowCount > 0 {
            do {
                try SegmentWriter.write(content, id: plan.newID, path: path)
                merged = try SealedSegment(path: path, id: plan.newID, schema: schema, load: !options.memoryMapSegments)
            } catch {
                try? FileSystem.remove(path)
                throw error
            }
        }

        // Step 3.
        try writeLock.withLock { _ in
            // Copied under `state`'s lock (copy-on-write, O(segments)): the chosen segments' delete
            // bitmaps now, the manifest and the primary-key index.
            let prepared = state.withLock { s -> (deletes: [Bitset], next: Manifest, oldEntries: [Manifest.SegmentEntry], pkIndex: PrimaryKeyIndex)? in
                guard !s.closed, s.failure == nil else { return nil }
                let removed = Set(plan.ids)
                return (plan.ids.map { s.sealedDeletes[s.segmentIndex[$0]!] }, s.manifest,
                        s.manifest.segments.filter { removed.contains($0.id) }, s.pkIndex)
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
            var pkIndex = prepared.pkIndex
            if let merged {
                FaultInjector.shared.stall(.repoint, path: merged.path)
                let keys = merged.columns[schema.primaryField.name]!
                for (i, id) in plan.ids.enumerated() {
                    pkIndex.repoint(
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
                var entry = Manifest.SegmentEntry(id: merged.id, rowCount: merged.rowCount, deleteFile: nil, deletedCount: 0)
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
                swap(&s.pkIndex, &pkIndex)
                s.sealed = sealed
                s.sealedDeletes = deletes
                s.sealedDeleteCounts = counts
                s.segmentIndex = index
                for id in plan.ids { s.dirtyDeletes.remove(id) }
                for entry in prepared.oldEntries { s.segmentIndexes[entry.id] = nil }
                s.compacting = false
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

    private static func choose(_ policy: CompactionPolicy, _ s: State) -> [UInt64] {
        let entries = s.manifest.segments
        switch policy {
        case .all:
            let anyDeletes = s.sealedDeletes.contains { !$0.isEmpty }
            return entries.count >= 2 || anyDeletes ? entries.map(\.id) : []
        case .tiered:
            var chosen = Set<UInt64>()
            for e in entries where s.sealedDeletes[s.segmentIndex[e.id]!].cardinality * 10 > e.rowCount * 3 {
                chosen.insert(e.id)
            }
            // Tiers of sizes within 4× of each other: tier = floor(log4(rows)).
            var tiers = [Int: [UInt64]]()
            for e in entries {
                let tier = Int(log2(Double(max(e.rowCount, 1))) / 2)
                tiers[tier, default: []].append(e.id)
            }
            if let (_, ids) = tiers.filter({ $0.value.count >= 4 }).min(by: { $0.key < $1.key }) {
                chosen.formUnion(ids)
            }
            return entries.map(\.id).filter(chosen.contains)
        }
    }

    /// Starts a tiered compaction in the background when one is due; it goes on compacting until
    /// none is due (the flushes made while one ran found it running and started none, and a writer
    /// that has stopped makes no more flushes to start one) or the collection closes.
    func compactInBackgroundIfDue() {
        scheduleIndexBuilds()
        guard options.autoCompaction else { return }
        let due = state.withLock { s in !s.closed && !s.closing && !s.compacting && !Self.choose(.tiered, s).isEmpty }
        guard due else { return }
        compactionGroup.enter()
        compactionQueue.async { [self] in
            defer { compactionGroup.leave() }
            do {
                while try compact(.tiered), !state.withLock({ $0.closing }) {}
            } catch let error as QuiverError where error.code == .closed {
                // The collection closed first; nothing to do.
            } catch {
                options.logHandler(.error, "background compaction failed: \(error)")
            }
        }
    }
}

extension SealedSegment {
    /// The rows `rows` of this segment as segment content.
    func content(rows: [Int], schema: CollectionSchema) -> SegmentContent {
        var vectors = [String: [UInt8]]()
        var norms = [String: [Float]]()
        var dims = [String: Int]()
        for field in schema.vectorFields {
            let rowBytes = field.dataType.vectorRowBytes
            let raw = vectorBytes(field.name)
            var out = [UInt8]()
            out.reserveCapacity(rows.count * rowBytes)
            for row in rows { out.append(contentsOf: raw[(row * rowBytes)..<((row + 1) * rowBytes)]) }
            vectors[field.name] = out
            dims[field.name] = field.dataType.dimension!
            if !field.dataType.isBinaryVector {
                let n = self.norms(field.name)
                norms[field.name] = rows.map { n[$0] }
            }
        }
        return SegmentContent(
            rowCount: rows.count, columns: columns.mapValues { $0.gather(rows) }, vectors: vectors, norms: norms,
            dimensions: dims)
    }
}

extension SegmentContent {
    /// The rows of `parts`, in order.
    static func concatenate(_ parts: [SegmentContent], schema: CollectionSchema) -> SegmentContent {
        var out = SegmentContent(rowCount: 0, columns: [:], vectors: [:], norms: [:], dimensions: [:])
        for field in schema.vectorFields {
            out.vectors[field.name] = parts.flatMap { $0.vectors[field.name]! }
            out.dimensions[field.name] = field.dataType.dimension!
            if !field.dataType.isBinaryVector { out.norms[field.name] = parts.flatMap { $0.norms[field.name]! } }
        }
        var names = Set(schema.fields.filter { !$0.dataType.isVector }.map(\.name))
        if schema.enableDynamicField { names.insert(dynamicFieldName) }
        for name in names {
            let field = schema.field(named: name)
            var column = Column(emptyFor: field?.dataType ?? .json)
            for part in parts {
                let c = part.columns[name]!
                for row in 0..<c.count { column.append(c.value(at: row)) }
            }
            out.columns[name] = column
        }
        out.rowCount = parts.reduce(0) { $0 + $1.rowCount }
        return out
    }
}

import func Foundation.log2
