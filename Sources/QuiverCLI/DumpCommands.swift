import ArgumentParser
import Foundation
import Quiver

extension QuiverCommand {
    /// `quiver export DB COLL DIR`: a portable dump (Documentation/DumpFormat.md).
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a collection to a portable dump directory (schema.json, rows.jsonl, FIELD.npy).",
            discussion: """
                The dump is a snapshot: writes made while it runs are not in it. Progress goes to \
                standard error; the row count to standard output as JSON. DIR must be new or empty.
                """)
        @OptionGroup var target: CollectionArguments
        @Argument(help: "The dump directory (created).") var directory: String
        @Option(name: .customLong("batch-size"), help: "Rows read and written at a time.") var batchSize = 10_000

        func run() async throws {
            try await withDatabase(target.database) { db in
                let rows = try embedded(db, for: "export").export(
                    target.collection, to: directory, batchSize: batchSize, progress: reportProgress)
                printJSON(["exported": .int(Int64(rows)), "directory": .string(directory)])
            }
        }
    }

    /// `quiver import DB SOURCE`: a dump directory, or a JSONL file with `--collection`.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a dump directory (or a JSONL file, with .npy vector files) into a collection.",
            discussion: """
                A dump directory (from `quiver export`) goes into --collection, or the collection \
                it was exported from; a missing collection is created with the dump's schema, and \
                the dump's indexes are defined. A .jsonl file (one row object per line) goes into \
                the existing --collection, with --vectors FIELD=FILE.npy for vector fields kept in \
                .npy files. Everything is read and checked before anything is written; rows are \
                upserted by primary key, so an interrupted import is finished by running it again.
                """)
        @OptionGroup var database: DatabaseArguments
        @Argument(help: "A dump directory or a .jsonl file.") var source: String
        @Option(help: "The collection to import into.") var collection: String?
        @Option(name: .customLong("vectors"), help: "FIELD=FILE.npy: a vector field's values, row i for line i (with a .jsonl file).")
        var vectors: [String] = []
        @Option(name: .customLong("batch-size"), help: "Rows written per call.") var batchSize = 10_000

        func run() async throws {
            var files = [String: String]()
            for pair in vectors {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--vectors takes FIELD=FILE.npy, got '\(pair)'") }
                files[parts[0]] = parts[1]
            }
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory)
            guard exists else { throw ValidationError("'\(source)' does not exist") }
            if isDirectory.boolValue, !files.isEmpty { throw ValidationError("--vectors goes with a .jsonl file; a dump has its own") }
            if !isDirectory.boolValue, collection == nil { throw ValidationError("importing a .jsonl file needs --collection") }
            try await withDatabase(database) { db in
                let local = try embedded(db, for: "import")
                let rows: Int
                if isDirectory.boolValue {
                    rows = try local.importDump(from: source, into: collection, batchSize: batchSize, progress: reportProgress)
                } else {
                    rows = try local.importJSONL(source, into: collection!, vectors: files, batchSize: batchSize, progress: reportProgress)
                }
                printJSON(["imported": .int(Int64(rows))])
            }
        }
    }
}

/// Prints an export's or import's progress to standard error, one line per batch.
private func reportProgress(_ p: TransferProgress) {
    FileHandle.standardError.write(Data("\(p.rows)/\(p.totalRows) rows\n".utf8))
}
