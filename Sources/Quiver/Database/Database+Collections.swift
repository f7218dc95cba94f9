/// Creating, listing, describing, renaming and dropping collections.
extension Database {
    /// Creates a collection the quick way (like pymilvus): an `id` primary key, a `vector`
    /// field of `dimension` floats, and dynamic fields on.
    ///
    /// ```swift
    /// try db.createCollection("docs", dimension: 384, metric: .cosine)
    /// ```
    /// - Throws: `.alreadyExists` when the name is taken; `.invalidArgument` for a bad name or dimension.
    public func createCollection(
        _ name: String, dimension: Int, metric: MetricType = .cosine, idType: IDType = .int64, autoID: Bool = false
    ) throws {
        let schema = try CollectionSchema.quick(dimension: dimension, idType: idType, autoID: autoID)
        try createCollection(name, schema: schema, metric: metric)
    }

    /// Creates a collection with an explicit schema.
    ///
    /// - Throws: `.alreadyExists` when the name is taken by a collection or an alias;
    ///   `.invalidArgument` for a bad name.
    public func createCollection(_ name: String, schema: CollectionSchema, metric: MetricType = .cosine) throws {
        try Names.validateCollection(name)
        guard !options.readOnly else {
            throw QuiverError(.unsupported, "the database was opened read-only; open it without `readOnly` to create collections")
        }
        for field in schema.vectorFields { try metric.check(for: field) }
        try withCatalog { s in
            try s.checkNameIsFree(name)
            var catalog = s.catalog
            let id = catalog.nextCollectionID
            catalog.nextCollectionID += 1
            let entry = Catalog.Entry(id: id, name: name, schema: schema, metric: metric)
            catalog.collections.append(entry)
            let directory = path + "/" + FileNames.collectionDirectory(id)
            try? FileSystem.removeTree(directory)  // a leftover of a create that crashed before its catalog write
            let engine = try CollectionEngine(id: id, directory: directory, schema: schema, metric: metric, options: options, create: true)
            do {
                try writeCatalog(catalog)
            } catch {
                try? engine.close(flush: false)
                try? FileSystem.removeTree(directory)
                throw error
            }
            s.catalog = catalog
            s.slots[name] = CollectionSlot(entry: entry, databasePath: path, options: options, engine: engine)
        }
    }

    /// `true` when a collection named `name` exists (a damaged one included), or `name` is an
    /// alias; `false` after ``close()-1qu38``. It never throws, and it is also
    /// ``VectorDatabase``'s `hasCollection`.
    public func hasCollection(_ name: String) -> Bool {
        (try? withCatalog { $0.resolve(name) != nil }) ?? false
    }

    /// The names of the collections, sorted (damaged ones included, see ``damagedCollections``;
    /// aliases are not collections: see `listAliases(_:)`).
    ///
    /// - Throws: `.closed` after ``close()-1qu38``.
    public func listCollections() throws -> [String] {
        try withCatalog { $0.slots.keys.sorted() }
    }

    /// The schema, metric, row count and aliases of a collection. Given an alias, it describes
    /// the collection the alias names, under that collection's name. The row count needs the
    /// collection's engine: it is loaded when it is not (a released collection stays released).
    ///
    /// - Throws: `.notFound` when there is no such collection; `.corruption` for a damaged one;
    ///   `.closed` after ``close()-1qu38``.
    public func describeCollection(_ name: String) throws -> CollectionDescription {
        let (resolved, slot, aliases) = try withCatalog { s in
            let (resolved, slot) = try s.collection(name)
            return (resolved, slot, s.catalog.aliases(of: slot.id))
        }
        let rowCount = try slot.withEngine(name: resolved, .manage) { try $0.stats().rowCount }
        return CollectionDescription(name: resolved, schema: slot.schema, metric: slot.metric, rowCount: rowCount, aliases: aliases)
    }

    /// Row count (exact after deletes and upserts) and segment counts. Loads the collection's
    /// engine when it is not loaded (a released collection stays released).
    ///
    /// - Throws: `.notFound` when there is no such collection; `.corruption` for a damaged one;
    ///   `.closed` after ``close()-1qu38``.
    public func collectionStats(_ name: String) throws -> CollectionStats {
        try withEngine(name, .manage) { try $0.stats() }
    }

