import ArgumentParser
import Quiver

extension QuiverCommand {
    /// `quiver rename DB COLLECTION NEW_NAME`: renames a collection; its aliases go with it.
    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a collection (given by its name or an alias); its aliases follow it.")
        @OptionGroup var target: CollectionArguments
        @Argument(help: "The new name.") var newName: String
        func run() async throws {
            try await withDatabase(target.database) { db in
                try await db.renameCollection(target.collection, to: newName)
                printJSON(["collection": .string(newName), "renamed_from": .string(target.collection)])
            }
        }
    }

    /// `quiver drop DB COLLECTION`: deletes a collection and its files.
    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a collection and all its data.",
            discussion: "As in Milvus, a collection is dropped by its own name and only once no alias names it (`quiver alias drop` first).")
        @OptionGroup var target: CollectionArguments
        func run() async throws {
            try await withDatabase(target.database) { db in
                try await db.dropCollection(target.collection)
                printJSON(["collection": .string(target.collection), "dropped": true])
            }
        }
    }

    /// `quiver load DB COLLECTION`: loads a collection (Milvus's `load_collection`) and prints its load state.
    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a collection into memory (Milvus's load_collection) and print its load state.",
            discussion: """
                On a server the collection stays loaded for every client. On a database path the load lasts \
                as long as this command: the embedded engine loads a collection at its first use anyway, so \
                this checks that the collection's files load (a damaged file is reported).
                """)
        @OptionGroup var target: CollectionArguments
        func run() async throws {
            try await withDatabase(target.database) { db in
                try await db.loadCollection(target.collection)
                try await printLoadState(of: target.collection, in: db)
            }
        }
    }

    /// `quiver release DB COLLECTION`: releases a collection (Milvus's `release_collection`) and prints its load state.
    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a collection's memory (Milvus's release_collection) and print its load state.",
            discussion: """
                On a server, search, query and get of the collection fail ("collection not loaded") until \
                `quiver load`. On a database path the release lasts as long as this command (the embedded \
                engine keeps no load state on disk), so it only checks that the collection exists.
                """)
        @OptionGroup var target: CollectionArguments
        func run() async throws {
            try await withDatabase(target.database) { db in
                try await db.releaseCollection(target.collection)
                try await printLoadState(of: target.collection, in: db)
            }
        }
    }
}

/// Prints `{"collection": …, "load_state": "Loaded"|"NotLoad"|…}` (pymilvus's `LoadState` names).
func printLoadState(of collection: String, in db: any VectorDatabase) async throws {
    printJSON(["collection": .string(collection), "load_state": .string(try await db.loadState(collection).rawValue)])
}
