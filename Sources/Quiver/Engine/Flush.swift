/// Flush: the growing segment becomes an immutable segment file, changed delete bitmaps become
/// delete files, and a new manifest switches to them atomically.
///
/// Order (a crash at any point leaves the old or the new state, never a mix):
/// 1. start a new WAL file (new writes go there);
/// 2. write and fsync the segment file and the delete files (names no manifest knows yet);
/// 3. write the manifest atomically (temp, fsync, rename, fsync directory) with the new
///    checkpoint sequence and the new WAL file as the start of replay;
/// 4. only then delete the old WAL files and the replaced delete files.
extension CollectionEngine.State {
    /// `load`: the new segment is read into memory rather than mapped (`!DatabaseOptions.memoryMapSegments`).
    mutating func flush(directory: String, schema: CollectionSchema, load: Bool, log: @Sendable (LogLevel, String) -> Void) throws {
        guard growing.rowCount > 0 || !dirtyDeletes.isEmpty else { return }
        guard let oldWAL = wal else { return }
        var created = [String]()
        func cleanUp() {
            for path in created { try? FileSystem.remove(path) }
        }
        let newWAL: WALWriter
        var newSegment: SealedSegment? = nil
        var liveRows = [Int]()
        var next = manifest
        next.version += 1
        do {
            newWAL = try WALWriter(directory: directory, number: oldWAL.number + 1)
            created.append(newWAL.path)
            let (content, rows) = growing.liveContent()
            liveRows = rows
            if content.rowCount > 0 {
                let id = next.nextSegmentID
                next.nextSegmentID += 1
                let path = directory + "/" + FileNames.segment(id)
                created.append(path)
                try SegmentWriter.write(content, id: id, path: path)
                newSegment = try SealedSegment(path: path, id: id, schema: schema, load: load)
                next.segments.append(Manifest.SegmentEntry(id: id, rowCount: content.rowCount, deleteFile: nil, deletedCount: 0))
            }
            for (i, entry) in next.segments.enumerated() where dirtyDeletes.contains(entry.id) {
                let bits = sealedDeletes[segmentIndex[entry.id]!]
                let name = FileNames.deletes(segment: entry.id, version: next.version)
                let path = directory + "/" + name
                created.append(path)
                try FileSystem.writeFile(path, DeleteFile.encode(segmentID: entry.id, deleted: bits))
                next.segments[i].deleteFile = name
                next.segments[i].deletedCount = bits.cardinality
            }
            try FileSystem.syncDirectory(directory)
            next.checkpointSequence = lastSequence
            next.walStart = newWAL.number
        } catch {
            cleanUp()
            throw error
        }
        do {
            try FileSystem.replaceAtomically(directory + "/" + FileNames.manifest, next.encode())
        } catch let error as QuiverError {
            // The rename may or may not have happened: memory can no longer be trusted to match disk.
            failure = error
            throw error
        }

        // The new state is durable; switch memory to it.
        let oldManifest = manifest
        manifest = next
        if let segment = newSegment {
            let index = sealed.count
            sealed.append(segment)
            sealedDeletes.append(Bitset(count: segment.rowCount))
            sealedDeleteCounts.append(0)
            segmentIndex[segment.id] = index
            for (newRow, oldRow) in liveRows.enumerated() {
                let key = CollectionEngine.primaryKey(segment.columns[schema.primaryField.name]!, newRow)
                assert(pkIndex[key] == RowLocation(segment: RowLocation.growing, row: Int32(oldRow)))
                pkIndex[key] = RowLocation(segment: segment.id, row: Int32(newRow))
            }
        }
        growing = GrowingSegment(schema: schema)
        dirtyDeletes = []
        oldWAL.close()
        wal = newWAL

        var obsolete = [String]()
        for n in oldManifest.walStart...oldWAL.number { obsolete.append(FileNames.wal(n)) }
        let kept = Set(manifest.segments.compactMap(\.deleteFile))
        for name in oldManifest.segments.compactMap(\.deleteFile) where !kept.contains(name) { obsolete.append(name) }
        for name in obsolete {
            do { try FileSystem.remove(directory + "/" + name) } catch {
                log(.warning, "could not remove obsolete file '\(directory)/\(name)': \(error)")
            }
        }
    }
}
