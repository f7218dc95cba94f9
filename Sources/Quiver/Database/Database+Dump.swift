import Foundation

/// How far an export or import is, passed to its progress callback after each batch.
public struct TransferProgress: Sendable, Hashable {
    /// Rows written so far (for an import: in its writing pass).
    public var rows: Int
    /// Rows in all.
    public var totalRows: Int
}

/// Portable dumps: `export` writes a collection to a directory, `importDump` reads one back;
/// `importJSONL` reads plain JSONL (with vectors inline or in `.npy` files). The format is in
/// `Documentation/DumpFormat.md`.
extension Database {
    /// The name of a dump's description file.
    static let dumpSchemaFile = "schema.json"
    /// The name of a dump's rows file (every field but the vectors, one JSON object per line).
    static let dumpRowsFile = "rows.jsonl"

    /// Writes `collection` to `directory` as a portable dump: `schema.json` (schema, metric,
    /// index definitions, row count), `rows.jsonl` (every field but the vectors and the outputs
    /// of functions, which an import computes again, and the dynamic fields, one JSON object per
    /// row) and `FIELD.npy` per vector field (float32, float16,
    /// bfloat16 bit patterns as uint16, or packed bits as uint8), rows in primary-key order.
    ///
    /// The dump is a snapshot (``queryIterator(_:batchSize:limit:filter:filterParams:outputFields:partitions:)``):
    /// writes made while it runs are not in it. It is streamed a batch at a time; `schema.json`
    /// is written last, so a dump cut short has none and cannot be imported.
    ///
    /// - Parameters:
    ///   - collection: the collection's name.
    ///   - directory: where to write; created, or empty.
    ///   - batchSize: rows read and written at a time, 1 to ``maxTopK``.
    ///   - progress: called after each batch; what it throws stops the export.
    /// - Returns: the number of rows written.
    /// - Throws: `.alreadyExists` when `directory` holds files; `.io` when a file cannot be
    ///   written; `.notFound` when there is no such collection.
    @discardableResult
    public func export(
        _ collection: String, to directory: String, batchSize: Int = 10_000,
        progress: (TransferProgress) throws -> Void = { _ in }
    ) throws -> Int {
        let description = try describeCollection(collection)
        let schema = description.schema
        let indexes = try listIndexes(collection).map { try describeIndex(collection, field: $0) }
        let walk = try queryIterator(collection, batchSize: batchSize, outputFields: ["*"])
        if FileSystem.exists(directory) {
            guard try FileSystem.listDirectory(directory).isEmpty else {
                throw QuiverError(.alreadyExists, "'\(directory)' is not empty; export into a new or empty directory")
            }
        } else {
            try FileSystem.createDirectory(directory)
        }
        let rowsFile = try WritableFile(path: directory + "/" + Self.dumpRowsFile, truncate: true)
        var vectorFiles = [String: WritableFile]()
        for field in schema.vectorFields {
            let (descr, width) = NPYFormat.layout(of: field.dataType)
            let file = try WritableFile(path: directory + "/" + field.name + ".npy", truncate: true)
            try file.write(NPYFormat.header(descr: descr, rows: walk.count, columns: width))
            vectorFiles[field.name] = file
        }
        // A BM25 function's output is computed from its input at insert, and an insert refuses it.
        let computed = schema.functions.flatMap(\.outputFieldNames)
        var written = 0
        while let batch = walk.next() {
            var text = ""
            var vectors = [String: [UInt8]]()
            for var row in batch {
                for name in computed { row[name] = nil }
                for field in schema.vectorFields {
                    NPYFormat.append(row.removeValue(forKey: field.name) ?? .null, type: field.dataType, to: &vectors[field.name, default: []])
                }
                text += Value.object(row).jsonString
                text += "\n"
            }
            try rowsFile.write(Array(text.utf8))
            for (name, bytes) in vectors { try vectorFiles[name]!.write(bytes) }
            written += batch.count
            try progress(TransferProgress(rows: written, totalRows: walk.count))
        }
        for file in [rowsFile] + Array(vectorFiles.values) {
            try file.sync()
            file.close()
        }
        let manifest: Value = .object([
            "format": "quiver-dump", "version": 1, "collection": .string(collection),
            "metric": .string(description.metric.rawValue), "schema": schema.jsonValue, "rows": .int(Int64(written)),
            "indexes": .array(indexes.map { i in
                .object(["field": .string(i.field), "name": .string(i.name), "type": .string(i.type.rawValue), "params": .object(i.params)])
            }),
        ])
        let schemaFile = try WritableFile(path: directory + "/" + Self.dumpSchemaFile, truncate: true)
        try schemaFile.write(Array((manifest.jsonString + "\n").utf8))
        try schemaFile.sync()
        schemaFile.close()
        return written
    }

