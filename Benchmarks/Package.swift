// swift-tools-version: 6.1
// Benchmarks live in their own package so that users of Quiver never resolve benchmark dependencies.
//
//     cd Benchmarks && swift package benchmark                   # package-benchmark suites
//     swift run -c release --package-path Benchmarks flatscan-bench [N] [d] [metric] [threads] [batch] [singles]
//     swift run -c release --package-path Benchmarks quiver-bench search --base B.npy --queries Q.npy \
//         --metric ip --k 10 --result-ids OUT.npy            (python3 Benchmarks/compare_faiss.py runs it next to FAISS)
//         (--uri http://HOST:PORT: insert and search on a Milvus server instead, e.g. `quiver serve`)
//     swift run -c release --package-path Benchmarks filter-bench [rows]
//     swift run -c release --package-path Benchmarks contention-bench [rows] [d] [searches] [threads] [flushRows] [rounds]
//         (search latency while a writer upserts, flushes and compacts, against idle; with
//         -Xswiftc -DQUIVER_LOCK_STATS and its own --scratch-path, also lock wait/hold times per call site)
//     swift run -c release --package-path Benchmarks open-bench create DIR | measure DIR [COLL]
//         (Database.open of 100 collections × 100k rows, and the first query of one, in a fresh process)
//     swift run -c release --package-path Benchmarks bm25-bench --docs D.txt --queries Q.txt --out OUT.json
//         (BM25 build, size, QPS and top 10s; python Benchmarks/bm25_compare.py runs it beside tantivy and bm25s)
//     swift run -c release --package-path Benchmarks embed-bench --file texts.jsonl --threads 1
//         (all-MiniLM-L6-v2 throughput; Benchmarks/embeddings/bench.py runs it next to onnxruntime)
//     .venv-pymilvus/bin/python Benchmarks/remote_client_bench.py [--rows 100000]
//         (remote-bench, the Swift RemoteDatabase, against pymilvus on the same servers, interleaved)
//
// Quiver is a path dependency here and builds exactly as it does by URL: its kernels pick the CPU's
// instruction set at run time (QUIVER_CPU=baseline|avx2 caps it when a benchmark runs).
import PackageDescription

let package = Package(
    name: "QuiverBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Quiver", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .target(name: "BenchSupport", path: "Sources/BenchSupport"),
        .executableTarget(
            name: "flatscan-bench",
            dependencies: [.product(name: "Quiver", package: "Quiver"), "BenchSupport"]
        ),
        .executableTarget(
            name: "quiver-bench",
            dependencies: [
                .product(name: "Quiver", package: "Quiver"),
                // --uri: the same phases against a Milvus server (quiver serve, milvus-lite, Milvus).
                .product(name: "QuiverRemote", package: "Quiver"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "BenchSupport",
            ]
        ),
        .executableTarget(
            name: "filter-bench",
            dependencies: [.product(name: "Quiver", package: "Quiver")]
        ),
        .executableTarget(
            name: "contention-bench",
            dependencies: [.product(name: "Quiver", package: "Quiver"), "BenchSupport"]
        ),
        .executableTarget(
            name: "remote-bench",
            dependencies: [.product(name: "QuiverRemote", package: "Quiver"), "BenchSupport"]
        ),
        .executableTarget(
            name: "open-bench",
            dependencies: [.product(name: "Quiver", package: "Quiver"), "BenchSupport"]
        ),
        .executableTarget(
            name: "bm25-bench",
            dependencies: [.product(name: "Quiver", package: "Quiver"), "BenchSupport"]
        ),
        .executableTarget(
            name: "embed-bench",
            dependencies: [.product(name: "QuiverMiniLM", package: "Quiver"), "BenchSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
