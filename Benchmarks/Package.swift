// swift-tools-version: 6.1
// Benchmarks live in their own package so that users of Quiver never resolve their dependencies.
import PackageDescription

let package = Package(
    name: "QuiverBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Quiver", path: "../"),
    ],
    targets: [
        .executableTarget(
            name: "FilterBenchmark",
            dependencies: [.product(name: "Quiver", package: "Quiver")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
