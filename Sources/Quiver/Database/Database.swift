import Dispatch
import Synchronization

/// An open Quiver database: a directory holding collections, used by one `Database` at a time.
///
/// ```swift
/// let db = try Database.open(at: "./demo.quiver")
/// try db.createCollection("docs", dimension: 384, metric: .cosine)
/// try db.insert("docs", rows: [["id": 1, "vector": .vector(v), "text": "hello"]])
/// let hits = try db.search("docs", vectors: [q], limit: 3, outputFields: ["text"])
/// try db.close()
/// ```
///
/// A `Database` is `Sendable`: use it from any thread or task. Writes to a collection are
/// serialized; reads work on snapshots and never see half of a call.
public final class Database: Sendable {
    /// The database directory.
    public let path: String
    let options: DatabaseOptions
    private let fileLock: FileLock?
    private let state: Locked<State>
    private let syncTimer: UncheckedBox<DispatchSourceTimer>?

    struct State {
        var catalog: Catalog
        /// Every collection of the catalog by name, loaded or not (see ``CollectionSlot``).
        var slots: [String: CollectionSlot]
        var closed = false

        /// The name of the collection `name` refers to: `name` itself when a collection has it,
        /// else the collection the alias `name` names; `nil` for neither. Every call that takes a
        /// collection name resolves it here (through ``collection(_:)`` or directly), so each
        /// takes an alias too. Collection names and aliases share one namespace, so at most one
        /// of the two matches.
        func resolve(_ name: String) -> String? {
            if slots[name] != nil { return name }
            guard let id = catalog.aliases[name] else { return nil }
            return catalog.collections.first { $0.id == id }?.name
        }

        /// The collection `name` (a collection's name or an alias) refers to, and its name.
        ///
        /// - Throws: `.notFound` for neither; `.corruption` for a collection found damaged.
        func collection(_ name: String) throws -> (name: String, slot: CollectionSlot) {
            guard let resolved = resolve(name), let slot = slots[resolved] else {
                throw QuiverError.notFound("collection '\(name)' does not exist")
            }
            if let damage = slot.damage { throw Database.damaged(resolved, damage) }
            return (resolved, slot)
        }

        /// Throws `.alreadyExists` when `name` is taken by a collection or an alias.
        func checkNameIsFree(_ name: String) throws {
            guard let taken = resolve(name) else { return }
            throw QuiverError(.alreadyExists, taken == name
                ? "collection '\(name)' already exists"
                : "'\(name)' is an alias of collection '\(taken)' (collections and aliases share one namespace)")
        }
    }

    /// Opens the database at `path`, creating the directory when it does not exist. It reads the
    /// catalog only: each collection is loaded (its segments verified and read or mapped, its WAL
    /// replayed, its due background work started) by the first call that uses it or by
    /// `loadCollection(_:)`, so opening a database of many large collections costs
    /// milliseconds. See <doc:LoadAndRelease>.
    ///
    /// A collection whose files are damaged does not stop the others: when it is loaded, the
    /// call throws `.corruption` naming the damaged file, the collection is listed in
    /// ``damagedCollections``, and every later call that uses it throws the same
    /// (``dropCollection(_:)-1avba`` still removes it).
    ///
    /// - Throws: `.locked` when another `Database` in this or another process has it open;
    ///   `.corruption` when the catalog is damaged; `.io` when the directory cannot be used.
    public static func open(at path: String, options: DatabaseOptions = DatabaseOptions()) throws -> Database {
        try Database(path: path, options: options)
    }