    /// Reads a dump written by ``export(_:to:batchSize:progress:)`` into `collection` (the
    /// dump's collection name when `nil`), creating it with the dump's schema and metric when it
    /// does not exist, then defines the dump's indexes it lacks (built in the background).
    ///
    /// Two streaming passes, a batch at a time (memory bounded by the batch): the first reads and
    /// checks everything — the dump's files and shapes, the schema against an existing
    /// collection's, every row as an upsert would — and writes nothing; the second upserts the
    /// rows batch by batch. So a dump that fails any check changes nothing, and an import cut
    /// short (killed, a full disk) is finished by running it again: rows are upserted by primary
    /// key, so each ends up stored exactly once, and rows of the collection that the dump does
    /// not have are kept.
    ///
    /// - Returns: the number of rows in the dump.
    /// - Throws: `.invalidArgument` for a directory that is not a dump, a schema that differs from
    ///   the existing collection's, a row count that differs between files, or a bad row (naming
    ///   its line); `.dimensionMismatch` for a vector file of the wrong width; `.io`.
    @discardableResult
    public func importDump(
        from directory: String, into collection: String? = nil, batchSize: Int = 10_000,
        progress: (TransferProgress) throws -> Void = { _ in }
    ) throws -> Int {
        let path = directory + "/" + Self.dumpSchemaFile
        guard FileSystem.exists(path) else {
            throw QuiverError.invalidArgument("'\(directory)' has no \(Self.dumpSchemaFile): not a complete dump")
        }
        let manifest = try Value(jsonData: Data(try FileSystem.readFile(path)))
        guard case .object(let m) = manifest, m["format"] == "quiver-dump", m["version"] == 1,
              let schemaValue = m["schema"], let metricName = m["metric"]?.stringValue,
              let metric = MetricType(rawValue: metricName), let rows = m["rows"]?.intValue
        else { throw QuiverError.invalidArgument("'\(path)' is not a quiver dump description (version 1)") }
        let schema = try CollectionSchema(json: schemaValue)
        let target = collection ?? m["collection"]?.stringValue ?? ""
        let vectorFiles = Dictionary(uniqueKeysWithValues: schema.vectorFields.map { ($0.name, directory + "/" + $0.name + ".npy") })
        let count = try importRows(
            DumpSource(rows: directory + "/" + Self.dumpRowsFile, vectors: vectorFiles, expectedRows: Int(rows)),
            into: target, schema: schema, metric: metric, batchSize: batchSize, progress: progress)
        let defined = Set(try listIndexes(target))
        for case .object(let i) in m["indexes"]?.arrayValue ?? [] {
            guard let field = i["field"]?.stringValue, !defined.contains(field), let type = i["type"]?.stringValue else { continue }
            try createIndex(target, field: field, typeName: type, params: i["params"]?.objectValue ?? [:], name: i["name"]?.stringValue)
        }
        return count
    }

