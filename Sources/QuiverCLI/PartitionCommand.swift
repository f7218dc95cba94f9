import ArgumentParser
import Quiver

extension QuiverCommand {
    /// `quiver partition create|drop|has|list`: a collection's partitions, with Milvus's semantics
    /// (see `Database.createPartition(_:partition:)`). `insert`/`upsert` take `--partition`,
    /// `delete`/`get`/`query`/`search` take it repeated.
    struct Partition: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage a collection's partitions.",
            discussion: """
                Every collection has '_default'. Rows go where `insert --partition P` puts them; \
                reads cover every partition unless `--partition` names some. Dropping a partition \
                removes its rows. A collection with a partition key manages its own partitions.
                """,
            subcommands: [Create.self, Drop.self, Has.self, List.self]
        )

        /// The arguments of the verbs that name one partition.
        struct One: ParsableArguments {
            @OptionGroup var target: CollectionArguments
            @Argument(help: "The partition.") var partition: String
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an empty partition.")
            @OptionGroup var arguments: One
            func run() async throws {
                try await withDatabase(arguments.target.database) { db in
                    try await db.createPartition(arguments.target.collection, partition: arguments.partition)
                    printJSON(["partition": .string(arguments.partition), "created": true])
                }
            }
        }

        struct Drop: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Drop a partition and every row in it.")
            @OptionGroup var arguments: One
            func run() async throws {
                try await withDatabase(arguments.target.database) { db in
                    try await db.dropPartition(arguments.target.collection, partition: arguments.partition)
                    printJSON(["partition": .string(arguments.partition), "dropped": true])
                }
            }
        }

        struct Has: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Whether a partition exists.")
            @OptionGroup var arguments: One
            func run() async throws {
                try await withDatabase(arguments.target.database) { db in
                    let exists = try await db.hasPartition(arguments.target.collection, partition: arguments.partition)
                    printJSON(["partition": .string(arguments.partition), "exists": .bool(exists)])
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The partitions of a collection.")
            @OptionGroup var target: CollectionArguments
            func run() async throws {
                try await withDatabase(target.database) { db in
                    printJSON(.array(try await db.listPartitions(target.collection).map { .string($0) }))
                }
            }
        }
    }
}

/// `--partition P` of the verbs that read or delete (repeatable; none: every partition).
struct PartitionOptions: ParsableArguments {
    @Option(name: .customLong("partition"), help: "Only rows of this partition (repeatable; default: every partition).")
    var partitions: [String] = []
}