    private init(path: String, options: DatabaseOptions) throws {
        let path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        self.path = path
        self.options = options
        if options.readOnly {
            guard FileSystem.isDirectory(path) else {
                throw QuiverError.notFound("database '\(path)' does not exist (read-only opening does not create it)")
            }
            fileLock = nil
        } else {
            if !FileSystem.exists(path) {
                try FileSystem.createDirectory(path)
                try FileSystem.syncDirectory(FileSystem.parentDirectory(of: path))
            } else if !FileSystem.isDirectory(path) {
                throw QuiverError(.invalidArgument, "'\(path)' exists and is not a directory")
            }
            fileLock = try FileLock(path: path + "/" + FileNames.lock, databasePath: path)
        }
        let catalogPath = path + "/" + FileNames.catalog
        var catalog = Catalog()
        if FileSystem.exists(catalogPath) {
            catalog = try Catalog.decode(try FileSystem.readFile(catalogPath), path: catalogPath)
        }
        var slots = [String: CollectionSlot]()
        for entry in catalog.collections {
            slots[entry.name] = CollectionSlot(entry: entry, databasePath: path, options: options)
        }
        if !options.readOnly { Self.removeUnnamedDirectories(path: path, catalog: catalog, log: options.logHandler) }
        state = Locked(State(catalog: catalog, slots: slots))
        if options.durability == .batched && !options.readOnly {
            let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
            let interval = options.syncInterval
            let ms = Int(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
            timer.schedule(deadline: .now() + .milliseconds(max(ms, 1)), repeating: .milliseconds(max(ms, 1)))
            syncTimer = UncheckedBox(timer)
        } else {
            syncTimer = nil
        }
        if let timer = syncTimer?.value {
            timer.setEventHandler { [weak self] in self?.syncAll() }
            timer.resume()
        }
    }

    /// Removes collection directories the catalog does not name: those of a drop whose unlinks a
    /// power cut undid, or of a create cut before its catalog switch (*Durability*, rules 18–19).
    private static func removeUnnamedDirectories(path: String, catalog: Catalog, log: @Sendable (LogLevel, String) -> Void) {
        let named = Set(catalog.collections.map { FileNames.collectionDirectory($0.id) })
        do {
            for name in try FileSystem.listDirectory(path) where FileNames.isCollectionDirectory(name) && !named.contains(name) {
                try FileSystem.removeTree(path + "/" + name)
            }
        } catch {
            log(.warning, "could not remove a collection directory no catalog names in '\(path)': \(error)")
        }
    }

    /// fsyncs every loaded collection's WAL (the `.batched` group commit; tests call it directly).
    func syncAll() {
        let slots = state.withLock { $0.closed ? [] : Array($0.slots.values) }
        for engine in slots.compactMap(\.loadedEngine) { engine.syncWAL() }
    }

    /// Flushes every loaded collection, closes its files and releases the directory lock at once.
    /// Calls running on a collection finish first; later calls on this `Database` throw
    /// `.closed`. Calling `close()` twice is harmless.
    ///
    /// - Throws: the first error a flush hit; the lock is released all the same.
    public func close() throws {
        try shutdown(flush: !options.readOnly)
    }

    /// Test hook: closes like a crashed process would leave things — no flush, no sync — and
    /// releases the lock, so the directory can be reopened and recovered.
    func abandonForTesting() {
        try? shutdown(flush: false)
    }

    /// Closes every collection (flushing it when `flush`) and releases the lock; the first time only.
    private func shutdown(flush: Bool) throws {
        let slots: [CollectionSlot]? = state.withLock { s in
            guard !s.closed else { return nil }
            s.closed = true
            return Array(s.slots.values)
        }
        guard let slots else { return }
        syncTimer?.value.cancel()
        var firstError: (any Error)? = nil
        let reason = QuiverError(.closed, "database '\(path)' is closed")
        for slot in slots {
            do { try slot.shutdown(flush: flush, reason: reason) } catch { if firstError == nil { firstError = error } }
        }
        fileLock?.release()
        if let firstError { throw firstError }
    }

    deinit {
        do { try close() } catch { options.logHandler(.error, "closing '\(path)' on deinit failed: \(error)") }
    }

    /// The collections found damaged when they were loaded, with what was wrong (`.corruption`,
    /// naming the damaged file). Collections are loaded on first use (see
    /// ``open(at:options:)-64w76``), so one not used yet is not here even if its files are damaged.
    /// They are listed by ``listCollections()-95163``; every other call on them throws
    /// `.corruption`; ``dropCollection(_:)-1avba`` removes them.
    public var damagedCollections: [String: QuiverError] {
        state.withLock { $0.slots.compactMapValues(\.damage) }
    }

    /// The error a call on damaged collection `name` throws.
    static func damaged(_ name: String, _ damage: QuiverError) -> QuiverError {
        QuiverError(.corruption, "collection '\(name)' is damaged and was not opened: \(damage.message)", cause: damage)
    }

    /// Runs `body` on the engine of the collection `name` (a collection's name or an alias)
    /// refers to, loading it first when needed: the one way every call reaches a collection's
    /// engine (see ``CollectionSlot``). The load runs without the database's lock, so other
    /// collections are not held up.
    ///
    /// - Throws: `.notFound` for an unknown name; `.notLoaded` for a `.read` of a released
    ///   collection; `.corruption` for a damaged one; `.closed`; what `body` throws.
    func withEngine<R>(_ name: String, _ access: CollectionSlot.Access, _ body: (CollectionEngine) throws -> R) throws -> R {
        let (resolved, slot) = try withCatalog { try $0.collection(name) }
        return try slot.withEngine(name: resolved, access, body)
    }

    /// Runs `body` on the catalog under the lock; when it returns a new catalog, writes it atomically.
    func withCatalog<R>(_ body: (inout State) throws -> R) throws -> R {
        try state.withLock { s in
            guard !s.closed else { throw QuiverError(.closed, "database '\(path)' is closed") }
            return try body(&s)
        }
    }

    func writeCatalog(_ catalog: Catalog) throws {
        guard !options.readOnly else {
            throw QuiverError(.unsupported, "the database was opened read-only; open it without `readOnly` to change collections")
        }
        try FileSystem.replaceAtomically(path + "/" + FileNames.catalog, catalog.encode())
    }
}
