import Foundation

/// Reading and writing the NumPy `.npy` format (versions 1–3), 2-D C-order arrays only.
/// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
enum NPY {
    struct Matrix<T> {
        var rows: Int
        var columns: Int
        var values: [T]
    }

    enum Failure: Error, CustomStringConvertible {
        case malformed(String)
        var description: String { if case .malformed(let m) = self { return m }; return "" }
    }

    /// The shape of a 2-D little-endian float32 (`<f4`) C-order array and where its data starts.
    struct Header {
        var rows: Int
        var columns: Int
        var dataOffset: Int
    }

    /// Reads the header of a float32 N×d `.npy` file (only the first bytes are read).
    static func readFloat32Header(_ path: String) throws -> Header {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure.malformed("\(path): cannot open") }
        defer { try? handle.close() }
        let prefix = try handle.read(upToCount: 12) ?? Data()
        guard prefix.count >= 12 else { throw Failure.malformed("\(path): not a .npy file") }
        let headerLength = try parsePrefix(prefix, path: path).headerLength
        try handle.seek(toOffset: 0)
        return try parseHeader(try handle.read(upToCount: 12 + headerLength) ?? Data(), path: path)
    }

    /// Reads a little-endian float32 (`<f4`) N×d array.
    static func readFloat32(_ path: String) throws -> Matrix<Float> {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        let header = try parseHeader(data, path: path)
        let count = header.rows * header.columns
        let start = header.dataOffset
        guard data.count >= start + count * 4 else { throw Failure.malformed("\(path): truncated data") }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { dst in
            data.copyBytes(to: dst.bindMemory(to: UInt8.self), from: start..<start + count * 4)
        }
        return Matrix(rows: header.rows, columns: header.columns, values: values)
    }

    /// Calls `body` with consecutive blocks of at most `batch` rows of a float32 N×d file (the
    /// first row's index, the rows' values), read from the file a block at a time: only one block
    /// is ever in memory, as a bulk loader streams its input.
    static func forEachFloat32Block(_ path: String, batch: Int, _ body: (Int, [Float]) throws -> Void) throws {
        let header = try readFloat32Header(path)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure.malformed("\(path): cannot open") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(header.dataOffset))
        var row = 0
        while row < header.rows {
            let count = min(batch, header.rows - row)
            let bytes = count * header.columns * 4
            guard let data = try handle.read(upToCount: bytes), data.count == bytes else {
                throw Failure.malformed("\(path): truncated data")
            }
            var values = [Float](repeating: 0, count: count * header.columns)
            values.withUnsafeMutableBytes { dst in data.copyBytes(to: dst.bindMemory(to: UInt8.self)) }
            try body(row, values)
            row += count
        }
    }

    /// The magic and version: where the header text starts and how long it is.
    private static func parsePrefix(_ data: Data, path: String) throws -> (headerStart: Int, headerLength: Int) {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw Failure.malformed("\(path): not a .npy file")
        }
        if bytes[6] == 1 { return (10, Int(bytes[8]) | Int(bytes[9]) << 8) }
        guard bytes.count >= 12 else { throw Failure.malformed("\(path): short header") }
        return (12, Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24)
    }

    /// Checks the header of a float32 C-order 2-D array (`data` starts at the file's first byte).
    private static func parseHeader(_ data: Data, path: String) throws -> Header {
        let (headerStart, headerLength) = try parsePrefix(data, path: path)
        guard data.count >= headerStart + headerLength,
              let header = String(data: data.subdata(in: headerStart..<headerStart + headerLength), encoding: .utf8)
        else { throw Failure.malformed("\(path): unreadable header") }
        guard header.contains("'<f4'") else { throw Failure.malformed("\(path): dtype must be <f4 (float32), header \(header)") }
        guard header.contains("'fortran_order': False") else { throw Failure.malformed("\(path): must be C order") }
        guard let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else {
            throw Failure.malformed("\(path): no shape")
        }
        let dims = header[header.index(after: open)..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        guard dims.count == 2 else { throw Failure.malformed("\(path): shape must be 2-D, got \(dims)") }
        return Header(rows: dims[0], columns: dims[1], dataOffset: headerStart + headerLength)
    }

    /// Writes a little-endian int64 (`<i8`) rows×columns array (version 1.0 header).
    static func writeInt64(_ path: String, rows: Int, columns: Int, values: [Int64]) throws {
        try write(path, descr: "<i8", rows: rows, columns: columns, values: values)
    }

    /// Writes a little-endian float32 (`<f4`) rows×columns array (version 1.0 header).
    static func writeFloat32(_ path: String, rows: Int, columns: Int, values: [Float]) throws {
        try write(path, descr: "<f4", rows: rows, columns: columns, values: values)
    }

    private static func write<T>(_ path: String, descr: String, rows: Int, columns: Int, values: [T]) throws {
        precondition(values.count == rows * columns)
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = header.utf8.count
        out.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        out.append(contentsOf: Array(header.utf8))
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        try out.write(to: URL(fileURLWithPath: path))
    }
}
