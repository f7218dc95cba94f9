import Foundation

/// The file `quiver-bench.json` that `search --db DIR` leaves in DIR once the database is filled and
/// its index built, so that a later run with the same inputs searches it again instead of
/// rebuilding (a sweep over `--search-params` then costs one build).
///
/// A run reuses DIR only when every field of ``Inputs`` is equal; a DIR that holds anything else
/// (another marker, or files but no marker: an interrupted run or someone else's directory) is
/// reported and left alone, never deleted.
struct RunMarker: Codable, Equatable {
    static let fileName = "quiver-bench.json"
    static let currentFormat = 1

    /// What the database was built from: the base file and every option that shapes the database.
    struct Inputs: Codable, Equatable {
        var base: BaseFileIdentity
        var metric: String
        var vectorType: String
        /// Milvus type name, such as `HNSW`.
        var index: String
        /// The `--index-params` object as JSON with sorted keys (so `{}` and `{"M":16}` differ).
        var indexParams: String
        /// `--segment-rows`, nil when Quiver's flush thresholds were used.
        var segmentRows: Int?
    }

    var format = currentFormat
    var inputs: Inputs
    /// What the building run measured, kept for the record.
    var rows: Int
    var dimension: Int
    var insertRowsPerSecond: Double
    var flushSeconds: Double
    var indexBuildSeconds: Double
    var builtAt: String

    static func path(in directory: String) -> String { directory + "/" + fileName }

    /// The marker in `directory`, nil when there is none.
    /// - Throws: when the file exists but cannot be read as a marker.
    static func read(in directory: String) throws -> RunMarker? {
        let p = path(in: directory)
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        do {
            return try JSONDecoder().decode(RunMarker.self, from: Data(contentsOf: URL(fileURLWithPath: p)))
        } catch {
            throw RunMarkerMismatch("\(p) is not a marker this quiver-bench can read (\(error)); give another --db directory")
        }
    }

    /// Writes the marker through a temporary file and a rename, so that a marker is whole or absent.
    func write(in directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let p = Self.path(in: directory)
        try encoder.encode(self).write(to: URL(fileURLWithPath: p + ".tmp"))
        guard rename(p + ".tmp", p) == 0 else { throw RunMarkerMismatch("cannot rename \(p).tmp to \(p): errno \(errno)") }
    }

    /// The differences between what DIR was built from and what this run asks for, one per line.
    static func differences(_ built: Inputs, _ asked: Inputs) -> [String] {
        var out = [String]()
        func check(_ name: String, _ a: String, _ b: String) { if a != b { out.append("\(name): built with \(a), asked \(b)") } }
        check("base path", built.base.path, asked.base.path)
        check("base size", "\(built.base.bytes) bytes", "\(asked.base.bytes) bytes")
        check("base content (FNV-1a of the first and last MiB)", built.base.fnv1a64, asked.base.fnv1a64)
        check("--metric", built.metric, asked.metric)
        check("--vector-type", built.vectorType, asked.vectorType)
        check("--index", built.index, asked.index)
        check("--index-params", built.indexParams, asked.indexParams)
        check("--segment-rows", built.segmentRows.map(String.init) ?? "(Quiver's default)",
              asked.segmentRows.map(String.init) ?? "(Quiver's default)")
        return out
    }
}

/// Identifies a base `.npy` file cheaply: its absolute path, its size, and a 64-bit FNV-1a hash
/// of its first and last MiB (the whole file when smaller than 2 MiB).
struct BaseFileIdentity: Codable, Equatable {
    var path: String
    var bytes: Int
    /// Hexadecimal.
    var fnv1a64: String

    init(path given: String) throws {
        path = URL(fileURLWithPath: given).resolvingSymlinksInPath().path
        guard let handle = FileHandle(forReadingAtPath: path) else { throw RunMarkerMismatch("cannot open \(path)") }
        defer { try? handle.close() }
        let size = Int(try handle.seekToEnd())
        bytes = size
        let mib = 1 << 20
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a 64 offset basis
        let ranges = size <= 2 * mib ? [0..<size] : [0..<mib, size - mib..<size]
        for range in ranges {
            try handle.seek(toOffset: UInt64(range.lowerBound))
            for byte in try handle.read(upToCount: range.count) ?? Data() {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3  // FNV-1a 64 prime
            }
        }
        fnv1a64 = String(hash, radix: 16)
    }
}

/// A `--db` directory that cannot be used for this run; the message says why and what to do.
struct RunMarkerMismatch: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
