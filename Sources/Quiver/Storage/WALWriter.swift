/// Appends records to the current WAL file.
///
/// A record is written with one `write` call; if it fails part-way the file is cut back to its
/// previous length, so a failed append leaves no partial record behind.
final class WALWriter: @unchecked Sendable {
    // @unchecked: used only under the owning collection's lock.
    let path: String
    let number: UInt64
    private let file: WritableFile
    /// Bytes written since the last fsync.
    private(set) var unsyncedBytes = 0

    /// Opens (creating with a header when new or empty) the WAL file `number` in `directory`.
    /// `validLength`, when given, cuts a torn tail found by recovery first.
    init(directory: String, number: UInt64, validLength: Int? = nil) throws {
        self.number = number
        path = directory + "/" + FileNames.wal(number)
        file = try WritableFile(path: path, truncate: false)
        if let validLength, validLength < file.size {
            try file.truncate(to: validLength)
        }
        if file.size < WALFormat.headerSize {
            try file.truncate(to: 0)
            try file.write(WALFormat.header())
            try file.sync()
            try FileSystem.syncDirectory(directory)
        }
    }

    var size: Int { file.size }

    /// Set when a failed append could not be cut back: the file may end in a partial record, so
    /// no later record may follow it (recovery would find damage before valid records).
    private(set) var damaged: QuiverError?

    /// Appends one record. When the write fails, the file is cut back to its previous length; when
    /// that cut fails too, the writer is ``damaged`` and refuses every later append.
    func append(_ record: [UInt8]) throws {
        if let damaged { throw damaged }
        let before = file.size
        do {
            try file.write(record)
        } catch {
            do { try file.truncate(to: before) } catch let cut as QuiverError {
                damaged = QuiverError(.io, "WAL '\(path)' may end in a partial record: \(cut.message)", cause: cut)
            }
            throw error
        }
        unsyncedBytes += record.count
    }

    func sync() throws {
        guard unsyncedBytes > 0 else { return }
        try file.sync()
        unsyncedBytes = 0
    }

    func close() { file.close() }
}
