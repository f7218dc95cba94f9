import Dispatch

/// One collection of an open database and its engine, opened on demand: the loading, release
/// and load state of a collection in one place.
///
/// `Database.open` reads only the catalog; a collection's engine (segments, indexes, WAL replay)
/// is opened by the first call that needs it or by `loadCollection`, and `releaseCollection`
/// closes it again. Every call reaches the engine through ``withEngine(name:_:_:)``, which loads
/// it when needed; nothing else opens or closes it (except ``shutdown(flush:reason:)`` at drop,
/// metric change and database close).
///
/// The rules (Milvus's, measured on Milvus Lite 3.2.2, except the first):
/// - A collection no call has used since the database was opened is not loaded
///   (``LoadState/notLoad``), and the first call of any kind loads it: the embedded engine does
///   not make a program call `loadCollection` after every `open` (Milvus Lite does: after a
///   restart every collection is NotLoad and a search fails until `load`).
/// - After ``release(name:)`` reads of rows (search, query, get) throw `.notLoaded` until
///   ``load(name:)``, as Milvus's "collection not loaded" (code 101): a program that released a
///   collection to give its memory back does not get it back silently by one stray search.
///   Writes, flushes, statistics, descriptions and index calls still work (as in Milvus); they
///   open the engine again when they need it, and the collection stays ``LoadState/notLoad``.
/// - Creating a collection leaves it loaded, like Milvus's quick `create_collection`.
///
/// Two locks: `state`'s, held only for memory work, and `transition`, held across a load and
/// across a release's close, so that a collection is loaded by one thread at a time (a second
/// caller waits and uses the engine the first opened) and never loaded while its old engine is
/// still being closed. Calls using the engine are counted in `users`; a release or shutdown
/// waits for them, so a search that started before a release finishes on its engine.
final class CollectionSlot: Sendable {
    /// What a call does with the collection: reading rows needs it loaded (not released).
    enum Access {
        /// Search, query and get: throw `.notLoaded` after a release until the collection is loaded.
        case read
        /// Everything else (writes, flush, compaction, stats, describe, indexes): loads the engine
        /// when needed without changing the load state.
        case manage
    }

    let id: UInt64
    let directory: String
    let schema: CollectionSchema
    let metric: MetricType
    private let options: DatabaseOptions
    private let state: Locked<State>
    /// Held across a load and across the close of a release or shutdown (see the type's comment).
    private let transition = Locked<Void>(())

    private struct State {
        var engine: CollectionEngine?
        /// The calls using `engine`; a new group for each loaded engine.
        var users = DispatchGroup()
        /// Released by `release` and not loaded since: row reads throw `.notLoaded`.
        var released = false
        var loading = false
        /// The engine failed to open with `.corruption`: every call throws it.
        var damage: QuiverError?
        /// Dropped, reopened with another metric, or the database closed: every call throws this.
        var gone: QuiverError?
        /// How many times an engine was opened (tests observe lazy loading through it).
        var loads = 0
    }

    /// A slot for the collection `entry` in database directory `path`, with `engine` open (a
    /// collection just created) or not loaded; `released` carries a release over a reopen.
    init(entry: Catalog.Entry, databasePath path: String, options: DatabaseOptions, engine: CollectionEngine? = nil, released: Bool = false) {
        id = entry.id
        directory = path + "/" + FileNames.collectionDirectory(entry.id)
        schema = entry.schema
        metric = entry.metric
        self.options = options
        state = Locked(State(engine: engine, released: released))
    }

    /// Runs `body` on the collection's engine, opening it first when it is not loaded; a release
    /// waits until `body` returns. `body` must not call the database about the same collection.
    ///
    /// - Throws: `.notLoaded` for a read after a release; `.corruption` when the collection's
    ///   files are damaged (remembered: see ``damage``); `.closed` once it is gone; what `body` throws.
    func withEngine<R>(name: String, _ access: Access, _ body: (CollectionEngine) throws -> R) throws -> R {
        let (engine, users) = try acquire(name: name, access)
        defer { users.leave() }
        return try body(engine)
    }

    /// Loads the collection (Milvus's `load_collection`): opens its engine when it is not open and
    /// lets reads in again after a release.
    ///
    /// - Throws: `.corruption` when its files are damaged; `.closed` once it is gone.
    func load(name: String) throws {
        let (_, users) = try acquire(name: name, .manage)
        state.withLock { $0.released = false }
        users.leave()
    }

