// swift-tools-version: 6.1
// A small app that links Quiver the way a user's app does (scripts/consumer.sh builds and runs it).
//
// scripts/consumer.sh copies this package to a temporary folder and rewrites the two lines marked
// QUIVER-DEPENDENCY and QUIVER-PACKAGE: by default a versioned file URL of a temporary clone of the
// checked-out commit, tagged 0.1.0 (how every app resolves a package); with --path, the repository
// by path (how the repository's own Benchmarks/ resolve it).
import PackageDescription

let quiver: Package.Dependency = .package(url: "file:///replaced-by-consumer.sh/quiver", from: "0.1.0")  // QUIVER-DEPENDENCY
let quiverPackage = "quiver"  // QUIVER-PACKAGE

let package = Package(
    name: "QuiverConsumer",
    platforms: [.macOS(.v15)],
    dependencies: [quiver],
    targets: [
        .executableTarget(
            name: "quiver-consumer",
            dependencies: [
                .product(name: "Quiver", package: quiverPackage),
                .product(name: "QuiverMiniLM", package: quiverPackage),
            ],
            path: "Sources/QuiverConsumer"
        ),
    ],
    swiftLanguageModes: [.v6]
)
