import Foundation
import Testing
@_spi(Benchmarks) @testable import Quiver

/// Clustered synthetic vectors: `clusters` centres in [-1, 1]^d, rows spread ±`spread` around them.
func clusteredVectors(count: Int, dimension d: Int, clusters: Int = 24, spread: Float = 0.35, seed: UInt64) -> [[Float]] {
    var g = SeededGenerator(seed: seed)
    let centres = (0..<clusters).map { _ in randomVector(d, using: &g) }
    return (0..<count).map { _ in
        let c = centres[Int(g.next() % UInt64(clusters))]
        return c.map { $0 + Float.random(in: -spread...spread, using: &g) }
    }
}

/// Mean recall@k of `got` against `want` (sets of rows).
func recall(_ got: [[Int]], _ want: [[Int]]) -> Double {
    var hit = 0, total = 0
    for (g, w) in zip(got, want) {
        hit += Set(g).intersection(w).count
        total += w.count
    }
    return total == 0 ? 1 : Double(hit) / Double(total)
}

@Suite struct SegmentIndexTests {
    static let approximate: [IndexType] = [.hnsw, .ivfFlat, .ivfSQ8, .hnswSQ, .autoIndex]

    struct Fixture {
        let flat: [Float]
        let norms: [Float]
        let queries: [[Float]]
        let n: Int
        let d: Int
        func space(_ metric: MetricType) -> VectorSpace {
            flat.withUnsafeBufferPointer { v in
                norms.withUnsafeBufferPointer { nb in
                    VectorSpace(vectors: v, norms: nb, count: n, dimension: d, metric: metric)
                }
            }
        }
    }

