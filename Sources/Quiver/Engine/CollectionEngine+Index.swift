import Dispatch

/// Index definitions and per-segment index builds.
///
/// An index is built per sealed segment on `indexQueue` (one build at a time), never under a
/// lock: the locks are taken only to pick the work and, at the end, to switch the manifest to one
/// that lists the new file (written holding `writeLock`, without `state`'s lock). Until then the
/// segment is searched exactly. A build whose segment was compacted away, or whose index was
/// dropped meanwhile, discards its file. `close` cancels the running build (`BuildCancellation`):
/// nothing of it is written, and the next open schedules it again.
extension CollectionEngine {
    /// Defines an index on `field`, named `name` (the field's name when nil); builds start at once
    /// in the background for the sealed segments.
    func createIndex(field: FieldSchema, type: IndexType, metric requested: MetricType?, params: [String: Value], name: String?) throws {
        let name = name ?? field.name
        if field.dataType.isSparseVector {
            // Sparse fields are compared with IP whatever the collection's metric (Milvus's rule).
            if let requested, requested != .ip {
                throw QuiverError.invalidArgument("sparse vector field '\(field.name)' is searched with IP only, not \(requested.rawValue)")
            }
            try Names.validateIndex(name)
            try schema.checkBM25IndexParams(params, field: field)
            let type = type == .autoIndex ? .sparseInvertedIndex : type
            guard type.isSparse || type == .flat else {
                throw QuiverError.invalidArgument(
                    "\(type.rawValue) indexes dense vectors; index sparse field '\(field.name)' with SPARSE_INVERTED_INDEX or SPARSE_WAND")
            }
            return try define(field: field, name: name, type: type, params: IndexBuildParams(type: type, params: params))
        }
        if let requested, requested != metric {
            throw QuiverError.invalidArgument("index metric \(requested.rawValue) differs from the collection's \(metric.rawValue)")
        }
        try Names.validateIndex(name)
        if type.isSparse {
            throw QuiverError.invalidArgument("\(type.rawValue) indexes sparse vectors; '\(field.name)' is \(field.dataType.name)")
        }
        guard case .floatVector = field.dataType else {
            if type == .flat { return try define(field: field, name: name, type: type, params: IndexBuildParams(type: type, params: params)) }
            throw QuiverError(.unsupported, "\(type.rawValue) indexes float vectors; '\(field.name)' is \(field.dataType.name) (use FLAT)")
        }
        try define(field: field, name: name, type: type, params: IndexBuildParams(type: type, params: params))
    }

    private func define(field: FieldSchema, name: String, type: IndexType, params: IndexBuildParams) throws {
        try serialized {
            var next = state.withLock { $0.manifest }
            if let existing = next.indexes.first(where: { $0.field == field.name }) {
                if existing.type == type && existing.params == params && existing.name == name { return }
                throw QuiverError(
                    .alreadyExists, "field '\(field.name)' already has a \(existing.type.rawValue) index named '\(existing.name)'; drop it first")
            }
            if let other = next.indexes.first(where: { $0.name == name }) {
                throw QuiverError(.alreadyExists, "the index name '\(name)' is taken by the index of field '\(other.field)'")
            }
            next.version += 1
            next.indexes.append(IndexDefinition(
                field: field.name, name: name, type: type, metric: field.dataType.isSparseVector ? .ip : metric, params: params,
                generation: next.nextIndexNumber))
            next.nextIndexNumber += 1
            try switchManifest(to: next)
        }
        requestPacking()  // schedules the builds, after the packing where one is due
    }

    /// Removes the index of `field` and its files.
    func dropIndex(field: String) throws {
        try serialized {
            var next = state.withLock { $0.manifest }
            guard next.indexes.contains(where: { $0.field == field }) else {
                throw QuiverError.notFound("field '\(field)' has no index")
            }
            next.version += 1
            next.indexes.removeAll { $0.field == field }
            var obsolete = [String]()
            for i in next.segments.indices {
                if let name = next.segments[i].indexFiles.removeValue(forKey: field) { obsolete.append(name) }
            }
            try switchManifest(to: next) { s in
                for id in s.segmentIndexes.keys { s.segmentIndexes[id]![field] = nil }
            }
            for name in obsolete { removeLogged(name) }
        }
    }

    func indexDefinitions() throws -> [IndexDefinition] {
        try state.withLock { s in
            guard !s.closed else { throw QuiverError(.closed, "the collection is closed or was dropped") }
            return s.manifest.indexes
        }
    }

    func describeIndex(field: String) throws -> IndexDescription {
        try state.withLock { s in
            guard !s.closed else { throw QuiverError(.closed, "the collection is closed or was dropped") }
            guard let def = s.manifest.indexes.first(where: { $0.field == field }) else {
                throw QuiverError.notFound("field '\(field)' has no index")
            }
            var indexed = 0, pending = s.growing.rowCount - s.growing.deleted.cardinality
            for (i, entry) in s.manifest.segments.enumerated() {
                let live = entry.rowCount - s.sealedDeletes[i].cardinality
                if def.type == .flat || entry.indexFiles[field] != nil { indexed += live } else { pending += live }
            }
            let sealedPending = s.manifest.segments.contains { def.type != .flat && $0.indexFiles[field] == nil }
            return IndexDescription(
                field: field, name: def.name, type: def.type, metric: def.metric, params: def.params.stored(for: def.type),
                state: sealedPending ? .inProgress : .finished, indexedRows: indexed, pendingRows: pending)
        }
    }

