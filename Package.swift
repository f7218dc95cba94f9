// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Quiver",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Quiver", targets: ["Quiver"]),
        .library(name: "QuiverRAG", targets: ["QuiverRAG"]),
        .executable(name: "quiver", targets: ["QuiverCLI"]),
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
                "Quiver",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