    /// Deletes a collection and its files. Handles to it throw `.closed` afterwards. A damaged
    /// collection (see ``damagedCollections``) is dropped the same way. As in Milvus, a collection
    /// is dropped by its own name, never through an alias, and only once no alias names it (drop
    /// or move its aliases first), so no alias is ever left naming nothing.
    ///
    /// The catalog switch is immediate; waiting for the collection's running compaction or
    /// index build and removing its files happen after it, without the database's lock, so the
    /// other collections are not held up meanwhile.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.invalidArgument` when `name` is
    ///   an alias or the collection has aliases; `.io` when the catalog cannot be rewritten (the
    ///   collection is then still there). A failure to remove the files afterwards is logged as a
    ///   warning, not thrown.
    public func dropCollection(_ name: String) throws {
        let (slot, directory) = try withCatalog { s -> (CollectionSlot?, String) in
            guard let resolved = s.resolve(name) else { throw QuiverError.notFound("collection '\(name)' does not exist") }
            guard resolved == name, let entry = s.catalog.collections.first(where: { $0.name == name }) else {
                throw QuiverError.invalidArgument(
                    "'\(name)' is an alias of collection '\(resolved)'; drop the alias with dropAlias, or the collection by its own name")
            }
            let aliases = s.catalog.aliases(of: entry.id)
            guard aliases.isEmpty else {
                throw QuiverError.invalidArgument(
                    "collection '\(name)' has aliases \(aliases); drop them or point them at another collection first")
            }
            var catalog = s.catalog
            catalog.collections.removeAll { $0.name == name }
            try writeCatalog(catalog)
            s.catalog = catalog
            return (s.slots.removeValue(forKey: name), path + "/" + FileNames.collectionDirectory(entry.id))
        }
        if let slot {
            do { try slot.shutdown(flush: false, reason: QuiverError(.closed, "collection '\(name)' was dropped")) } catch {
                options.logHandler(.warning, "collection '\(name)' dropped, but closing it failed: \(error)")
            }
        }
        do { try FileSystem.removeTree(directory) } catch {
            options.logHandler(.warning, "collection '\(name)' dropped, but removing '\(directory)' failed: \(error)")
        }
    }

    /// Renames a collection (given by its name or an alias). Its aliases go with it.
    ///
    /// - Throws: `.notFound`; `.alreadyExists` when a collection or an alias has the new name;
    ///   `.invalidArgument` for a bad new name.
    public func renameCollection(_ name: String, to newName: String) throws {
        try Names.validateCollection(newName)
        try withCatalog { s in
            let (name, slot) = try s.collection(name)
            try s.checkNameIsFree(newName)
            var catalog = s.catalog
            for i in catalog.collections.indices where catalog.collections[i].name == name {
                catalog.collections[i].name = newName
            }
            try writeCatalog(catalog)
            s.catalog = catalog
            s.slots[name] = nil
            s.slots[newName] = slot
        }
    }

    /// Changes the metric of a collection that has no index.
    ///
    /// Nothing stored depends on the metric until an index is built (exact search computes
    /// distances at query time), so this only rewrites the catalog. It exists for Milvus's
    /// protocol, where a collection's metric is chosen by its first `CreateIndex`, after the
    /// collection is created and possibly filled. The collection is closed (flushing its growing
    /// segment; running calls finish first) and loaded with the new metric by the next call that
    /// uses it, keeping its load state; a call that started on it just before may fail with `.closed`.
    ///
    /// - Throws: `.notFound`; `.invalidArgument` when the metric cannot compare the collection's
    ///   vectors or the collection has an index (drop it first); `.io` when the catalog cannot be
    ///   written (the old metric stays); `.corruption` for a damaged collection.
    public func changeMetric(of name: String, to metric: MetricType) throws {
        guard !options.readOnly else {
            throw QuiverError(.unsupported, "the database was opened read-only; open it without `readOnly` to change a metric")
        }
        try withCatalog { s in
            let (name, slot) = try s.collection(name)
            for field in slot.schema.vectorFields { try metric.check(for: field) }
            guard metric != slot.metric else { return }
            guard try slot.withEngine(name: name, .manage, { try $0.indexDefinitions() }).isEmpty else {
                throw QuiverError.invalidArgument(
                    "collection '\(name)' has an index with metric \(slot.metric.rawValue); drop it before changing the metric")
            }
            var catalog = s.catalog
            for i in catalog.collections.indices where catalog.collections[i].name == name {
                catalog.collections[i].metric = metric
            }
            let released = slot.isReleased
            try slot.shutdown(flush: true, reason: QuiverError(.closed, "collection '\(name)' was reopened with metric \(metric.rawValue)"))
            // From here on the collection is closed; whatever happens its next load reads the
            // catalog that is on disk, so memory never disagrees with it.
            var written = s.catalog
            var failure: (any Error)?
            do {
                try writeCatalog(catalog)
                written = catalog
            } catch {
                failure = error
            }
            s.catalog = written
            let entry = written.collections.first { $0.name == name }!
            s.slots[name] = CollectionSlot(entry: entry, databasePath: path, options: options, released: released)
            if let failure { throw failure }
        }
    }

    // MARK: Load state (see CollectionSlot and <doc:LoadAndRelease>)

