import ArgumentParser
import Quiver

extension QuiverCommand {
    /// `quiver index create|describe|list|drop`: the vector indexes of a collection (one per
    /// vector field, named after the field unless `--name` says otherwise); see `Database.createIndex`.
    struct Index: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage a collection's vector indexes (FLAT, HNSW, HNSW_SQ, IVF_FLAT, IVF_SQ8, AUTOINDEX).",
            subcommands: [Create.self, Describe.self, List.self, Drop.self]
        )

        /// The arguments of the verbs that name one vector field.
        struct OneField: ParsableArguments {
            @OptionGroup var target: CollectionArguments
            @Argument(help: "The vector field (an index is named after its field).") var field: String
        }

        /// The JSON object `describe` and `create` print.
        static func json(_ d: IndexDescription) -> Value {
            ["field": .string(d.field), "index_name": .string(d.name), "index_type": .string(d.type.rawValue),
             "metric_type": .string(d.metric.rawValue), "params": .object(d.params), "state": .string(d.state.rawValue),
             "indexed_rows": .int(Int64(d.indexedRows)), "pending_rows": .int(Int64(d.pendingRows)),
             "total_rows": .int(Int64(d.totalRows))]
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create an index on a vector field and print it once built.",
                discussion: """
                    On a database path the command waits for the build (a build left running would be \
                    cancelled when the command closes the database); a server builds it in the background.
                    """)
            @OptionGroup var target: CollectionArguments
            @Option(help: "Index type: FLAT, HNSW, HNSW_SQ, IVF_FLAT, IVF_SQ8 or AUTOINDEX.") var type: String
            @Option(help: "The vector field (default: the collection's first vector field).") var field: String?
            @Option(help: "The metric: the collection's when omitted (l2, ip, cosine, hamming, jaccard).") var metric: String?
            @Option(help: "Build parameters as a JSON object, e.g. '{\"M\": 16, \"efConstruction\": 200}'.") var params: String?
            @Option(help: "The index name (default: the field's name).") var name: String?

            func validate() throws {
                _ = try parsedType()
                if let metric, MetricType(name: metric) == nil { throw ValidationError("unknown --metric '\(metric)'") }
                _ = try jsonObject(params, option: "--params")
            }

            func parsedType() throws -> IndexType {
                do { return try IndexType(validating: type) } catch let error as QuiverError { throw ValidationError(error.message) }
            }

            func run() async throws {
                try await withDatabase(target.database) { db in
                    let schema = try await db.describeCollection(target.collection).schema
                    guard let field = field ?? schema.vectorFields.first?.name else {
                        throw ValidationError("collection '\(target.collection)' has no vector field")
                    }
                    try await db.createIndex(
                        target.collection, field: field, type: try parsedType(), metric: metric.flatMap(MetricType.init(name:)),
                        params: try jsonObject(params, option: "--params"), name: name)
                    if let local = db as? Database { try await local.waitForIndexBuilds(target.collection) }
                    printJSON(Index.json(try await db.describeIndex(target.collection, field: field)))
                }
            }
        }

        struct Describe: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "An index's type, metric, parameters and build progress.")
            @OptionGroup var arguments: OneField
            func run() async throws {
                try await withDatabase(arguments.target.database) { db in
                    printJSON(Index.json(try await db.describeIndex(arguments.target.collection, field: arguments.field)))
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The fields of a collection that have an index.")
            @OptionGroup var target: CollectionArguments
            func run() async throws {
                try await withDatabase(target.database) { db in
                    printJSON(.array(try await db.listIndexes(target.collection).map { .string($0) }))
                }
            }
        }

        struct Drop: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a field's index; its searches become exact.")
            @OptionGroup var arguments: OneField
            func run() async throws {
                try await withDatabase(arguments.target.database) { db in
                    try await db.dropIndex(arguments.target.collection, field: arguments.field)
                    printJSON(["field": .string(arguments.field), "dropped": true])
                }
            }
        }
    }
}

/// The JSON object an option holds (`[:]` when it was not given).
///
/// - Throws: `ValidationError` naming `option` when the text is not a JSON object.
func jsonObject(_ text: String?, option: String) throws -> [String: Value] {
    guard let text else { return [:] }
    guard case .object(let o)? = try? Value(json: text) else { throw ValidationError("\(option) must be a JSON object") }
    return o
}
