import Foundation
import Testing
@testable import Quiver

/// How a database's files are opened: mapped ranges read at random are advised so (Linux shows
/// the advice in `/proc/self/smaps`), a pass over every row reads ahead while it runs, and the
/// segments of a collection are opened together yet fail as a sequential open would.
@Suite struct MappedAccessTests {
    /// The `VmFlags` of each mapping of the file at `path` in this process (Linux's smaps).
    static func vmFlags(of path: String) throws -> [Set<String>] {
        // Read to the end: procfs files report no size, and Foundation's String(contentsOfFile:)
        // returns their first 4 KiB only.
        let fd = open("/proc/self/smaps", O_RDONLY)
        guard fd >= 0 else { throw QuiverError.io("open", path: "/proc/self/smaps") }
        defer { close(fd) }
        var bytes = [UInt8](), chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        let smaps = String(decoding: bytes, as: UTF8.self)
        var out = [Set<String>]()
        var inFile = false
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                inFile = fields.count >= 6 && fields[5...].joined(separator: " ") == path
            } else if inFile, line.hasPrefix("VmFlags:") {
                out.append(Set(fields.dropFirst().map(String.init)))
            }
        }
        return out
    }

    static let hasSmaps = FileManager.default.fileExists(atPath: "/proc/self/smaps")

    /// Drops the page cache's clean pages of every file in `directory` (`POSIX_FADV_DONTNEED`),
    /// so that an open finds them cold.
    /// Linux only (the tests that need it read Linux's smaps); elsewhere it does nothing.
    static func evictFromPageCache(_ directory: String) throws {
        #if canImport(Glibc) || canImport(Musl)
        for name in try FileSystem.listDirectory(directory) {
            let fd = open(directory + "/" + name, O_RDONLY)
            guard fd >= 0 else { continue }
            _ = fsync(fd)
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
            close(fd)
        }
        #elseif canImport(Darwin)
        // No page-cache eviction on Darwin; the tests calling this need Linux's smaps anyway.
        #endif
    }

    /// A cold mapped file of 32 MiB (8,192 rows of 4 KiB, one row per group) under a verifier.
    /// (A database small enough for a unit test is read whole by the faults of its footer and
    /// key columns, so the cold cases are checked here, on the verifier itself.)
    static func coldVerifier(_ dir: TemporaryDirectory) throws -> (VectorVerifier, path: String) {
        let rows = 8192, rowBytes = 4096
        var g = SeededGenerator(seed: 9)
        let bytes = (0..<(rows * rowBytes / 8)).flatMap { _ in withUnsafeBytes(of: g.next()) { Array($0) } }
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let path = dir.path + "/rows.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try evictFromPageCache(dir.path)
        let file = try MappedFile(path: path, load: false)
        let base = try #require(file.bytes.baseAddress)
        let sums = bytes.withUnsafeBytes { b in
            (0..<rows).map { SegmentFormat.groupChecksum(vectors: b.baseAddress!, norms: nil, rows: $0..<($0 + 1), rowBytes: rowBytes) }
        }
        let verifier = VectorVerifier(
            vectors: base, norms: nil, rowCount: rows, rowBytes: rowBytes, rowsPerGroup: 1, checksums: sums, owner: file, label: "rows.bin")
        return (verifier, URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
    }

    @Test(.enabled(if: hasSmaps, "needs Linux's /proc/self/smaps to see the advice"))
    func coldRowsAreReadAtRandomExceptDuringAWholePassUntilWarmed() throws {
        let dir = TemporaryDirectory()
        let (verifier, path) = try Self.coldVerifier(dir)
        func random() throws -> Int { try Self.vmFlags(of: path).filter { $0.contains("rr") }.count }
        let flags = try Self.vmFlags(of: path)
        #expect(flags.contains { $0.contains("rr") && $0.contains("nh") }, "cold: random, no huge pages: \(flags)")

        // A pass over every row reads ahead while it runs, nested passes too, and random again after.
        let (during, nested, outerAfterInner) = try verifier.readingWhole {
            let during = try random()
            let nested = try verifier.readingWhole { try random() }
            return (during, nested, try random())
        }
        #expect(during == 0 && nested == 0)
        #expect(outerAfterInner == 0, "the outer pass is still running")
        #expect(try random() >= 1)
        verifier.ensureAll()  // every group verified, in a pass of its own
        #expect(verifier.isComplete && verifier.damage == nil)
        #expect(try random() >= 1)

        // Warmed, the rows rest advised for read-ahead and huge pages, also after a pass.
        verifier.warm { false }
        #expect(try random() == 0)
        #expect(try Self.vmFlags(of: path).contains { $0.contains("hg") })
        verifier.readingWhole {}
        #expect(try random() == 0)
    }

    @Test(.enabled(if: hasSmaps, "needs Linux's /proc/self/smaps to see the advice"))
    func aCancelledWarmUpLeavesTheRowsRandom() throws {
        let dir = TemporaryDirectory()
        let (verifier, path) = try Self.coldVerifier(dir)
        verifier.warm { true }
        #expect(try Self.vmFlags(of: path).contains { $0.contains("rr") })
    }

    /// A mapped collection's first search starts the warm-up; `close` waits for it.
    @Test func theFirstSearchOfAMappedCollectionWarmsIt() throws {
        let (dir, vectors, _) = try VectorVerificationTests.makeDatabase()
        var options = quietOptions()
        options.memoryMapSegments = true
        let db = try Database.open(at: dir.path, options: options)
        defer { db.abandonForTesting() }
        #expect(try db.search("c", vectors: [vectors[3]], limit: 1)[0].first?.id == .int(3))
        let engine = try db.engine("c")
        engine.warmGroup.wait()
        let verifiers = try VectorVerificationTests.sealed(db).verifiers
        #expect(!verifiers.isEmpty)
        #expect(verifiers.allSatisfy { $0.isWarmed })
    }

    /// Opened while the page cache holds the files (just written), the ranges start warmed:
    /// no random advice, no warm-up needed.
    @Test(.enabled(if: hasSmaps, "needs Linux's /proc/self/smaps to see the advice"))
    func aWarmOpenStartsWarmed() throws {
        let (dir, _, segmentPath) = try VectorVerificationTests.makeDatabase()
        var options = quietOptions()
        options.memoryMapSegments = true
        options.warmMappedSegments = false
        let db = try Database.open(at: dir.path, options: options)
        defer { db.abandonForTesting() }
        _ = try db.collectionStats("c")
        let flags = try Self.vmFlags(of: URL(fileURLWithPath: segmentPath).resolvingSymlinksInPath().path)
        #expect(!flags.isEmpty && !flags.contains { $0.contains("rr") }, "\(flags)")
    }

    @Test(.enabled(if: hasSmaps, "needs Linux's /proc/self/smaps to see the advice"))
    func aSegmentReadIntoMemoryTakesNoAdvice() throws {
        let (dir, _, segmentPath) = try VectorVerificationTests.makeDatabase()
        let db = try Database.open(at: dir.path, options: quietOptions())
        defer { db.abandonForTesting() }
        _ = try db.collectionStats("c")
        #expect(try Self.vmFlags(of: URL(fileURLWithPath: segmentPath).resolvingSymlinksInPath().path).isEmpty, "read into memory: not mapped")
    }

    /// Segments open on all cores; when several are damaged, the error names the first in the
    /// manifest's order, every time (as when they were opened one after another).
    @Test func severalDamagedSegmentsReportTheFirstInManifestOrder() throws {
        let dir = TemporaryDirectory()
        var g = SeededGenerator(seed: 5)
        let db = try segmentedDatabase(at: dir.path, dimension: 8, metric: .l2, segments: 6, rows: 50, using: &g)
        try db.close()
        let manifest = try Manifest.decode(try FileSystem.readFile(dir.path + "/c1/" + FileNames.manifest), path: "manifest")
        let ids = manifest.segments.map(\.id)
        #expect(ids.count == 6)
        // Damage every segment but the first: the second in the manifest must be named.
        for id in ids.dropFirst() {
            let path = dir.path + "/c1/" + FileNames.segment(id)
            var bytes = try FileSystem.readFile(path)
            bytes[bytes.count - 30] ^= 0x40  // in the footer: a checksum mismatch on open
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        for attempt in 0..<5 {
            let reopened = try Database.open(at: dir.path, options: quietOptions())
            defer { reopened.abandonForTesting() }
            do {
                _ = try reopened.query("c", limit: 1)
                Issue.record("attempt \(attempt): a damaged collection was queried")
            } catch let error as QuiverError {
                #expect(error.code == .corruption && error.message.contains(FileNames.segment(ids[1])), "attempt \(attempt): \(error)")
            }
        }
    }
}