    /// Releases the collection (Milvus's `release_collection`): reads throw `.notLoaded` from now
    /// on; the running calls finish, then the engine is closed (its background work cancelled
    /// or waited for, its growing segment flushed) and its memory given back.
    ///
    /// - Throws: `.corruption` for a damaged collection; `.closed` once it is gone; the flush's
    ///   error (the engine is closed all the same and the rows are safe in the WAL).
    func release(name: String) throws {
        try close(flush: !options.readOnly) { s in
            if let gone = s.gone { throw gone }
            if let damage = s.damage { throw Database.damaged(name, damage) }
            s.released = true
        }
    }

    /// Closes the engine for good: the slot throws `reason` from now on. Waits for a load in
    /// progress and for the calls using the engine.
    func shutdown(flush: Bool, reason: QuiverError) throws {
        try close(flush: flush) { s in
            if s.gone == nil { s.gone = reason }
        }
    }

    /// Applies `change` to the state and takes the engine out of it; then waits for its users
    /// and closes it, holding `transition` throughout.
    private func close(flush: Bool, _ change: (inout State) throws -> Void) throws {
        try transition.withLock { _ in
            let (engine, users) = try state.withLock { s in
                try change(&s)
                defer { s.engine = nil }
                return (s.engine, s.users)
            }
            guard let engine else { return }
            users.wait()
            try engine.close(flush: flush)
        }
    }

    /// The engine with one more user, opened when needed; see ``withEngine(name:_:_:)``.
    private func acquire(name: String, _ access: Access) throws -> (CollectionEngine, DispatchGroup) {
        if let entered = try state.withLock({ s in try Self.enter(&s, name: name, access) }) { return entered }
        return try transition.withLock { _ in
            let ready = try state.withLock { s -> (CollectionEngine, DispatchGroup)? in
                guard let entered = try Self.enter(&s, name: name, access) else {
                    s.loading = true
                    return nil
                }
                return entered
            }
            if let ready { return ready }
            do {
                let engine = try CollectionEngine(
                    id: id, directory: directory, schema: schema, metric: metric, options: options, create: false)
                return state.withLock { s in
                    s.loading = false
                    s.loads += 1
                    s.engine = engine
                    s.users = DispatchGroup()
                    s.users.enter()
                    return (engine, s.users)
                }
            } catch let error as QuiverError where error.code == .corruption {
                state.withLock { s in
                    s.loading = false
                    s.damage = error
                }
                options.logHandler(.error, "collection '\(name)' is damaged and was not loaded: \(error.message)")
                throw Database.damaged(name, error)
            } catch {
                state.withLock { $0.loading = false }
                throw error
            }
        }
    }

    /// Enters the open engine for `access`; `nil` when it must be opened first.
    private static func enter(_ s: inout State, name: String, _ access: Access) throws -> (CollectionEngine, DispatchGroup)? {
        if let gone = s.gone { throw gone }
        if let damage = s.damage { throw Database.damaged(name, damage) }
        if access == .read && s.released {
            throw QuiverError(.notLoaded, "collection '\(name)' was released; call loadCollection before search, query or get")
        }
        guard let engine = s.engine else { return nil }
        s.users.enter()
        return (engine, s.users)
    }

    /// The load state: ``LoadState/loaded`` when the engine is open and not released,
    /// ``LoadState/loading`` while it opens, else ``LoadState/notLoad``.
    var loadState: LoadState {
        state.withLock { s in
            if s.loading { return .loading }
            return s.engine != nil && !s.released && s.damage == nil ? .loaded : .notLoad
        }
    }

    /// Whether reads were refused by a release (carried over when the slot is replaced).
    var isReleased: Bool { state.withLock { $0.released } }

    /// The `.corruption` error the collection's files failed to open with, if they did.
    var damage: QuiverError? { state.withLock { $0.damage } }

    /// The open engine, without loading it (for the WAL group commit); `nil` when not loaded.
    var loadedEngine: CollectionEngine? { state.withLock { $0.engine } }

    /// How many times an engine was opened for this slot (test observation of lazy loading).
    var loadCount: Int { state.withLock { $0.loads } }
}