    /// Reads plain JSONL into the existing collection `collection`: one row object per line (as
    /// `insert(_:rows:)` takes them, vectors as arrays of numbers), and optionally vector fields
    /// from `.npy` files (`vectors[field]`, row `i` of the file for line `i`).
    ///
    /// The same two passes as ``importDump(from:into:batchSize:progress:)``: everything is
    /// checked before anything is written, and the rows are upserted, so running an interrupted
    /// import again leaves each row once — except in an `autoID` collection whose lines carry no
    /// key, where they are inserted (new keys each run).
    ///
    /// - Returns: the number of rows read.
    /// - Throws: `.invalidArgument` for a line that is not a JSON object or a bad row (naming its
    ///   line), a row count that differs between the files; `.dimensionMismatch`; `.notFound`
    ///   when there is no such collection; `.io`.
    @discardableResult
    public func importJSONL(
        _ path: String, into collection: String, vectors: [String: String] = [:], batchSize: Int = 10_000,
        progress: (TransferProgress) throws -> Void = { _ in }
    ) throws -> Int {
        let description = try describeCollection(collection)
        return try importRows(
            DumpSource(rows: path, vectors: vectors, expectedRows: nil), into: collection,
            schema: description.schema, metric: description.metric, batchSize: batchSize, progress: progress)
    }

    /// The two passes of an import (see ``importDump(from:into:batchSize:progress:)``).
    private func importRows(
        _ source: DumpSource, into target: String, schema: CollectionSchema, metric: MetricType, batchSize: Int,
        progress: (TransferProgress) throws -> Void
    ) throws -> Int {
        guard (1...1_000_000).contains(batchSize) else { throw QuiverError.invalidArgument("batch size \(batchSize) must be 1 to 1000000") }
        let exists = hasCollection(target)
        let targetSchema = exists ? try describeCollection(target).schema : schema
        if exists, targetSchema.jsonValue != schema.jsonValue {
            throw QuiverError.invalidArgument(
                "the dump's schema differs from collection '\(target)''s: \(schema.jsonValue.jsonString) vs \(targetSchema.jsonValue.jsonString)")
        }
        for name in source.vectors.keys {
            guard let field = targetSchema.field(named: name), field.dataType.isVector else {
                throw QuiverError.invalidArgument("'\(name)' is not a vector field of the collection")
            }
        }
        // Pass 1: read and check everything; nothing is written.
        var generatesKeys = false
        let total = try source.forEachBatch(schema: targetSchema, batchSize: batchSize) { first, rows in
            if first == 0 { generatesKeys = targetSchema.primaryField.autoID && rows.first?[targetSchema.primaryField.name] == nil }
            do { _ = try targetSchema.validatedRows(rows, upsert: !generatesKeys) } catch let e as QuiverError {
                throw QuiverError(e.code, "in the batch from line \(first + 1) (its row 0): \(e.message)", cause: e)
            }
        }
        if !exists { try createCollection(target, schema: schema, metric: metric) }
        // Pass 2: write, a batch (one atomic call) at a time.
        _ = try source.forEachBatch(schema: targetSchema, batchSize: batchSize) { first, rows in
            if generatesKeys { _ = try insert(target, rows: rows) } else { _ = try upsert(target, rows: rows) }
            try progress(TransferProgress(rows: first + rows.count, totalRows: total))
        }
        return total
    }
}

/// The files of an import: JSONL rows and `.npy` vector files read in step.
struct DumpSource {
    var rows: String
    /// `.npy` files by vector field name.
    var vectors: [String: String]
    /// The row count the files must have (a dump's description); `nil` for plain JSONL.
    var expectedRows: Int?

