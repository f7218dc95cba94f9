// swift-tools-version: 6.1
// Quiver's HNSW against hnswlib and FAISS on the same data; see Documentation/Benchmarks.md.
// A separate package so the library's manifest stays as it is; it reaches internal types, so
// build it with `-Xswiftc -enable-testing` (Quiver's manifest adds the machine's AVX2/FMA flags).
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, whatever the checkout is called.
let quiver = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "hnsw-compare",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "../..")],
    targets: [.executableTarget(name: "hnsw-compare", dependencies: [.product(name: "Quiver", package: quiver)])],
    swiftLanguageModes: [.v6]
)
