/// Aliases: second names of collections, with Milvus's semantics.
///
/// An alias names exactly one collection; a collection may have any number of aliases. Aliases
/// and collection names share one namespace: an alias cannot have a collection's name, and a
/// collection cannot be created or renamed to an alias's name. Every call that takes a collection
/// name takes an alias too (`insert`, `search`, `query`, `describeCollection`, `createIndex`, …;
/// the name is resolved in one place, under the database's lock), except
/// ``dropCollection(_:)-1avba``, which wants the collection's own name and refuses while aliases
/// name it.
///
/// The blue/green pattern: build the new version of a collection beside the old one, then move
/// the alias in one atomic step; readers that search through the alias see the old collection
/// until `alterAlias(_:alias:)` returns and the new one after it.
///
/// ```swift
/// try db.createAlias("docs_v1", alias: "docs")
/// // … fill and index "docs_v2" …
/// try db.alterAlias("docs_v2", alias: "docs")      // searches of "docs" now read docs_v2
/// try db.dropCollection("docs_v1")
/// ```
///
/// Aliases are kept in the catalog by collection id, so renaming a collection keeps them, and
/// every change is one atomic catalog replacement (*Durability*, rule 19): after a crash or a
/// power cut an alias names its old collection or its new one, never neither.
extension Database {
    /// Creates `alias` as a second name of `collection` (a collection's name, or an alias: the
    /// new alias then names the same collection).
    ///
    /// - Throws: `.alreadyExists` when `alias` is an alias already (move it with
    ///   `alterAlias(_:alias:)`) or a collection's name; `.notFound` when there is no
    ///   such collection; `.invalidArgument` for a bad name; `.io` when the catalog cannot be
    ///   written (nothing changes); `.unsupported` on a read-only database.
    public func createAlias(_ collection: String, alias: String) throws {
        try Names.validateAlias(alias)
        try changeAliases { s, catalog in
            if let current = s.catalog.aliases[alias] {
                let target = s.catalog.collections.first { $0.id == current }?.name ?? "?"
                throw QuiverError(.alreadyExists, "alias '\(alias)' already exists (of collection '\(target)'); alterAlias moves it")
            }
            try s.checkNameIsFree(alias)
            catalog.aliases[alias] = try s.collection(collection).slot.id
        }
    }

    /// Points the existing `alias` at `collection` instead (a collection's name, or an alias:
    /// `alias` then names the collection that one names): the atomic switch of the blue/green
    /// pattern. Calls that resolved the alias before the switch finish on the old collection;
    /// calls made after it returns use the new one.
    ///
    /// - Throws: `.notFound` when `alias` is no alias or there is no such collection;
    ///   `.invalidArgument` when `alias` is a collection's name; `.io` when the catalog cannot be
    ///   written (the alias keeps its collection); `.unsupported` on a read-only database.
    public func alterAlias(_ collection: String, alias: String) throws {
        try changeAliases { s, catalog in
            try Self.checkIsAlias(alias, in: s)
            catalog.aliases[alias] = try s.collection(collection).slot.id
        }
    }

    /// Removes `alias`; its collection stays.
    ///
    /// - Throws: `.notFound` when there is no such alias; `.invalidArgument` when `alias` is a
    ///   collection's name; `.io` when the catalog cannot be written (the alias stays);
    ///   `.unsupported` on a read-only database.
    public func dropAlias(_ alias: String) throws {
        try changeAliases { s, catalog in
            try Self.checkIsAlias(alias, in: s)
            catalog.aliases[alias] = nil
        }
    }

    /// The name of the collection `alias` names (Milvus's `describe_alias`).
    ///
    /// - Throws: `.notFound` when there is no such alias; `.invalidArgument` when `alias` is a
    ///   collection's name; `.closed` after ``close()-1qu38``.
    public func describeAlias(_ alias: String) throws -> String {
        try withCatalog { s in
            try Self.checkIsAlias(alias, in: s)
            return s.resolve(alias)!
        }
    }

    /// The aliases of `collection` (a collection's name or one of its aliases), or of every
    /// collection when `collection` is `nil`; sorted.
    ///
    /// - Throws: `.notFound` when there is no such collection; `.closed` after ``close()-1qu38``.
    public func listAliases(_ collection: String? = nil) throws -> [String] {
        try withCatalog { s in
            guard let collection else { return s.catalog.aliases.keys.sorted() }
            return s.catalog.aliases(of: try s.collection(collection).slot.id)
        }
    }

    /// Throws unless `alias` is an alias.
    private static func checkIsAlias(_ alias: String, in s: State) throws {
        guard s.catalog.aliases[alias] == nil else { return }
        if s.resolve(alias) != nil {
            throw QuiverError.invalidArgument("'\(alias)' is a collection, not an alias")
        }
        throw QuiverError.notFound("alias '\(alias)' does not exist")
    }

    /// The one way aliases change: `body` edits a copy of the catalog, which is then written
    /// atomically (`CATALOG.tmp`, `fsync`, `rename`, `fsync` of the directory) before memory
    /// takes it, so a failure at any point leaves the aliases as they were.
    private func changeAliases(_ body: (State, inout Catalog) throws -> Void) throws {
        try withCatalog { s in
            var catalog = s.catalog
            try body(s, &catalog)
            try writeCatalog(catalog)
            s.catalog = catalog
        }
    }
}
