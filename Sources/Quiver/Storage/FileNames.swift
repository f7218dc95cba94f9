/// The names of the files in a database directory (leveldb's `filename.h`).
///
/// ```
/// DB/LOCK                       flock'ed while open
/// DB/CATALOG                    the collections, their schemas and the aliases (atomically replaced)
/// DB/c<id>/MANIFEST             the collection's live segments and WAL position (atomically replaced)
/// DB/c<id>/wal-<n>.log          write-ahead log files
/// DB/c<id>/seg-<id>.qseg        immutable segment files
/// DB/c<id>/seg-<id>-<v>.qdel    delete files (rows of segment <id> deleted as of manifest version <v>)
/// DB/c<id>/seg-<id>-<n>.qidx    index files (an index of segment <id>; <n> from the manifest's counter)
/// ```
enum FileNames {
    static let lock = "LOCK"
    static let catalog = "CATALOG"
    static let manifest = "MANIFEST"

    static func collectionDirectory(_ id: UInt64) -> String { "c\(id)" }
    /// `true` when `name` has the form of a collection directory name.
    static func isCollectionDirectory(_ name: String) -> Bool {
        name.hasPrefix("c") && UInt64(name.dropFirst()) != nil
    }
    static func wal(_ n: UInt64) -> String { "wal-" + pad(n) + ".log" }
    static func segment(_ id: UInt64) -> String { "seg-" + pad(id) + ".qseg" }
    static func deletes(segment id: UInt64, version: UInt64) -> String { "seg-" + pad(id) + "-" + pad(version) + ".qdel" }

    static func index(segment id: UInt64, number: UInt64) -> String { "seg-" + pad(id) + "-" + pad(number) + ".qidx" }

    /// `true` when `name` is an index file name of segment `id`.
    static func isIndexFile(_ name: String, segment id: UInt64) -> Bool {
        isNumbered(name, segment: id, suffix: ".qidx")
    }

    /// `true` when `name` is a delete file name of segment `id`.
    static func isDeleteFile(_ name: String, segment id: UInt64) -> Bool {
        isNumbered(name, segment: id, suffix: ".qdel")
    }

    /// `seg-ID-N` + `suffix`: a file the manifest may name (and a flush may unlink) beside segment `id`.
    private static func isNumbered(_ name: String, segment id: UInt64, suffix: String) -> Bool {
        let prefix = "seg-" + pad(id) + "-"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return false }
        return UInt64(name.dropFirst(prefix.count).dropLast(suffix.count)) != nil
    }

    /// The number of a WAL file name, `nil` for other names.
    static func walNumber(_ name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".log") else { return nil }
        return UInt64(name.dropFirst(4).dropLast(4))
    }

    private static func pad(_ n: UInt64) -> String {
        let s = String(n)
        return s.count >= 8 ? s : String(repeating: "0", count: 8 - s.count) + s
    }
}
