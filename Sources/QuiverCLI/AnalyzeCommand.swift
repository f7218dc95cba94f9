import ArgumentParser
import Foundation
import Quiver

/// `quiver analyze`: the terms an analyzer makes of texts (Milvus's `run_analyzer`).
struct Analyze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the tokens an analyzer makes of texts, as a JSON array per text.",
        discussion: """
            With --params, the analyzer those parameters describe (Milvus's analyzer_params, e.g. \
            '{"type": "english"}'); with DB, --collection and --field, that field's analyzer (the \
            terms its rows are indexed by and its queries matched with); with neither, the \
            standard analyzer. --detail prints each token's position and UTF-8 byte offsets.
            """
    )

    @Argument(help: "Texts to analyze.") var texts: [String] = []
    @Option(help: "Analyzer parameters as a JSON object, e.g. '{\"type\": \"english\"}'.") var params: String?
    @Option(help: "A database directory whose field's analyzer to use (with --collection and --field).") var db: String?
    @Option(help: "The collection of --field.") var collection: String?
    @Option(help: "An analyzed varchar field.") var field: String?
    @Flag(help: "Print tokens as objects with position, start_offset and end_offset.") var detail = false

    func validate() throws {
        if texts.isEmpty { throw ValidationError("give at least one TEXT") }
        let fieldOptions = [db, collection, field].compactMap { $0 }.count
        guard fieldOptions == 0 || fieldOptions == 3 else { throw ValidationError("--db, --collection and --field go together") }
        if fieldOptions == 3 && params != nil { throw ValidationError("give --params or a field (--db, --collection, --field), not both") }
    }

    /// The tokens of `texts` under a field's analyzer, from the embedded database at `db`.
    static func fieldTokens(db: String, collection: String, field: String, texts: [String]) throws -> [[AnalyzerToken]] {
        let database = try Database.open(at: db)
        do {
            let tokens = try database.analyze(collection, field: field, texts: texts)
            try database.close()
            return tokens
        } catch {
            try? database.close()
            throw error
        }
    }

    func run() async throws {
        let tokens: [[AnalyzerToken]]
        if let db, let collection, let field {
            tokens = try Self.fieldTokens(db: db, collection: collection, field: field, texts: texts)
        } else {
            let analyzer = try Analyzer(params: params.map { .object(try jsonObject($0, option: "--params")) })
            tokens = texts.map(analyzer.analyze)
        }
        printJSON(.array(tokens.map { list in
            .array(list.map { t in
                detail
                    ? ["token": .string(t.text), "position": .int(Int64(t.position)),
                       "start_offset": .int(Int64(t.startOffset)), "end_offset": .int(Int64(t.endOffset))]
                    : .string(t.text)
            })
        }))
    }
}
