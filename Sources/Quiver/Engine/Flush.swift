/// Flush: the growing segment becomes an immutable segment file, changed delete bitmaps become
/// delete files, and a new manifest switches to them atomically.
///
/// Order (a crash or power cut at any point leaves the old or the new state, never a mix; the
/// DocC article *Durability* follows each step through a power cut):
/// 1. fsync the current WAL, then start a new WAL file (created, fsynced, directory fsynced; new
///    writes go there). Only the newest WAL can then end in a torn record;
/// 2. write and fsync the segment files (one per partition that has live rows in the growing
///    segment) and the delete files (names no manifest knows yet), then fsync the directory;
/// 3. write the manifest atomically (temp, fsync, rename, fsync directory) with the new
///    checkpoint sequence and the new WAL file as the start of replay;
/// 4. only then delete the old WAL files and the replaced delete files.
///
/// Dropping a partition is such a flush (`flushSerialized(dropping:)`): the growing rows of the
/// partition are not written, and the manifest of step 3 also leaves out the partition and its
/// sealed segments, whose files step 4 deletes. Since that manifest's checkpoint covers every
/// WAL record so far, no insert into the partition is replayed after it.
///
/// When step 1 or 2 fails, the files it created are unlinked and the directory is fsynced, so
/// the new WAL cannot reappear after a power cut behind records later appended to the old one.
///
/// It runs inside `serialized` (holding `writeLock`, so nothing else changes the state
/// meanwhile): the growing segment and the delete bitmaps are copied under `state`'s lock (a
/// copy-on-write copy, frozen), steps 1–3 run without it, the primary-key index is re-pointed at
/// the new segment's rows on a copy (also without it), and memory switches to the new state under
/// it afterwards in O(1) per segment. Readers go on searching the frozen rows in the growing
/// segment until the switch.
extension CollectionEngine {
    /// Flushes the growing segment and the changed deletes, if any; inside `serialized`.
    /// Clears the recorded flush failure when it succeeds, records it when it fails.
    ///
    /// - Throws: the I/O error of a failed step. Before the manifest switch nothing changed; a
    ///   failed switch also marks the collection failed (memory may not match the disk).
    /// With `dropping`, the flush also drops that partition (see the type's comment); it runs even
    /// when there is nothing to flush.
    func flushSerialized(dropping: UInt64? = nil) throws {
        do {
            try flushFrozen(dropping: dropping)
            state.withLock { s in
                s.flushError = nil
                s.flushFailures = 0
                s.flushRetryAt = nil
            }
        } catch let error as QuiverError {
            state.withLock { s in
                s.flushError = error
                s.flushFailures += 1
                // Retried on the first threshold trigger after 0.1 s, doubling to at most 10 s.
                let backoff = Duration.milliseconds(100 << min(s.flushFailures - 1, 7))
                s.flushRetryAt = ContinuousClock.now + min(backoff, .seconds(10))
            }
            throw error
        }
    }

