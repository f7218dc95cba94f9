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

    @Test(.enabled(if: hasSmaps, "needs Linux's /proc/self/smaps to see the advice"))
    func aMappedSegmentsVectorsAndLinksAreReadAtRandomExceptDuringAWholePass() throws {
        let (dir, vectors, segmentPath) = try VectorVerificationTests.makeDatabase()
        var options = quietOptions()
        options.memoryMapSegments = true
        options.warmMappedSegments = false
        let db = try Database.open(at: dir.path, options: options)
        defer { db.abandonForTesting() }
        _ = try db.collectionStats("c")
        let segment = try VectorVerificationTests.sealed(db)
        let indexName = try #require(try FileSystem.listDirectory(dir.path + "/c1").first { $0.hasSuffix(".qidx") })
        let indexPath = dir.path + "/c1/" + indexName
        let resolved = URL(fileURLWithPath: segmentPath).resolvingSymlinksInPath().path
        let resolvedIndex = URL(fileURLWithPath: indexPath).resolvingSymlinksInPath().path
        func randomRanges(_ path: String) throws -> Int { try Self.vmFlags(of: path).filter { $0.contains("rr") }.count }

        // Open advised the vectors and norms (segment) and the links (index) random, not all of each file.
        let segmentFlags = try Self.vmFlags(of: resolved), indexFlags = try Self.vmFlags(of: resolvedIndex)
        #expect(segmentFlags.contains { $0.contains("rr") }, "\(segmentFlags)")
        #expect(segmentFlags.contains { !$0.contains("rr") }, "the footer and key columns keep read-ahead: \(segmentFlags)")
        #expect(indexFlags.contains { $0.contains("rr") }, "\(indexFlags)")

        // A pass over every row reads ahead while it runs, nested passes too, and random again after.
        let verifier = try #require(segment.verifiers.first)
        let (during, nested, outerAfterInner) = try verifier.readingWhole {
            let during = try randomRanges(resolved)
            let nested = try verifier.readingWhole { try randomRanges(resolved) }
            return (during, nested, try randomRanges(resolved))
        }
        #expect(during == 0 && nested == 0)
        #expect(outerAfterInner == 0, "the outer pass is still running")
        #expect(try randomRanges(resolved) >= 1)

        // So does a flat scan (a range search is exact), and its answer is right.
        var options2 = SearchOptions()
        options2.radius = 0.999  // COSINE keeps similarities above the radius
        let hits = try db.search("c", vectors: [vectors[17]], limit: 3, options: options2)[0]
        #expect(hits.first?.id == .int(17))
        #expect(try randomRanges(resolved) >= 1)
    }

    /// The warm-up after open reads the ranges into the page cache and leaves them advised for
    /// read-ahead and huge pages; a whole pass then returns them to that, not to random.
    @Test(.enabled(if: hasSmaps, "needs Linux's /proc/self/smaps to see the advice"))
    func aWarmedMappingRestsAdvisedForHugePagesNotRandom() throws {
        let (dir, vectors, segmentPath) = try VectorVerificationTests.makeDatabase()
        var options = quietOptions()
        options.memoryMapSegments = true
        let db = try Database.open(at: dir.path, options: options)
        defer { db.abandonForTesting() }
        let engine = try db.engine("c")
        #expect(try db.search("c", vectors: [vectors[3]], limit: 1)[0].first?.id == .int(3))  // starts the warm-up
        engine.warmGroup.wait()
        let resolved = URL(fileURLWithPath: segmentPath).resolvingSymlinksInPath().path
        let flags = try Self.vmFlags(of: resolved)
        #expect(!flags.isEmpty && !flags.contains { $0.contains("rr") }, "\(flags)")
        #expect(flags.contains { $0.contains("hg") }, "\(flags)")
        let verifier = try #require(try VectorVerificationTests.sealed(db).verifiers.first)
        try verifier.readingWhole { }
        let after = try Self.vmFlags(of: resolved)
        #expect(!after.contains { $0.contains("rr") } && after.contains { $0.contains("hg") }, "\(after)")
        #expect(try db.search("c", vectors: [vectors[9]], limit: 1)[0].first?.id == .int(9))
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
