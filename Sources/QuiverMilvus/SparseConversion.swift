import Foundation
import Quiver
import QuiverMilvusProtocol

/// Sparse float vectors in Milvus's wire form: each row (and each sparse query in a placeholder
/// group, type `SparseFloatVector` = 104) is one byte string of `(index u32, weight f32)` pairs,
/// little-endian, 8 bytes a pair, indices ascending as pymilvus sends them; a column is a
/// `SparseFloatArray{contents, dim}` whose `dim` is the largest index + 1 (0 for no pairs).
package enum SparseConversion {
    /// The vector of one wire row.
    ///
    /// - Throws: `MilvusError` when the length is not a multiple of 8, or the pairs break
    ///   ``SparseVector``'s rules (a repeated or reserved index, a negative or non-finite weight).
    package static func vector(_ bytes: Data, what: String) throws -> SparseVector {
        guard bytes.count % 8 == 0 else { throw MilvusError.invalid("\(what) is \(bytes.count) bytes, not whole (index, weight) pairs of 8 bytes") }
        let n = bytes.count / 8
        var indices = [UInt32](), values = [Float]()
        indices.reserveCapacity(n)
        values.reserveCapacity(n)
        bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                indices.append(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt32.self)))
                values.append(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i + 4, as: UInt32.self))))
            }
        }
        do { return try SparseVector(indices: indices, values: values) } catch let error as QuiverError {
            throw MilvusError.invalid("\(what): \(error.message)")
        }
    }

    /// The wire row of a vector.
    package static func bytes(_ v: SparseVector) -> Data {
        var out = Data(capacity: v.count * 8)
        for i in 0..<v.count {
            withUnsafeBytes(of: v.indices[i].littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: v.values[i].bitPattern.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// A column of vectors (a value that is not `.sparse`, such as a null, is an empty row).
    package static func array(_ values: [Value]) -> Milvus_Proto_Schema_SparseFloatArray {
        var a = Milvus_Proto_Schema_SparseFloatArray()
        var dim: Int64 = 0
        a.contents = values.map { value in
            guard case .sparse(let v) = value else { return Data() }
            if let last = v.indices.last { dim = max(dim, Int64(last) + 1) }
            return bytes(v)
        }
        a.dim = dim
        return a
    }

    /// The rows of a column.
    package static func values(_ a: Milvus_Proto_Schema_SparseFloatArray, field: String) throws -> [Value] {
        try a.contents.enumerated().map { i, row in .sparse(try vector(row, what: "the sparse vector of field '\(field)' in row \(i)")) }
    }
}