    /// Loads a collection (Milvus's `load_collection`): opens its segments, indexes and WAL now
    /// rather than at its first use, and lets search, query and get in again after
    /// `releaseCollection(_:)`. Loading a loaded collection does nothing.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.corruption` when its files are
    ///   damaged (it is then listed in ``damagedCollections``); `.io`; `.closed` after ``close()-1qu38``.
    /// - Complexity: reads (or maps) every segment and index file of the collection and replays its WAL.
    public func loadCollection(_ name: String) throws {
        let (resolved, slot) = try withCatalog { try $0.collection(name) }
        try slot.load(name: resolved)
    }

    /// Releases a collection (Milvus's `release_collection`): search, query and get throw
    /// `.notLoaded` until `loadCollection(_:)`; calls running on it finish first; then its
    /// engine is closed — background compaction and index builds stopped (an interrupted build
    /// starts again at the next load), the growing segment flushed, segments, indexes and the
    /// primary-key index freed. Writes, flushes, statistics and index calls still work on a
    /// released collection (as in Milvus): they open its engine again when they need it, and it
    /// stays ``LoadState/notLoad``. Releasing a released collection does nothing. The release
    /// lasts until this `Database` is closed; a reopened database loads every collection on demand.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.corruption` for a damaged one;
    ///   `.io` when the flush fails (the collection is released all the same, its rows safe in
    ///   the WAL); `.closed` after ``close()-1qu38``.
    public func releaseCollection(_ name: String) throws {
        let (resolved, slot) = try withCatalog { try $0.collection(name) }
        try slot.release(name: resolved)
    }

    /// Whether a collection is loaded: ``LoadState/loaded`` once a call has used it (or it was
    /// created or loaded by `loadCollection(_:)`) and it was not released since;
    /// ``LoadState/loading`` while its files are being read; ``LoadState/notLoad`` when no call
    /// has used it since the database was opened (the next one loads it), after
    /// `releaseCollection(_:)`, and for a damaged collection; ``LoadState/notExist`` for a name
    /// no collection or alias has. It never loads anything.
    ///
    /// - Throws: `.closed` after ``close()-1qu38``.
    public func loadState(_ name: String) throws -> LoadState {
        try withCatalog { s in
            guard let name = s.resolve(name), let slot = s.slots[name] else { return .notExist }
            return slot.loadState
        }
    }

    /// How many times the engine of collection `name` was opened since the database was (tests
    /// observe lazy loading through it).
    func loadCountForTesting(_ name: String) throws -> Int {
        try withCatalog { try $0.collection(name).slot.loadCount }
    }

    /// Merges the sealed segments of each of the collection's partitions into one, dropping
    /// deleted and replaced rows, and switches the manifest. Segments of different partitions are
    /// never merged. Writers and readers go on meanwhile; readers of an old snapshot keep working
    /// on the old segments.
    ///
    /// - Returns: whether there was anything to compact.
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``. `.io` when the merged segment or the manifest cannot be written
    ///   (the old segments stay in use).
    @discardableResult
    public func compact(_ name: String) throws -> Bool {
        try withEngine(name, .manage) { engine in
            var compacted = false
            while try engine.compact(.all) { compacted = true }  // one partition at a time
            return compacted
        }
    }

    /// Reads and verifies every stored byte of the collection that opening leaves to its first
    /// use: the vectors of every sealed segment and the layer-0 links and codes of every HNSW
    /// index file (`Documentation/FileFormats.md`, "Segment" and "Index file"), and that no
    /// primary key is live in two rows (it builds the primary-key index, as the first get or
    /// write would).
    ///
    /// A search verifies only what it reads, the first time it reads it, and throws
    /// `.corruption` before returning anything computed from a damaged part; this checks the
    /// whole collection now, for example after copying or restoring a database.
    ///
    /// ```swift
    /// try db.verify("docs")   // throws .corruption naming the damaged file and rows
    /// ```
    ///
    /// - Throws: `.corruption` naming the file (and the rows) that are damaged, or the segment in
    ///   which a primary key is live a second time; `.notFound` when there is no such collection;
    ///   `.closed` after ``close()-1qu38``.
    /// - Complexity: reads every stored vector, link block and code once, on all cores, and
    ///   every primary key once (the first time only).
    public func verify(_ name: String) throws {
        try withEngine(name, .read) { try $0.verify() }
    }

    /// Seals the collection's growing segment into a segment file and records its deletes.
    ///
    /// With ``DatabaseOptions/autoCompaction`` on, a flush also tells background compaction that
    /// loading is done for now: it packs the small segments left by the load up to
    /// ``DatabaseOptions/segmentTargetBytes``, and indexes are built on the packed segments.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``. `.io` when the segment or the manifest cannot be written.
    public func flush(_ name: String) throws {
        try withEngine(name, .manage) { try $0.flush() }
    }
}
