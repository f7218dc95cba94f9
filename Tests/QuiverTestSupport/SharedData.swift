import Foundation
import Testing

/// The reference data kept beside the repository, in `../shared/data` (the Milvus docs and FAQ,
/// all-MiniLM-L6-v2 reference tokens and vectors computed elsewhere), found relative to this
/// package; absent in a clone placed anywhere else, where the tests that need it are skipped:
///
///     @Test(.enabled(if: SharedData.isAvailable, SharedData.absent))
public enum SharedData {
    /// `<package>/../shared/data`, or nil when it is not there.
    public static let directory: URL? = {
        // This file is <package>/Tests/QuiverTestSupport/SharedData.swift.
        let package = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = package.deletingLastPathComponent().appendingPathComponent("shared/data")
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: data.path, isDirectory: &isDirectory) && isDirectory.boolValue ? data : nil
    }()

    /// Whether `../shared/data` is beside the package.
    public static var isAvailable: Bool { directory != nil }

    /// The reason a test needing the data is skipped.
    public static let absent: Comment = "needs the reference data in ../shared/data beside the repository (not present in this clone)"

    /// The error a test throws when it reads the data although it is absent.
    public struct Absent: Error, CustomStringConvertible {
        public var description: String { "../shared/data not found beside the package" }
    }

    /// `../shared/data/<path>`.
    /// - Throws: ``Absent`` when the data is not there (tests check ``isAvailable`` first).
    public static func url(_ path: String) throws -> URL {
        guard let directory else { throw Absent() }
        return directory.appendingPathComponent(path)
    }

    /// The markdown files under `../shared/data/<folder>`, recursively, sorted by path.
    public static func markdownFiles(_ folder: String) throws -> [String] {
        let root = try url(folder)
        guard let walk = FileManager.default.enumerator(atPath: root.path) else { throw Absent() }
        var out = [String]()
        while let p = walk.nextObject() as? String {
            if p.hasSuffix(".md") { out.append(root.appendingPathComponent(p).path) }
        }
        return out.sorted()
    }

    /// The rows of the float32 NumPy array `../shared/data/<path>` (format 1.0 or 2.0,
    /// little-endian, C order), as written by the reference scripts.
    public static func npy(_ path: String) throws -> [[Float]] {
        try NumPy.float32Rows(Data(contentsOf: url(path)), name: path)
    }
}

/// A reader for float32 `.npy` files (the reference vectors), written for the tests.
public enum NumPy {
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The rows of a little-endian float32 array in C order: a 1-D array is one column.
    /// - Throws: ``FormatError`` for another format or a file shorter than its header says.
    public static func float32Rows(_ data: Data, name: String) throws -> [[Float]] {
        let bytes = [UInt8](data)
        guard bytes.count > 10, bytes[0] == 0x93, String(decoding: bytes[1..<6], as: UTF8.self) == "NUMPY" else {
            throw FormatError(description: "\(name) is not a .npy file")
        }
        let (headerStart, headerLength) = bytes[6] == 1
            ? (10, Int(bytes[8]) | Int(bytes[9]) << 8)
            : (12, Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24)
        guard bytes.count >= headerStart + headerLength else { throw FormatError(description: "\(name): truncated header") }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        guard header.contains("'<f4'"), header.contains("'fortran_order': False"),
              let shapeText = header.components(separatedBy: "'shape': (").dropFirst().first?.components(separatedBy: ")").first
        else { throw FormatError(description: "\(name): unsupported header \(header)") }
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard let rows = shape.first else { throw FormatError(description: "\(name): no shape in \(header)") }
        let columns = shape.count > 1 ? shape[1] : 1
        let start = headerStart + headerLength
        guard bytes.count >= start + rows * columns * 4 else { throw FormatError(description: "\(name): shorter than its shape \(shape)") }
        return bytes.withUnsafeBytes { raw in
            (0..<rows).map { r in
                (0..<columns).map { c in
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + (r * columns + c) * 4, as: UInt32.self)))
                }
            }
        }
    }
}
