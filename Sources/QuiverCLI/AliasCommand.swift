import ArgumentParser
import Quiver

extension QuiverCommand {
    /// `quiver alias create|alter|drop|list|describe`: a collection's second names, with Milvus's
    /// semantics (see `Database.createAlias(_:alias:)`). Every verb that takes a collection takes
    /// an alias too, except `drop`'s collection.
    struct Alias: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage aliases: second names of collections that can be moved in one atomic step.",
            discussion: """
                The blue/green pattern: fill a new collection beside the one an alias names, then \
                `quiver alias alter DB NEW ALIAS` switches every caller that uses the alias at once.
                """,
            subcommands: [Create.self, Alter.self, Drop.self, List.self, Describe.self]
        )

        /// Prints `{"alias": …, "collection": …}`: where `alias` points now.
        static func printTarget(of alias: String, in db: any VectorDatabase) async throws {
            printJSON(["alias": .string(alias), "collection": .string(try await db.describeAlias(alias))])
        }

        /// The arguments of `alias create` and `alias alter`.
        struct Assignment: ParsableArguments {
            @OptionGroup var target: CollectionArguments
            @Argument(help: "The alias.") var alias: String
        }

        /// The arguments of the verbs that name one alias.
        struct One: ParsableArguments {
            @OptionGroup var database: DatabaseArguments
            @Argument(help: "The alias.") var alias: String
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an alias of a collection (an alias that exists is an error: use alter).")
            @OptionGroup var arguments: Assignment
            func run() async throws {
                try await withDatabase(arguments.target.database) { db in
                    try await db.createAlias(arguments.target.collection, alias: arguments.alias)
                    try await Alias.printTarget(of: arguments.alias, in: db)
                }
            }
        }

        struct Alter: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Point an existing alias at another collection, atomically.")
            @OptionGroup var arguments: Assignment
            func run() async throws {
                try await withDatabase(arguments.target.database) { db in
                    try await db.alterAlias(arguments.target.collection, alias: arguments.alias)
                    try await Alias.printTarget(of: arguments.alias, in: db)
                }
            }
        }

        struct Drop: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove an alias (its collection stays).")
            @OptionGroup var arguments: One
            func run() async throws {
                try await withDatabase(arguments.database) { db in
                    try await db.dropAlias(arguments.alias)
                    printJSON(["alias": .string(arguments.alias), "dropped": true])
                }
            }
        }

        struct Describe: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The collection an alias names.")
            @OptionGroup var arguments: One
            func run() async throws {
                try await withDatabase(arguments.database) { db in try await Alias.printTarget(of: arguments.alias, in: db) }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The aliases of a collection, or of every collection.")
            @OptionGroup var database: DatabaseArguments
            @Argument(help: "The collection (or one of its aliases); all aliases when omitted.") var collection: String?
            func run() async throws {
                try await withDatabase(database) { db in
                    printJSON(.array(try await db.listAliases(collection).map { .string($0) }))
                }
            }
        }
    }
}