    /// Calls `body` with each batch of rows (vectors from the `.npy` files put in) and the index
    /// of its first line; returns the number of rows. Checks the `.npy` files' types, widths and
    /// row counts first.
    func forEachBatch(schema: CollectionSchema, batchSize: Int, _ body: (Int, [Row]) throws -> Void) throws -> Int {
        var readers = [(FieldSchema, NPYReader)]()
        for (name, path) in vectors.sorted(by: { $0.key < $1.key }) {
            let field = schema.field(named: name)!
            let reader = try NPYReader(path: path)
            let (descr, width) = NPYFormat.layout(of: field.dataType)
            guard reader.descr == descr else {
                throw QuiverError.invalidArgument("'\(path)' holds \(reader.descr) values; field '\(name)' (\(field.dataType.name)) needs \(descr)")
            }
            guard reader.columns == width else {
                throw QuiverError(.dimensionMismatch, "'\(path)' has rows of \(reader.columns) values; field '\(name)' needs \(width)")
            }
            if let expectedRows, reader.rows != expectedRows {
                throw QuiverError.invalidArgument("'\(path)' has \(reader.rows) rows, the dump \(expectedRows)")
            }
            readers.append((field, reader))
        }
        let lines = try LineReader(path: rows)
        var count = 0
        while true {
            var batch = [Row]()
            while batch.count < batchSize, let line = try lines.next() {
                guard case .object(let row) = try Self.parse(line, number: count + batch.count + 1, path: rows) else {
                    throw QuiverError.invalidArgument("'\(rows)' line \(count + batch.count + 1) is not a JSON object")
                }
                batch.append(row)
            }
            if batch.isEmpty { break }
            for (field, reader) in readers {
                guard count + batch.count <= reader.rows else {
                    throw QuiverError.invalidArgument("'\(reader.path)' has \(reader.rows) rows, '\(rows)' more")
                }
                let values = try reader.read(rows: batch.count, type: field.dataType)
                for i in batch.indices { batch[i][field.name] = values[i] }
            }
            try body(count, batch)
            count += batch.count
        }
        for (_, reader) in readers where reader.rows != count {
            throw QuiverError.invalidArgument("'\(reader.path)' has \(reader.rows) rows, '\(rows)' \(count)")
        }
        if let expectedRows, count != expectedRows {
            throw QuiverError.invalidArgument("'\(rows)' has \(count) rows, the dump's description \(expectedRows)")
        }
        return count
    }

    private static func parse(_ line: Data, number: Int, path: String) throws -> Value {
        do { return try Value(jsonData: line) } catch let e as QuiverError {
            throw QuiverError(.invalidArgument, "'\(path)' line \(number): \(e.message)", cause: e)
        }
    }
}

/// The `.npy` format (version 1.0) of a dump's vector files.
enum NPYFormat {
    /// The numpy type and row width of a vector field's file.
    static func layout(of type: DataType) -> (descr: String, columns: Int) {
        switch type {
        case .floatVector(let d): ("<f4", d)
        case .float16Vector(let d): ("<f2", d)
        case .bfloat16Vector(let d): ("<u2", d)  // numpy has no bfloat16: the bit patterns
        case .binaryVector(let d): ("|u1", d / 8)
        default: preconditionFailure("not a vector type")
        }
    }

    /// A header for `rows × columns` values of `descr`, padded to a multiple of 64 bytes.
    static func header(descr: String, rows: Int, columns: Int) -> [UInt8] {
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = UInt16(dict.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(dict.utf8)
    }

    /// Appends a stored vector value (`.vector` or `.bytes`) in the file's layout.
    static func append(_ value: Value, type: DataType, to out: inout [UInt8]) {
        switch (type, value) {
        case (.floatVector, .vector(let v)):
            for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case (.float16Vector, .vector(let v)), (.bfloat16Vector, .vector(let v)):
            let format = VectorStorage.halfFormat(type)
            for x in v { withUnsafeBytes(of: HalfConversion.narrow(x, format).littleEndian) { out.append(contentsOf: $0) } }
        case (.binaryVector, .bytes(let b)):
            out.append(contentsOf: b)
        default:
            preconditionFailure("a stored vector of \(type.name) is \(value.kindName)")
        }
    }
}

/// Reads the rows of a 2-d C-order `.npy` file a batch at a time.
final class NPYReader {
    let path: String
    let descr: String
    let rows: Int
    let columns: Int
    private let handle: FileHandle