    static func fixture(n: Int = 1200, d: Int = 16, seed: UInt64 = 7) -> Fixture {
        // 200 queries: a multi-threaded build is not deterministic, and with 40 queries its
        // recall moved by ±0.02 between builds (one IP build measured 0.94).
        let rows = clusteredVectors(count: n + 200, dimension: d, clusters: 8, spread: 0.9, seed: seed)
        let base = Array(rows.prefix(n))
        let flat = base.flatMap { $0 }
        let norms = base.map { v in v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        return Fixture(flat: flat, norms: norms, queries: Array(rows.suffix(200)), n: n, d: d)
    }

    func check(_ type: IndexType, metric: MetricType, filtered: Bool,
               threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        let f = Self.fixture()
        // Keep `flat` alive: the space points into it.
        try withExtendedLifetime(f) {
            let space = f.space(metric)
            var allowed: Bitset? = nil
            if filtered {
                var b = Bitset(count: f.n)
                for i in 0..<f.n where i % 3 != 0 { b[i] = true }
                allowed = b
            }
            let index = SegmentIndex.build(type, params: try IndexBuildParams(type: type, params: [:]), space: space, threads: threads)!
            if case .hnsw(let h) = index { #expect(h.invariantViolations() == []) }
            let k = 10
            let got = index.search(queries: f.queries, space: space, k: k, allowed: allowed, params: IndexSearchParams(), threads: 1)
            let want = FlatScan.topK(
                queries: f.queries, vectors: UnsafeBufferPointer(start: space.vectors, count: f.n * f.d), count: f.n, dimension: f.d,
                norms: UnsafeBufferPointer(start: space.norms, count: f.n), metric: metric, k: k, allowed: allowed, threads: 1)
            for list in got {
                #expect(list.count == k)
                if let allowed { #expect(list.allSatisfy { allowed[$0.row] }) }
            }
            let r = recall(got.map { $0.map(\.row) }, want.map { $0.map(\.row) })
            if ProcessInfo.processInfo.environment["QUIVER_PRINT_RECALL"] != nil { print("recall \(type.rawValue) \(metric.rawValue) threads \(threads) filtered=\(filtered): \(r)") }
            #expect(r >= 0.95, "\(type.rawValue) \(metric.rawValue) filtered=\(filtered): recall@10 \(r)")

            if let allowed, case .hnsw(let h) = index {
                // Small filtered segments are scanned exactly (cheaper); check the filtered walk itself.
                let walked = f.queries.map { h.search($0, space: space, k: k, ef: 64, allowed: allowed) }
                #expect(walked.allSatisfy { $0.count == k && $0.allSatisfy { allowed[$0.row] } })
                let rw = recall(walked.map { $0.map(\.row) }, want.map { $0.map(\.row) })
                #expect(rw >= 0.95, "\(type.rawValue) filtered walk: recall@10 \(rw)")
                if ProcessInfo.processInfo.environment["QUIVER_PRINT_RECALL"] != nil { print("\(type.rawValue) filtered walk recall \(rw)") }
            }
            if ProcessInfo.processInfo.environment["QUIVER_PRINT_RECALL"] != nil { print("\(type.rawValue) \(metric.rawValue) filtered=\(filtered) recall \(r)") }
            // The file round-trips to an index that answers the same.
            let bytes = IndexFile.encode(index, segmentID: 3, metric: metric)
            let loaded = try IndexFile.decode(bytes, path: "x.qidx", segmentID: 3, rows: f.n, dimension: f.d, metric: metric)
            let again = loaded.search(queries: f.queries, space: space, k: k, allowed: allowed, params: IndexSearchParams(), threads: 1)
            #expect(again == got)
        }
    }

    @Test(arguments: approximate, [MetricType.l2, .cosine, .ip])
    func recallUnfiltered(_ type: IndexType, _ metric: MetricType) throws {
        try check(type, metric: metric, filtered: false)
    }

    @Test(arguments: approximate)
    func recallFiltered(_ type: IndexType) throws {
        try check(type, metric: .l2, filtered: true)
    }

    /// The same body with the graph built on one worker and on several (more than the cores).
    @Test(arguments: [1, 4], [MetricType.l2, .cosine, .ip])
    func hnswRecallByBuildThreads(_ threads: Int, _ metric: MetricType) throws {
        try check(.hnsw, metric: metric, filtered: false, threads: threads)
        try check(.hnswSQ, metric: metric, filtered: false, threads: threads)
        if metric == .l2 { try check(.hnsw, metric: metric, filtered: true, threads: threads) }
    }

    /// After parallel builds (small M, so full lists are pruned often): link counts within the
    /// caps, no self or duplicate links, neighbours in range and on their level.
    @Test(arguments: [2, 4, 8], [MetricType.l2, .cosine])
    func parallelBuildKeepsGraphInvariants(_ threads: Int, _ metric: MetricType) throws {
        let f = Self.fixture(n: 4000, d: 8, seed: UInt64(threads))
        withExtendedLifetime(f) {
            for m in [2, 4, 16] {
                let h = HNSWIndex.build(space: f.space(metric), m: m, efConstruction: 40, quantize: false, threads: threads)
                let problems = h.invariantViolations()
                #expect(problems.isEmpty, "threads \(threads) M \(m): \(problems.prefix(5))")
                #expect(h.level0.count == f.n * (2 * m + 1))
                // Every row but a lone entry point has at least one layer-0 link.
                let isolated = (0..<f.n).filter { h.level0[$0 * (2 * m + 1)] == 0 }
                #expect(isolated.isEmpty, "threads \(threads) M \(m): rows without links \(isolated.prefix(5))")
            }
        }
    }

    /// A row must not be linked to before its own lists are written. Otherwise a worker whose
    /// greedy walk reaches a row still being inserted descends onto its empty lower lists, takes
    /// that row as its only neighbour, and then loses its one in-link when the row writes its
    /// lists: it can never be reached again (the pymilvus AUTOINDEX test missed a true top-5 row
    /// about once in 300 queries, while hnswlib on the same data missed none in 6,000; this test
    /// failed 100 of 400 builds). A worker descheduled between choosing a row's neighbours and
    /// linking it can still leave the row cut off (row 1 linked only to row 0 after row 0's list
    /// had filled and was pruned: 2 of 3,000 builds under load, which is how this test failed in
    /// CI); the build then links such rows again. Small graphs of 200 rows built many times on 4
    /// workers: from the entry point, every row is reachable on layer 0.
    @Test func parallelBuildLeavesNoRowUnreachable() throws {
        let n = 200, m = 16, stride = 2 * m + 1
        var unreachable = [String]()
        for build in 0..<400 {
            let f = Self.fixture(n: n, d: 16, seed: UInt64(100 + build % 8))
            withExtendedLifetime(f) {
                let h = HNSWIndex.build(space: f.space(.l2), m: m, efConstruction: 200, quantize: false, threads: 4,
                                        seed: UInt64(build))
                var seen = [Bool](repeating: false, count: n)
                var queue = [Int(h.entryPoint)]
                seen[Int(h.entryPoint)] = true
                while let node = queue.popLast() {
                    let count = Int(h.level0[node * stride])
                    for i in 0..<count {
                        let e = Int(h.level0[node * stride + 1 + i])
                        if !seen[e] { seen[e] = true; queue.append(e) }
                    }
                }
                let lost = (0..<n).filter { !seen[$0] }
                if !lost.isEmpty { unreachable.append("build \(build): rows \(lost)") }
            }
        }
        #expect(unreachable.isEmpty, "\(unreachable.count) of 400 builds: \(unreachable.prefix(5))")
    }

    /// One worker builds the same graph for the same seed.
    @Test func singleThreadedBuildIsDeterministic() throws {
        let f = Self.fixture(n: 1500, d: 12)
        withExtendedLifetime(f) {
            let a = HNSWIndex.build(space: f.space(.l2), m: 8, efConstruction: 64, quantize: false, threads: 1)
            let b = HNSWIndex.build(space: f.space(.l2), m: 8, efConstruction: 64, quantize: false, threads: 1)
            #expect(Array(a.level0.buffer) == Array(b.level0.buffer) && a.upper == b.upper && a.entryPoint == b.entryPoint && a.maxLevel == b.maxLevel)
            let c = HNSWIndex.build(space: f.space(.l2), m: 8, efConstruction: 64, quantize: false, threads: 1, seed: 99)
            #expect(c.levels != a.levels)
        }
    }

    /// k-means and list assignment run on the batched scan kernels over several threads
    /// (6 000 points × 128 lists × 12 dimensions is above the scan's parallel threshold); the
    /// lists must not depend on the thread count.
    @Test(arguments: [MetricType.l2, .ip, .cosine])
    func ivfListsDoNotDependOnThreads(_ metric: MetricType) throws {
        let f = Self.fixture(n: 6000, d: 12)
        withExtendedLifetime(f) {
            let one = IVFIndex.build(space: f.space(metric), nlist: 128, quantize: false, threads: 1)
            let four = IVFIndex.build(space: f.space(metric), nlist: 128, quantize: false, threads: 4)
            #expect(one.nlist == 128)
            #expect(one.centroids == four.centroids && one.offsets == four.offsets && one.ids == four.ids)
            // Every list is used and every row is in exactly one list.
            #expect(Set(one.ids).count == f.n && one.ids.count == f.n)
            #expect(zip(one.offsets, one.offsets.dropFirst()).allSatisfy { $0 < $1 })
        }
    }

    @Test(arguments: [IndexType.hnswSQ, .ivfSQ8])
    func everyFlippedByteIsCorruption(_ type: IndexType) throws {
        let f = Self.fixture(n: 300, d: 8)
        try withExtendedLifetime(f) {
            let space = f.space(.l2)
            let index = SegmentIndex.build(type, params: try IndexBuildParams(type: type, params: [:]), space: space)!
            let bytes = IndexFile.encode(index, segmentID: 1, metric: .l2)
            var g = SeededGenerator(seed: 11)
            for _ in 0..<200 {
                var damaged = bytes
                let at = Int(g.next() % UInt64(bytes.count))
                damaged[at] ^= UInt8(1 << (g.next() % 8))
                // An HNSW file's links and codes are verified when first read: here, all at once.
                #expect(throws: QuiverError.self) {
                    try IndexFile.decode(damaged, path: "seg-1-1.qidx", segmentID: 1, rows: f.n, dimension: f.d, metric: .l2).verifyAll()
                }
            }
            do {
                _ = try IndexFile.decode(Array(bytes.dropLast(9)), path: "seg-1-1.qidx", segmentID: 1, rows: f.n, dimension: f.d, metric: .l2)
                Issue.record("a truncated file loaded")
            } catch let e as QuiverError {
                #expect(e.code == .corruption && e.message.contains("seg-1-1.qidx"))
            }
        }
    }

    /// Version 2 on: layer-0 links and SQ8 codes are used where they lie in the loaded file (no
    /// copy); version 3 adds their group checksums after them; and a version 1 file (no padding
    /// before layer 0, no group checksums, as sessions before 2026-12-03 wrote them) still loads
    /// to the same graph.
    @Test(arguments: [IndexType.hnsw, .hnswSQ])
    func hnswLinksAreUsedInPlaceAndVersion1StillLoads(_ type: IndexType) throws {
        let f = Self.fixture(n: 301, d: 8)
        try withExtendedLifetime(f) {
            let space = f.space(.l2)
            let index = SegmentIndex.build(type, params: try IndexBuildParams(type: type, params: ["M": 6]), space: space)!
            guard case .hnsw(let built) = index else { Issue.record("not an HNSW index"); return }
            let bytes = IndexFile.encode(index, segmentID: 1, metric: .l2)
            // The layout written here as the file format describes it: header, M, max level,
            // entry, levels, upper offsets, upper count and links, zero padding, layer 0.
            let n = built.count
            let beforePad = IndexFile.headerSize + 12 + n + 4 * n + 8 + 4 * built.upper.count
            let level0At = (beforePad + 63) / 64 * 64
            #expect(bytes[8..<12].elementsEqual([3, 0, 0, 0]))
            // After layer 0 (and the codes): rows per group, group count, the group checksums.
            let groupRows = SegmentFormat.vectorGroupRows(rowBytes: (2 * 6 + 1) * 4)
            let tail = 8 + 4 * SegmentFormat.groupCount(rows: n, rowsPerGroup: groupRows)
            #expect(bytes[beforePad..<level0At].allSatisfy { $0 == 0 })
            let file = bytes.withUnsafeBytes { MappedFile(copying: $0, name: "x.qidx") }
            guard case .hnsw(let loaded) = try IndexFile.decode(file, segmentID: 1, rows: n, dimension: f.d, metric: .l2) else {
                Issue.record("not an HNSW index"); return
            }
            let base = UnsafeRawPointer(file.bytes.baseAddress!)
            #expect(UnsafeRawPointer(loaded.level0.pointer) == base + level0At)
            #expect(loaded.level0.buffer.elementsEqual(built.level0.buffer))
            if type == .hnswSQ {
                let codesAt = bytes.count - 4 - tail - n * f.d
                #expect(UnsafeRawPointer(loaded.codes.pointer) == base + codesAt)
                #expect(loaded.codes.buffer.elementsEqual(built.codes.buffer))
            }

            // The same file as version 1 wrote it: no padding, version 1, payload length and
            // checksum recomputed.
            var v1 = Array(bytes[0..<beforePad]) + Array(bytes[level0At..<(bytes.count - 4 - tail)])
            v1.replaceSubrange(8..<12, with: [1, 0, 0, 0])
            let payload = UInt64(v1.count - IndexFile.headerSize)
            v1.replaceSubrange((IndexFile.headerSize - 8)..<IndexFile.headerSize, with: withUnsafeBytes(of: payload.littleEndian) { Array($0) })
            v1 += withUnsafeBytes(of: CRC32C.checksum(v1).littleEndian) { Array($0) }
            guard case .hnsw(let old) = try IndexFile.decode(v1, path: "v1.qidx", segmentID: 1, rows: n, dimension: f.d, metric: .l2) else {
                Issue.record("not an HNSW index"); return
            }
            #expect(old.level0.buffer.elementsEqual(built.level0.buffer) && old.upper == built.upper && old.levels == built.levels)
            let queries = Array(f.queries.prefix(5))
            let want = index.search(queries: queries, space: space, k: 5, allowed: nil, params: IndexSearchParams(), threads: 1)
            #expect(SegmentIndex.hnsw(old).search(queries: queries, space: space, k: 5, allowed: nil, params: IndexSearchParams(), threads: 1) == want)
            #expect(SegmentIndex.hnsw(loaded).search(queries: queries, space: space, k: 5, allowed: nil, params: IndexSearchParams(), threads: 1) == want)
        }
    }

    /// Damage behind a valid checksum (a bug or a crafted file): every mutated payload either
    /// fails with `.corruption` or loads an index that searches without trapping.
    @Test(arguments: [IndexType.hnsw, .hnswSQ, .ivfFlat, .ivfSQ8])
    func structuralDamageNeverTraps(_ type: IndexType) throws {
        let f = Self.fixture(n: 200, d: 8)
        try withExtendedLifetime(f) {
            let space = f.space(.l2)
            let index = SegmentIndex.build(type, params: try IndexBuildParams(type: type, params: ["M": 4, "nlist": 4].filter { k, _ in
                type.isHNSW ? k == "M" : k == "nlist" }), space: space)!
            let bytes = IndexFile.encode(index, segmentID: 1, metric: .l2)
            var g = SeededGenerator(seed: 23)
            var loaded = 0
            for _ in 0..<400 {
                var damaged = Array(bytes.dropLast(4))
                for _ in 0..<(1 + Int(g.next() % 3)) {
                    let at = IndexFile.headerSize + Int(g.next() % UInt64(damaged.count - IndexFile.headerSize))
                    damaged[at] = g.next() % 4 == 0 ? 0xFF : damaged[at] ^ UInt8(1 << (g.next() % 8))
                }
                damaged += withUnsafeBytes(of: CRC32C.checksum(damaged).littleEndian) { Array($0) }
                do {
                    let decoded = try IndexFile.decode(damaged, path: "x.qidx", segmentID: 1, rows: f.n, dimension: f.d, metric: .l2)
                    loaded += 1
                    _ = decoded.search(queries: Array(f.queries.prefix(2)), space: space, k: 5, allowed: nil, params: IndexSearchParams(), threads: 1)
                } catch let e as QuiverError {
                    #expect(e.code == .corruption)
                }
            }
            if ProcessInfo.processInfo.environment["QUIVER_PRINT_RECALL"] != nil { print("\(type.rawValue): \(loaded) of 400 damaged payloads loaded") }
        }
    }

    @Test func parameterRanges() throws {
        #expect(throws: QuiverError.self) { try IndexBuildParams(type: .hnsw, params: ["M": 1]) }
        #expect(throws: QuiverError.self) { try IndexBuildParams(type: .hnsw, params: ["M": 4096]) }
        #expect(throws: QuiverError.self) { try IndexBuildParams(type: .ivfFlat, params: ["nlist": 0]) }
        #expect(throws: QuiverError.self) { try IndexBuildParams(type: .ivfFlat, params: ["nlist": 65537]) }
        #expect(throws: QuiverError.self) { try IndexBuildParams(type: .ivfFlat, params: ["M": 8]) }
        #expect(throws: QuiverError.self) { try IndexType(validating: "DISKANN") }
        #expect(try IndexType(validating: "hnsw") == .hnsw)
        #expect(throws: QuiverError.self) { try IndexSearchParams(["ef": 5], limit: 10) }
        #expect(throws: QuiverError.self) { try IndexSearchParams(["nprobe": 0], limit: 10) }
        #expect(try IndexSearchParams(["ef": 20, "nprobe": 4], limit: 10).ef(k: 10) == 20)
    }
}