    /// Blocks until every scheduled index build has finished.
    func waitForIndexBuilds() {
        // A build waits for a compaction due on its segment (`scheduleIndexBuilds`), which
        // schedules it when done: wait for both until neither is left.
        repeat {
            compactionGroup.wait()
            indexGroup.wait()
        } while state.withLock { $0.compacting || !$0.building.isEmpty }
    }

    /// Writes `next` as the manifest (inside `serialized`, without `state`'s lock), then makes
    /// it the state's manifest and runs `then` on the state, under `state`'s lock.
    private func switchManifest(to next: Manifest, then: (inout State) -> Void = { _ in }) throws {
        do {
            try FileSystem.replaceAtomically(directory + "/" + FileNames.manifest, next.encode())
        } catch let error as QuiverError {
            throw markFailed(error)
        }
        state.withLock { s in
            s.manifest = next
            then(&s)
        }
    }

    private func removeLogged(_ name: String) {
        do { try FileSystem.remove(directory + "/" + name) } catch {
            options.logHandler(.warning, "could not remove obsolete index file '\(directory)/\(name)': \(error)")
        }
    }

    /// The key of a scheduled or running build in `State.building`.
    static func buildKey(segment: UInt64, definition def: IndexDefinition) -> String {
        "\(segment)/\(def.field)/\(def.generation)"
    }

    /// Schedules a build for every (sealed segment, index) pair that has no file and no build yet.
    func scheduleIndexBuilds() {
        guard !options.readOnly else { return }
        let jobs: [(segment: SealedSegment, definition: IndexDefinition, key: String)] = state.withLock { s in
            guard !s.closed, !s.closing, s.failure == nil else { return [] }
            var jobs = [(segment: SealedSegment, definition: IndexDefinition, key: String)]()
            let awaiting = segmentsAwaitingCompaction(s)
            for def in s.manifest.indexes where def.type != .flat {
                for entry in s.manifest.segments where entry.indexFiles[def.field] == nil && !awaiting.contains(entry.id) {
                    let key = Self.buildKey(segment: entry.id, definition: def)
                    guard !s.building.contains(key) else { continue }
                    s.building.insert(key)
                    jobs.append((s.sealed[s.segmentIndex[entry.id]!], def, key))
                }
            }
            return jobs
        }
        for job in jobs {
            indexGroup.enter()
            indexQueue.async { [self] in
                defer { indexGroup.leave() }
                do {
                    try build(segment: job.segment, definition: job.definition)
                } catch let error as QuiverError where error.code == .closed {
                } catch {
                    options.logHandler(.error, "building the \(job.definition.type.rawValue) index of segment \(job.segment.id) failed: \(error)")
                }
                state.withLock { _ = $0.building.remove(job.key) }
            }
        }
    }

    private func build(segment: SealedSegment, definition def: IndexDefinition) throws {
        let number: UInt64? = writeLock.withLock { _ in
            state.withLock { s in
                guard !s.closed, !s.closing, s.failure == nil else { return nil }
                defer { s.manifest.nextIndexNumber += 1 }  // written with the next manifest
                return s.manifest.nextIndexNumber
            }
        }
        guard let number else { return }
        let field = schema.field(named: def.field)!
        let index: SegmentIndex?
        if case .sparse(let rows)? = segment.column(named: def.field)?.storage {
            index = SparseInvertedIndex.build(rows, cancel: buildCancellation).map { .sparse($0) }
        } else {
            let d = field.dataType.dimension!
            let space = VectorSpace(
                vectors: try segment.vectors(def.field), norms: try segment.norms(def.field), count: segment.rowCount, dimension: d, metric: metric)
            // A build reads every row, at random: read ahead while it runs (VectorVerifier).
            index = VectorVerifier.readingWhole(segment.verifiers[...]) {
                withExtendedLifetime(segment) {
                    SegmentIndex.build(def.type, params: def.params, space: space, threads: max(1, options.indexBuildThreads), cancel: buildCancellation)!
                }
            }
        }
        guard let index, !buildCancellation.isCancelled else { throw QuiverError(.closed, "the index build was cancelled: the collection is closing") }
        let name = FileNames.index(segment: segment.id, number: number)
        let path = directory + "/" + name
        try FileSystem.writeFile(path, IndexFile.encode(index, segmentID: segment.id, metric: def.metric))
        try FileSystem.syncDirectory(directory)
        let installed = try writeLock.withLock { _ -> Bool in
            let current = state.withLock { s -> Manifest? in
                guard !s.closed, s.failure == nil else { return nil }
                return s.manifest
            }
            guard var next = current,
                next.indexes.contains(where: { $0.field == def.field && $0.generation == def.generation }),
                let position = next.segments.firstIndex(where: { $0.id == segment.id }),
                next.segments[position].indexFiles[def.field] == nil
            else { return false }
            next.version += 1
            next.segments[position].indexFiles[def.field] = name
            try switchManifest(to: next) { s in s.segmentIndexes[segment.id, default: [:]][def.field] = index }
            return true
        }
        if !installed { removeLogged(name) }
    }
}
