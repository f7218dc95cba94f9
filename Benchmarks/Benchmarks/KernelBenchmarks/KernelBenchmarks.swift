// package-benchmark suites for the search kernels and the top-k heap.
//
//     cd Benchmarks && swift package benchmark --target KernelBenchmarks
//
// On x86-64 Quiver's manifest compiles the kernels for the machine's AVX2/FMA/F16C when the CPU
// has them (`QUIVER_CPU=portable` measures the baseline SSE2 code instead).
//
// Inputs are generated once (outside the measured region) from a fixed seed.
import Benchmark
@_spi(Benchmarks) import Quiver

/// Fixed-seed inputs shared by the benchmarks; built on first use, never mutated.
final class Fixture: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init and the pointers are never freed.
    let dimension: Int
    let rowCount: Int
    let rows: UnsafeMutableBufferPointer<Float>
    let halfRows: UnsafeMutableBufferPointer<UInt16>
    let bfloatRows: UnsafeMutableBufferPointer<UInt16>
    let norms: [Float]
    let queries: [[Float]]
    let packedQueries: UnsafeMutableBufferPointer<Float>

    init(rowCount: Int, dimension: Int, queryCount: Int) {
        self.rowCount = rowCount
        self.dimension = dimension
        var state: UInt64 = 0x5EED
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
        }
        rows = .allocate(capacity: rowCount * dimension)
        halfRows = .allocate(capacity: rowCount * dimension)
        bfloatRows = .allocate(capacity: rowCount * dimension)
        for i in 0..<(rowCount * dimension) {
            let x = next()
            rows[i] = x
            halfRows[i] = Float16(x).bitPattern
            bfloatRows[i] = UInt16(x.bitPattern >> 16)
        }
        let base = rows.baseAddress!
        norms = (0..<rowCount).map { Kernels.norm(base + $0 * dimension, dimension) }
        queries = (0..<queryCount).map { _ in (0..<dimension).map { _ in next() } }
        let dp = Kernels.paddedDimension(dimension)
        packedQueries = .allocate(capacity: queryCount * dp)
        packedQueries.initialize(repeating: 0)
        for (i, q) in queries.enumerated() { for j in 0..<dimension { packedQueries[i * dp + j] = q[j] } }
    }

    static let d128 = Fixture(rowCount: 100_000, dimension: 128, queryCount: 256)
    static let d768 = Fixture(rowCount: 20_000, dimension: 768, queryCount: 64)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 2,
        maxDuration: .seconds(2),
        maxIterations: 1000)

    // MARK: Pairwise float32 kernels: one query against 1 000 stored rows per iteration.

    for (name, f) in [("128", { Fixture.d128 }), ("768", { Fixture.d768 })] {
        Benchmark("Kernels.dot d=\(name) ×1000 rows", configuration: .init(scalingFactor: .kilo)) { benchmark in
            let fx = f()
            let q = fx.queries[0], base = fx.rows.baseAddress!, d = fx.dimension
            benchmark.startMeasurement()
            q.withUnsafeBufferPointer { qp in
                for r in benchmark.scaledIterations { blackHole(Kernels.dot(qp.baseAddress!, base + r * d, d)) }
            }
        }
        Benchmark("Kernels.l2Squared d=\(name) ×1000 rows", configuration: .init(scalingFactor: .kilo)) { benchmark in
            let fx = f()
            let q = fx.queries[0], base = fx.rows.baseAddress!, d = fx.dimension
            benchmark.startMeasurement()
            q.withUnsafeBufferPointer { qp in
                for r in benchmark.scaledIterations { blackHole(Kernels.l2Squared(qp.baseAddress!, base + r * d, d)) }
            }
        }
        Benchmark("Kernels.dot float16 d=\(name) ×1000 rows", configuration: .init(scalingFactor: .kilo)) { benchmark in
            let fx = f()
            let q = fx.queries[0], base = fx.halfRows.baseAddress!, d = fx.dimension
            benchmark.startMeasurement()
            q.withUnsafeBufferPointer { qp in
                for r in benchmark.scaledIterations { blackHole(Kernels.dot(qp.baseAddress!, base + r * d, d, format: .float16)) }
            }
        }
        Benchmark("Kernels.dot bfloat16 d=\(name) ×1000 rows", configuration: .init(scalingFactor: .kilo)) { benchmark in
            let fx = f()
            let q = fx.queries[0], base = fx.bfloatRows.baseAddress!, d = fx.dimension
            benchmark.startMeasurement()
            q.withUnsafeBufferPointer { qp in
                for r in benchmark.scaledIterations { blackHole(Kernels.dot(qp.baseAddress!, base + r * d, d, format: .bfloat16)) }
            }
        }
    }

    Benchmark("Kernels.hamming 1024 bits ×1000 rows", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let fx = Fixture.d128  // reinterpret the float rows as 128-byte binary vectors
        let base = UnsafeRawPointer(fx.rows.baseAddress!).assumingMemoryBound(to: UInt8.self)
        benchmark.startMeasurement()
        for r in benchmark.scaledIterations { blackHole(Kernels.hamming(base, base + (r + 1) * 128, byteCount: 128)) }
    }

    // MARK: Blocked kernels: a 64-row block against a batch of queries (one iteration = 1 000 pairs).

    Benchmark("scoreBlock (unpacked 4×2) 16 queries × 64 rows d=128", configuration: .init(scalingFactor: .one)) { benchmark in
        let fx = Fixture.d128
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 64)
        defer { out.deallocate() }
        benchmark.startMeasurement()
        for _ in 0..<100 {
            Kernels.scoreBlock(
                queries: fx.packedQueries.baseAddress!, queryCount: 16, queryStride: 128, rows: fx.rows.baseAddress!,
                rowCount: 64, dimension: 128, l2: false, out: out, outStride: 64)
            blackHole(out[17])
        }
    }

    Benchmark("packPanels + scorePanels 16 queries × 64 rows d=128", configuration: .init(scalingFactor: .one)) { benchmark in
        let fx = Fixture.d128
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 64)
        let panels = UnsafeMutablePointer<Float>.allocate(capacity: 64 * 128)
        defer { out.deallocate(); panels.deallocate() }
        benchmark.startMeasurement()
        for _ in 0..<100 {
            Kernels.packPanels(rows: fx.rows.baseAddress!, rowCount: 64, dimension: 128, out: panels)
            Kernels.scorePanels(
                queries: fx.packedQueries.baseAddress!, queryCount: 16, queryStride: 128, panels: panels,
                panelCount: 8, dimension: 128, l2: false, out: out, outStride: 64)
            blackHole(out[17])
        }
    }

    // MARK: Top-k: offering 1M random scores must not allocate per row.

    for k in [10, 100] {
        Benchmark("TopK.push k=\(k) ×1M scores", configuration: .init(scalingFactor: .mega)) { benchmark in
            var state: UInt64 = 42
            let scores = (0..<1_000_000).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1
                return Float(state >> 40)
            }
            benchmark.startMeasurement()
            var top = TopK(k: k, higherIsBetter: true)
            for i in benchmark.scaledIterations { top.push(row: i, distance: scores[i]) }
            benchmark.stopMeasurement()
            blackHole(top.sorted())
        }
    }

    // MARK: FlatScan over 100k × 128 (one segment, IP, k = 10).

    for threads in [1, 2] {
        Benchmark("FlatScan 1 query 100k×128 threads=\(threads)", configuration: .init(metrics: [.wallClock, .cpuTotal])) { benchmark in
            let fx = Fixture.d128
            benchmark.startMeasurement()
            blackHole(FlatScan.topK(
                queries: [fx.queries[0]], vectors: UnsafeBufferPointer(fx.rows), count: fx.rowCount, dimension: 128,
                norms: nil, metric: .ip, k: 10, allowed: nil, threads: threads))
        }
        Benchmark("FlatScan 256 queries 100k×128 threads=\(threads)", configuration: .init(metrics: [.wallClock, .cpuTotal], maxIterations: 10)) { benchmark in
            let fx = Fixture.d128
            benchmark.startMeasurement()
            blackHole(FlatScan.topK(
                queries: fx.queries, vectors: UnsafeBufferPointer(fx.rows), count: fx.rowCount, dimension: 128,
                norms: nil, metric: .ip, k: 10, allowed: nil, threads: threads))
        }
    }
    Benchmark("FlatScan 1 query 20k×768 cosine threads=1", configuration: .init(metrics: [.wallClock, .cpuTotal])) { benchmark in
        let fx = Fixture.d768
        benchmark.startMeasurement()
        fx.norms.withUnsafeBufferPointer { norms in
            blackHole(FlatScan.topK(
                queries: [fx.queries[0]], vectors: UnsafeBufferPointer(fx.rows), count: fx.rowCount, dimension: 768,
                norms: norms, metric: .cosine, k: 10, allowed: nil, threads: 1))
        }
    }
}
