// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Quiver",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Quiver", targets: ["Quiver"]),
        .executable(name: "quiver", targets: ["QuiverCLI"]),
        .executable(name: "quiver-crash", targets: ["QuiverCrashHarness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        .executableTarget(
            name: "QuiverCLI",
            dependencies: [
                "Quiver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "QuiverCrashHarness", dependencies: ["Quiver"]),
        .testTarget(name: "QuiverTests", dependencies: ["Quiver"]),
        .testTarget(name: "QuiverCLITests", dependencies: ["Quiver"]),
    ],
    swiftLanguageModes: [.v6]
)
