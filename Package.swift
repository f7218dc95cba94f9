// swift-tools-version: 6.1
import PackageDescription

// QuiverMiniLM's matrix kernels are SIMD8<Float> code; on x86-64 they need AVX2+FMA code
// generation (without it `addingProduct` lowers to a libm `fmaf` call per lane), and they are
// optimised in debug builds too (unoptimised SIMD code is ~100x slower, too slow for `swift test`).
// QuiverMiniLMKernels holds only the AVX-512 GEMM, called after a run-time CPU check.
#if arch(x86_64)
let miniLMSwiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma"]), .define("QUIVER_FMA"),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]
let miniLMKernelSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xcc", "-mavx512f", "-Xcc", "-mavx2", "-Xcc", "-mfma"]),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]
#else
let miniLMSwiftSettings: [SwiftSetting] = [
    .define("QUIVER_FMA"), .unsafeFlags(["-O"], .when(configuration: .debug)),
]
let miniLMKernelSettings: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
#endif

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
    ],
    targets: [
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]
        ),
        .target(
            name: "Quiver",
            dependencies: ["CLZ4"]
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
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "QuiverCrashHarness", dependencies: ["Quiver"]),
        .testTarget(name: "QuiverTests", dependencies: ["Quiver"]),
        .testTarget(name: "QuiverCLITests", dependencies: ["Quiver"]),
        .testTarget(
            name: "QuiverRAGTests",
            dependencies: [
                "QuiverRAG",
                "QuiverMiniLM",
                "Quiver",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(name: "QuiverMiniLMKernels", swiftSettings: miniLMKernelSettings),
        .target(name: "QuiverMiniLM", dependencies: ["QuiverMiniLMKernels"], swiftSettings: miniLMSwiftSettings),
        .testTarget(name: "QuiverMiniLMTests", dependencies: ["QuiverMiniLM"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
