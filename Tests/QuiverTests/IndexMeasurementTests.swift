import Dispatch
import Foundation
import Testing
@_spi(Benchmarks) @testable import Quiver

/// Build time, search time and recall@10 on a larger clustered set; runs only when
/// `QUIVER_INDEX_MEASURE` is set (meant for `-c release`), prints one line per index type.
@Suite struct IndexMeasurementTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["QUIVER_INDEX_MEASURE"] != nil))
    func measure() throws {
        let n = Int(ProcessInfo.processInfo.environment["QUIVER_INDEX_MEASURE"]!) ?? 20000
        let d = 64, nq = 200, k = 10
        let spread = Float(ProcessInfo.processInfo.environment["QUIVER_INDEX_SPREAD"] ?? "") ?? 0.6
        let rows = clusteredVectors(count: n + nq, dimension: d, clusters: 100, spread: spread, seed: 99)
        let flat = rows.prefix(n).flatMap { $0 }
        let norms = rows.prefix(n).map { v in v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let queries = Array(rows.suffix(nq))
        try withExtendedLifetime((flat, norms)) {
            let space = flat.withUnsafeBufferPointer { v in norms.withUnsafeBufferPointer { VectorSpace(vectors: v, norms: $0, count: n, dimension: d, metric: .l2) } }
            var clock = DispatchTime.now()
            func lap() -> Double {
                let now = DispatchTime.now()
                defer { clock = now }
                return Double(now.uptimeNanoseconds - clock.uptimeNanoseconds) / 1e9
            }
            _ = lap()
            let want = FlatScan.topK(
                queries: queries, vectors: UnsafeBufferPointer(start: space.vectors, count: n * d), count: n, dimension: d,
                norms: nil, metric: .l2, k: k, allowed: nil, threads: 1)
            print("exact: \(nq) queries in \(lap()) s (1 thread)")
            for type in ProcessInfo.processInfo.environment["QUIVER_INDEX_TYPES"].map({ $0.split(separator: ",").compactMap { IndexType(rawValue: String($0)) } }) ?? [IndexType.hnsw, .hnswSQ, .ivfFlat, .ivfSQ8] {
                _ = lap()
                let index = SegmentIndex.build(type, params: try IndexBuildParams(type: type, params: [:]), space: space)!
                let build = lap()
                var settings = [IndexSearchParams()]
                var wide = IndexSearchParams()
                if type.isHNSW { wide.ef = 256 } else { wide.nprobe = 32 }
                settings.append(wide)
                for p in settings {
                    _ = lap()
                    let got = index.search(queries: queries, space: space, k: k, allowed: nil, params: p, threads: 1)
                    let search = lap()
                    let r = recall(got.map { $0.map(\.row) }, want.map { $0.map(\.row) })
                    print("\(type.rawValue) n=\(n) d=\(d) spread=\(spread) ef=\(p.ef.map(String.init) ?? "default") nprobe=\(p.nprobe.map(String.init) ?? "default"): build \(build) s, \(nq) queries \(search) s (1 thread), recall@10 \(r)")
                }
                let bytes = IndexFile.encode(index, segmentID: 1, metric: .l2)
                _ = lap()
                _ = try IndexFile.decode(bytes, path: "m", segmentID: 1, rows: n, dimension: d, metric: .l2)
                print("  file \(bytes.count) B, load \(lap()) s")
                if case .hnsw(let h) = index, type == .hnsw {
                    // Filtered walk vs exact scan of the allowed rows, per selectivity (basis of SegmentIndex.exactFraction).
                    for fraction in [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5] {
                        var allowed = Bitset(count: n)
                        var g = SeededGenerator(seed: 17)
                        for i in 0..<n where Double(g.next() % 1_000_000) / 1e6 < fraction { allowed[i] = true }
                        _ = lap()
                        let exactAllowed = FlatScan.topK(
                            queries: queries, vectors: UnsafeBufferPointer(start: space.vectors, count: n * d), count: n, dimension: d,
                            norms: nil, metric: .l2, k: k, allowed: allowed, threads: 1)
                        let exactTime = lap()
                        let ef = 64
                        let walked = queries.map { h.search($0, space: space, k: k, ef: ef, allowed: allowed) }
                        let walkTime = lap()
                        let r = recall(walked.map { $0.map(\.row) }, exactAllowed.map { $0.map(\.row) })
                        print("  filter \(fraction): exact \(exactTime) s, HNSW walk (ef \(ef)) \(walkTime) s, recall@10 \(r)")
                    }
                }
            }
        }
    }
}
