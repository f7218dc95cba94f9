// swift-tools-version: 6.1
// Benchmarks live in their own package so users of Quiver never resolve benchmark dependencies.
import PackageDescription

let package = Package(
    name: "QuiverBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Quiver", path: "../"),
    ],
    targets: [
        .executableTarget(
            name: "embed-bench",
            dependencies: [.product(name: "QuiverMiniLM", package: "Quiver")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
