// swift-tools-version: 6.1
import PackageDescription

import Foundation

// Code generation for the SIMD kernels (see Documentation/Architecture.md, "Build settings").
//
// Swift has no per-function target attributes and no run-time dispatch, so the instruction set
// is the whole module's. On x86-64 the baseline is SSE2, where `SIMD8<Float>` is two `xmm`
// registers and a fused multiply-add is a libm call per lane; the kernels are 2-3x faster with
// AVX2 + FMA + F16C. So when this package is built from source (it is the root package, or a
// local path dependency such as Benchmarks/) on an x86-64 machine whose CPU has those
// extensions, Quiver is compiled for them, in the manner of `-march=native`. The flags are
// `unsafeFlags`, which SwiftPM refuses in a versioned dependency, so a checkout under
// `.build/checkouts` (someone depending on Quiver by URL) gets the portable baseline.
//
// A CPU that also has AVX-512 (AVX512F) gets it for Quiver too, as hnswlib or FAISS built with
// `-march=native` do: the HNSW walk's distances then use 16-float vectors (`QUIVER_AVX512`).
//
//   QUIVER_CPU=portable swift build   # baseline x86-64 (a binary for other machines)
//   QUIVER_CPU=avx2 swift build       # AVX2/FMA/F16C even on an AVX-512 machine
//   QUIVER_CPU=native swift build     # the build machine's extensions even in a checkout
enum CPUTarget { case portable, x86AVX2FMA, x86AVX512 }

func buildMachineCPU() -> CPUTarget {
    #if arch(x86_64) && os(Linux)
    let request = Context.environment["QUIVER_CPU"]
    if request == "portable" { return .portable }
    let directory = Context.packageDirectory
    let isCheckout = directory.contains("/.build/checkouts/") || directory.contains("/SourcePackages/checkouts/")
    if isCheckout && request != "native" { return .portable }
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return .portable }
    let flags = Set(flagsLine.split(separator: " ").map(String.init))
    guard ["avx2", "fma", "f16c"].allSatisfy(flags.contains) else { return .portable }
    return flags.contains("avx512f") && request != "avx2" ? .x86AVX512 : .x86AVX2FMA
    #else
    return .portable  // arm64: NEON and fused multiply-add are baseline
    #endif
}

let cpu = buildMachineCPU()
let avx2Settings: [SwiftSetting] = cpu == .portable
    ? [] : [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"]), .define("QUIVER_FMA"), .define("QUIVER_F16C")]
let vectorSettings: [SwiftSetting] = avx2Settings
    + (cpu == .x86AVX512 ? [.unsafeFlags(["-Xcc", "-mavx512f"]), .define("QUIVER_AVX512")] : [])
let package = Package(
    name: "Quiver",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Quiver", targets: ["Quiver"]),
        .library(name: "QuiverRAG", targets: ["QuiverRAG"]),
        .executable(name: "quiver", targets: ["QuiverCLI"]),
        .library(name: "QuiverMiniLM", targets: ["QuiverMiniLM"]),
        .executable(name: "quiver-crash", targets: ["QuiverCrashHarness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // gRPC for `quiver serve` (QuiverMilvusProtocol, QuiverServer); never in the `Quiver` engine.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]
        ),
        // A prefetch hint (Swift has none); header-only C, ours, no third-party code.
        .target(name: "CQuiverSupport"),
        // SIMD kernels in C, one variant per instruction set, chosen at run time (QuiverCPU.h).
        .target(name: "CQuiverKernels"),
        .target(
            name: "Quiver",
            dependencies: ["CLZ4", "CQuiverSupport", "CQuiverKernels"],
            swiftSettings: vectorSettings
        ),
        .target(
            name: "QuiverRAG",
            dependencies: [
                "Quiver",
                "QuiverMiniLM",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "QuiverCLI",
            dependencies: [
                "Quiver",
                "QuiverRAG",
                "QuiverMiniLM",
                "QuiverServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Milvus's protobuf messages and gRPC service, generated by scripts/generate-milvus-protocol.sh.
        .target(
            name: "QuiverMilvusProtocol",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // `quiver serve`: Milvus's gRPC API over a Database.
        .target(
            name: "QuiverServer",
            dependencies: [
                "Quiver",
                "QuiverMilvusProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(
            name: "QuiverServerTests",
            dependencies: [
                "QuiverServer",
                "QuiverMilvusProtocol",
                "Quiver",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .executableTarget(name: "QuiverCrashHarness", dependencies: ["Quiver"]),
        .testTarget(name: "QuiverTests", dependencies: ["Quiver", "QuiverTestSupport"]),
        // Shared by the test targets (runs the built `quiver`; finds ../shared/data); not a product.
        .target(name: "QuiverTestSupport", path: "Tests/QuiverTestSupport"),
        .testTarget(name: "QuiverCLITests", dependencies: ["Quiver", "QuiverTestSupport"]),
        .testTarget(
            name: "QuiverRAGTests",
            dependencies: [
                "QuiverRAG",
                "QuiverMiniLM",
                "Quiver",
                "QuiverTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // MiniLM's kernels are C in CQuiverKernels (minilm_*.c), chosen at run time like the engine's.
        .target(name: "QuiverMiniLM", dependencies: ["CQuiverKernels"]),
        .testTarget(name: "QuiverMiniLMTests", dependencies: ["QuiverMiniLM", "QuiverTestSupport"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
