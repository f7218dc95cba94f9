// swift-tools-version: 6.1
// Benchmarks live in their own package so that users of Quiver never resolve benchmark dependencies.
//
//     cd Benchmarks && swift package benchmark                   # package-benchmark suites
//     swift run -c release --package-path Benchmarks flatscan-bench
//     swift run -c release --package-path Benchmarks filter-bench [rows]
//     swift run -c release --package-path Benchmarks embed-bench --file texts.jsonl --threads 1
//         (all-MiniLM-L6-v2 throughput; Benchmarks/embeddings/bench.py runs it next to onnxruntime)
//
// For AVX2/FMA code on x86-64 add `-Xswiftc -Xcc -Xswiftc -mavx2 -Xswiftc -Xcc -Xswiftc -mfma
// -Xswiftc -Xcc -Xswiftc -mf16c -Xswiftc -DQUIVER_FMA` (see Sources/Quiver/Search/Kernels.swift).
import PackageDescription

let package = Package(
    name: "QuiverBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Quiver", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "KernelBenchmarks",
            dependencies: [
                .product(name: "Quiver", package: "Quiver"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/KernelBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "flatscan-bench",
            dependencies: [.product(name: "Quiver", package: "Quiver")]
        ),
        .executableTarget(
            name: "filter-bench",
            dependencies: [.product(name: "Quiver", package: "Quiver")]
        ),
        .executableTarget(
            name: "embed-bench",
            dependencies: [.product(name: "QuiverMiniLM", package: "Quiver")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