    private func flushFrozen(dropping: UInt64?) throws {
        let load = !options.memoryMapSegments
        let log = options.logHandler
        // Copy what the flush writes (memory only).
        let frozen = state.withLock { s -> (growing: GrowingSegment, manifest: Manifest, deletes: [UInt64: Bitset], sequence: UInt64, wal: WALWriter?)? in
            // WAL records past the checkpoint with nothing left to write (deletes a compaction has
            // already applied, deletes that matched nothing) still move the checkpoint: the next
            // open would otherwise replay them, and a replay builds the primary-key index.
            guard s.growing.rowCount > 0 || !s.dirtyDeletes.isEmpty || dropping != nil || s.lastSequence > s.manifest.checkpointSequence
            else { return nil }
            var deletes = [UInt64: Bitset]()
            for id in s.dirtyDeletes { deletes[id] = s.sealedDeletes[s.segmentIndex[id]!] }
            return (s.growing, s.manifest, deletes, s.lastSequence, s.wal)
        }
        guard let frozen, let oldWAL = frozen.wal else { return }
        // Rows written or deleted since open built it already; a partition drop may need it.
        try ensurePrimaryKeyIndex()

        // Steps 1–3, without `state`'s lock.
        var created = [String]()
        let newWAL: WALWriter
        var newSegments = [(segment: SealedSegment, rows: [Int])]()  // each with its rows in the growing segment
        var next = frozen.manifest
        next.version += 1
        // The partition dropped: its entry and segments leave the manifest.
        let dropped = dropping.map { id in frozen.manifest.segments.filter { $0.partition == id } } ?? []
        if let dropping {
            next.partitions.removeAll { $0.id == dropping }
            next.segments.removeAll { $0.partition == dropping }
        }
        do {
            try oldWAL.sync()
        } catch let error as QuiverError {
            throw markFailed(error)  // as for the group sync: what the failed fsync left on disk is unknown
        }
        do {
            newWAL = try WALWriter(directory: directory, number: oldWAL.number + 1)
            created.append(newWAL.path)
            for (partition, rows) in frozen.growing.liveRowsByPartition().sorted(by: { $0.key < $1.key }) where partition != dropping {
                let id = next.nextSegmentID
                next.nextSegmentID += 1
                let path = directory + "/" + FileNames.segment(id)
                created.append(path)
                let segment = try SealedSegment.write(frozen.growing.content(of: rows), id: id, path: path, schema: schema, load: load)
                newSegments.append((segment, rows))
                next.segments.append(Manifest.SegmentEntry(id: id, rowCount: rows.count, deleteFile: nil, deletedCount: 0, partition: partition))
            }
            for (i, entry) in next.segments.enumerated() {
                guard let bits = frozen.deletes[entry.id] else { continue }
                let name = FileNames.deletes(segment: entry.id, version: next.version)
                let path = directory + "/" + name
                created.append(path)
                try FileSystem.writeFile(path, DeleteFile.encode(segmentID: entry.id, deleted: bits))
                next.segments[i].deleteFile = name
                next.segments[i].deletedCount = bits.cardinality
            }
            try FileSystem.syncDirectory(directory)
            next.checkpointSequence = frozen.sequence
            next.walStart = newWAL.number
        } catch {
            do {
                for path in created { try FileSystem.remove(path) }
                if !created.isEmpty { try FileSystem.syncDirectory(directory) }
            } catch let cleanUpError as QuiverError {
                // The new WAL may survive a power cut: no record may be appended to the old one.
                _ = markFailed(cleanUpError)
            }
            throw error
        }
        do {
            try FileSystem.replaceAtomically(directory + "/" + FileNames.manifest, next.encode())
        } catch let error as QuiverError {
            // The rename may or may not have happened: memory can no longer be trusted to match disk.
            newWAL.close()
            throw markFailed(error)
        }

        // The new state is durable. The primary-key index is re-pointed at the new segment's rows
        // on a copy, without `state`'s lock (O(rows); nothing else changes the index while
        // `writeLock` is held), then memory switches to the new state under it in O(1).
        var pkIndex = state.withLock { $0.pkIndex }
        for (segment, rows) in newSegments {
            let keys = segment.columns[schema.primaryField.name]!
            FaultInjector.shared.stall(.repoint, path: segment.path)
            pkIndex.repoint(
                keys: keys, segment: segment.id,
                rows: rows.enumerated().lazy.map { ($0, RowLocation(segment: RowLocation.growing, row: Int32($1))) })
        }
        if let dropping {
            // The dropped partition's live keys leave the index: its growing rows (never written)
            // and the live rows of its sealed segments.
            let pk = schema.primaryField.name
            let growingKeys = frozen.growing.column(named: pk)!
            for row in 0..<frozen.growing.rowCount where frozen.growing.partitions[row] == dropping && !frozen.growing.deleted[row] {
                _ = pkIndex.removeValue(forKey: Self.primaryKey(growingKeys, row))
            }
            let segments = state.withLock { s in dropped.map { (s.sealed[s.segmentIndex[$0.id]!], s.sealedDeletes[s.segmentIndex[$0.id]!]) } }
            for (segment, deleted) in segments {
                let keys = segment.columns[pk]!
                for row in 0..<segment.rowCount where !deleted[row] { _ = pkIndex.removeValue(forKey: Self.primaryKey(keys, row)) }
            }
        }
        var growing = GrowingSegment(schema: schema)
        state.withLock { s in
            let droppedIDs = Set(dropped.map(\.id))
            if !droppedIDs.isEmpty {
                // O(segments): the sealed lists follow the manifest without the dropped segments.
                let kept = s.sealed.indices.filter { !droppedIDs.contains(s.sealed[$0].id) }
                s.sealed = kept.map { s.sealed[$0] }
                s.sealedDeletes = kept.map { s.sealedDeletes[$0] }
                s.sealedDeleteCounts = kept.map { s.sealedDeleteCounts[$0] }
                s.segmentIndex = Dictionary(uniqueKeysWithValues: s.sealed.enumerated().map { ($1.id, $0) })
                for id in droppedIDs { s.segmentIndexes[id] = nil }
            }
            s.manifest = next
            for (segment, _) in newSegments {
                let index = s.sealed.count
                s.sealed.append(segment)
                s.sealedDeletes.append(Bitset(count: segment.rowCount))
                s.sealedDeleteCounts.append(0)
                s.segmentIndex[segment.id] = index
            }
            // Swapped, so that the old index and rows are released after the lock (freeing them is O(rows)).
            swap(&s.pkIndex, &pkIndex)
            swap(&s.growing, &growing)
            s.dirtyDeletes = []
            s.wal = newWAL
        }
        oldWAL.close()

        // Step 4.
        var obsolete = [String]()
        for n in frozen.manifest.walStart...oldWAL.number { obsolete.append(FileNames.wal(n)) }
        let kept = Set(next.segments.compactMap(\.deleteFile))
        for name in frozen.manifest.segments.compactMap(\.deleteFile) where !kept.contains(name) { obsolete.append(name) }
        for entry in dropped {
            obsolete.append(FileNames.segment(entry.id))
            obsolete += entry.indexFiles.values
        }
        for name in obsolete {
            do { try FileSystem.remove(directory + "/" + name) } catch {
                log(.warning, "could not remove obsolete file '\(directory)/\(name)': \(error)")
            }
        }
    }
}