    init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw QuiverError(.notFound, "cannot open '\(path)'")
        }
        self.handle = handle
        let prefix = try handle.read(upToCount: 10) ?? Data()
        guard prefix.count == 10, prefix[0] == 0x93, prefix[1...5].elementsEqual("NUMPY".utf8), prefix[6] == 1 || prefix[6] == 2 else {
            throw QuiverError.invalidArgument("'\(path)' is not a .npy file (version 1 or 2)")
        }
        var length = Int(prefix[8]) | Int(prefix[9]) << 8
        var start = 10
        if prefix[6] == 2 {
            let more = try handle.read(upToCount: 2) ?? Data()
            guard more.count == 2 else { throw QuiverError.invalidArgument("'\(path)': truncated header") }
            length |= Int(more[0]) << 16 | Int(more[1]) << 24
            start = 12
        }
        guard let text = try handle.read(upToCount: length).flatMap({ String(data: $0, encoding: .utf8) }), text.utf8.count == length else {
            throw QuiverError.invalidArgument("'\(path)': truncated header")
        }
        func field(_ key: String, _ pattern: String) -> String? {
            guard let r = text.range(of: "'\(key)':\\s*\(pattern)", options: .regularExpression) else { return nil }
            return String(text[r]).split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
        }
        guard let d = field("descr", "'[^']*'")?.trimmingCharacters(in: CharacterSet(charactersIn: "'")),
              field("fortran_order", "False") != nil,
              let shape = field("shape", "\\([^)]*\\)")
        else { throw QuiverError.invalidArgument("'\(path)': the header is not a C-order array with a type and shape") }
        let dims = shape.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.compactMap { Int($0) }
        guard dims.count == 2 || dims.count == 1 else {
            throw QuiverError.invalidArgument("'\(path)' has shape \(shape); a vector file is rows × values")
        }
        descr = d == "<u1" ? "|u1" : d
        rows = dims[0]
        columns = dims.count == 2 ? dims[1] : 1
        let size = try handle.seekToEnd()
        let itemSize = descr == "|u1" ? 1 : descr == "<f4" ? 4 : 2
        guard Int(size) - start - length == rows * columns * itemSize else {
            throw QuiverError.invalidArgument("'\(path)' holds \(Int(size) - start - length) data bytes, its shape needs \(rows * columns * itemSize)")
        }
        try handle.seek(toOffset: UInt64(start + length))
    }

    deinit { try? handle.close() }

    /// The next `count` rows as stored vector values of `type` (the layout was checked).
    func read(rows count: Int, type: DataType) throws -> [Value] {
        let itemSize = descr == "|u1" ? 1 : descr == "<f4" ? 4 : 2
        let bytes = count * columns * itemSize
        guard let data = try handle.read(upToCount: bytes), data.count == bytes else {
            throw QuiverError.invalidArgument("'\(path)': truncated data")
        }
        let raw = [UInt8](data)
        return raw.withUnsafeBytes { p in
            (0..<count).map { i -> Value in
                let base = i * columns * itemSize
                switch type {
                case .binaryVector: return .bytes(Array(raw[base..<base + columns]))
                case .floatVector:
                    return .vector((0..<columns).map {
                        Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: base + $0 * 4, as: UInt32.self)))
                    })
                default:
                    let format = VectorStorage.halfFormat(type)
                    return .vector((0..<columns).map {
                        Kernels.widen(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: base + $0 * 2, as: UInt16.self)), format)
                    })
                }
            }
        }
    }
}

/// Reads a file's lines (split on `\n`, a trailing `\r` and empty lines dropped) 1 MiB at a time.
final class LineReader {
    private let handle: FileHandle
    private var buffer = Data()
    private var atEnd = false

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw QuiverError(.notFound, "cannot open '\(path)'") }
        self.handle = handle
    }

    deinit { try? handle.close() }

    func next() throws -> Data? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = buffer[buffer.startIndex..<newline]
                buffer = buffer[(newline + 1)...]
                if line.last == 0x0D { line = line.dropLast() }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                return Data(line)
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = Data() }
                return buffer.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) ? nil : Data(buffer)
            }
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { atEnd = true } else { buffer = Data(buffer) + chunk }
        }
    }
}
