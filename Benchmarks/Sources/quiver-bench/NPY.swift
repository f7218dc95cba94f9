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

    /// Reads a little-endian float32 (`<f4`) N×d array.
    static func readFloat32(_ path: String) throws -> Matrix<Float> {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw Failure.malformed("\(path): not a .npy file")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw Failure.malformed("\(path): short header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
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
        let count = dims[0] * dims[1]
        let start = headerStart + headerLength
        guard data.count >= start + count * 4 else { throw Failure.malformed("\(path): truncated data") }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { dst in
            data.copyBytes(to: dst.bindMemory(to: UInt8.self), from: start..<start + count * 4)
        }
        return Matrix(rows: dims[0], columns: dims[1], values: values)
    }

    /// Writes a little-endian int64 (`<i8`) rows×columns array (version 1.0 header).
    static func writeInt64(_ path: String, rows: Int, columns: Int, values: [Int64]) throws {
        precondition(values.count == rows * columns)
        var header = "{'descr': '<i8', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
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
