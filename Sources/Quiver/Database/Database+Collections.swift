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
            catalog.collections.append(Catalog.Entry(id: id, name: name, schema: schema, metric: metric))
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
            s.engines[name] = engine
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
        try withCatalog { (Array($0.engines.keys) + $0.damaged.keys).sorted() }
    }

    /// The schema, metric, row count and aliases of a collection. Given an alias, it describes
    /// the collection the alias names, under that collection's name.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``.
    public func describeCollection(_ name: String) throws -> CollectionDescription {
        let (resolved, e, aliases) = try withCatalog { s in
            let (resolved, e) = try s.collection(name)
            return (resolved, e, s.catalog.aliases(of: e.id))
        }
        return CollectionDescription(
            name: resolved, schema: e.schema, metric: e.metric, rowCount: try e.stats().rowCount, aliases: aliases)
    }

    /// Row count (exact after deletes and upserts) and segment counts.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``.
    public func collectionStats(_ name: String) throws -> CollectionStats {
        try engine(name).stats()
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
        let (engine, directory) = try withCatalog { s -> (CollectionEngine?, String) in
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
            s.damaged[name] = nil
            return (s.engines.removeValue(forKey: name), path + "/" + FileNames.collectionDirectory(entry.id))
        }
        if let engine {
            do { try engine.close(flush: false) } catch {
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
            let (name, engine) = try s.collection(name)
            try s.checkNameIsFree(newName)
            var catalog = s.catalog
            for i in catalog.collections.indices where catalog.collections[i].name == name {
                catalog.collections[i].name = newName
            }
            try writeCatalog(catalog)
            s.catalog = catalog
            s.engines[name] = nil
            s.engines[newName] = engine
        }
    }

    /// Changes the metric of a collection that has no index.
    ///
    /// Nothing stored depends on the metric until an index is built (exact search computes
    /// distances at query time), so this only rewrites the catalog. It exists for Milvus's
    /// protocol, where a collection's metric is chosen by its first `CreateIndex`, after the
    /// collection is created and possibly filled. The collection is reopened with the new metric
    /// (flushing its growing segment); a call that started on it just before may fail with `.closed`.
    ///
    /// - Throws: `.notFound`; `.invalidArgument` when the metric cannot compare the collection's
    ///   vectors or the collection has an index (drop it first); `.io` when the catalog cannot be
    ///   written (the old metric stays); `.corruption` for a damaged collection.
    public func changeMetric(of name: String, to metric: MetricType) throws {
        guard !options.readOnly else {
            throw QuiverError(.unsupported, "the database was opened read-only; open it without `readOnly` to change a metric")
        }
        try withCatalog { s in
            let (name, engine) = try s.collection(name)
            for field in engine.schema.vectorFields { try metric.check(for: field) }
            guard metric != engine.metric else { return }
            guard try engine.indexDefinitions().isEmpty else {
                throw QuiverError.invalidArgument(
                    "collection '\(name)' has an index with metric \(engine.metric.rawValue); drop it before changing the metric")
            }
            var catalog = s.catalog
            for i in catalog.collections.indices where catalog.collections[i].name == name {
                catalog.collections[i].metric = metric
            }
            try engine.close(flush: true)
            s.engines[name] = nil
            // From here on the collection is closed; whatever happens it is reopened from the
            // catalog that is on disk, so memory never disagrees with it.
            // A collection that fails to reopen is recorded as damaged, as at open.
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
            do {
                s.engines[name] = try CollectionEngine(
                    id: entry.id, directory: path + "/" + FileNames.collectionDirectory(entry.id), schema: entry.schema,
                    metric: entry.metric, options: options, create: false)
            } catch let error as QuiverError {
                s.damaged[name] = error
                throw failure ?? error
            }
            if let failure { throw failure }
        }
    }

    // MARK: Load state
    //
    // The embedded engine keeps every collection searchable while the database is open: its
    // segments are opened at `open` and new rows are searchable at once. So every collection is
    // loaded, `loadCollection` only checks that the collection exists, and `releaseCollection` is
    // accepted and frees nothing (the collection stays loaded) until release is given a meaning.

    /// Makes a collection searchable (Milvus's `load_collection`). In the embedded engine every
    /// collection is loaded while the database is open, so this only checks that it exists.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.corruption` for a damaged one;
    ///   `.closed` after ``close()-1qu38``.
    public func loadCollection(_ name: String) throws {
        _ = try engine(name)
    }

    /// Accepts Milvus's `release_collection`. The embedded engine does not release a collection:
    /// it stays loaded and searchable, and its memory is not given back (``loadState(_:)`` still
    /// answers ``LoadState/loaded``).
    ///
    /// - Throws: `.notFound` when there is no such collection; `.corruption` for a damaged one;
    ///   `.closed` after ``close()-1qu38``.
    public func releaseCollection(_ name: String) throws {
        _ = try engine(name)
    }

    /// Whether a collection is loaded: ``LoadState/loaded`` for every collection of the open
    /// database, ``LoadState/notLoad`` for a damaged one (see ``damagedCollections``: it cannot be
    /// searched), ``LoadState/notExist`` for a name no collection or alias has.
    ///
    /// - Throws: `.closed` after ``close()-1qu38``.
    public func loadState(_ name: String) throws -> LoadState {
        try withCatalog { s in
            guard let name = s.resolve(name) else { return .notExist }
            return s.engines[name] != nil ? .loaded : .notLoad
        }
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
        let engine = try engine(name)
        var compacted = false
        while try engine.compact(.all) { compacted = true }  // one partition at a time
        return compacted
    }

    /// Seals the collection's growing segment into a segment file and records its deletes.
    ///
    /// With ``DatabaseOptions/autoCompaction`` on, a flush also tells background compaction that
    /// loading is done for now: it packs the small segments left by the load up to
    /// ``DatabaseOptions/segmentTargetBytes``, and indexes are built on the packed segments.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``. `.io` when the segment or the manifest cannot be written.
    public func flush(_ name: String) throws {
        try engine(name).flush()
    }
}
