/// The sparse vectors of one field across the rows of a segment or batch, in compressed sparse
/// row form: row `r` holds the pairs `offsets[r] ..< offsets[r + 1]` of `indices` and `values`
/// (indices ascending within a row). Three arrays for any number of rows, so a column of
/// millions of rows is not millions of small arrays, and a scan reads them in order.
struct SparseRows: Sendable, Equatable {
    /// `count + 1` offsets into ``indices`` and ``values``; the first is 0.
    private(set) var offsets: [Int]
    private(set) var indices: [UInt32]
    private(set) var values: [Float]

    init() {
        offsets = [0]
        indices = []
        values = []
    }

    /// Rows already verified by ``verified(counts:indices:values:context:)`` or built from checked vectors.
    private init(offsets: [Int], indices: [UInt32], values: [Float]) {
        self.offsets = offsets
        self.indices = indices
        self.values = values
    }

    /// The rows of `vectors`, in order.
    init(_ vectors: [SparseVector]) {
        self.init()
        reserve(rows: vectors.count, pairs: vectors.reduce(0) { $0 + $1.count })
        for v in vectors { append(v) }
    }

    /// The number of rows.
    var count: Int { offsets.count - 1 }

    /// The number of pairs over all rows.
    var pairCount: Int { indices.count }

    /// The pairs of row `row`.
    func range(_ row: Int) -> Range<Int> { offsets[row]..<offsets[row + 1] }

    /// Row `row` as a vector.
    subscript(row: Int) -> SparseVector {
        let r = range(row)
        return SparseVector(checkedIndices: Array(indices[r]), values: Array(values[r]))
    }

    mutating func reserve(rows: Int, pairs: Int) {
        offsets.reserveCapacity(offsets.count + rows)
        indices.reserveCapacity(indices.count + pairs)
        values.reserveCapacity(values.count + pairs)
    }

    mutating func append(_ v: SparseVector) {
        indices.append(contentsOf: v.indices)
        values.append(contentsOf: v.values)
        offsets.append(indices.count)
    }

    mutating func append(contentsOf other: SparseRows) {
        let base = indices.count
        indices.append(contentsOf: other.indices)
        values.append(contentsOf: other.values)
        offsets.append(contentsOf: other.offsets.dropFirst().lazy.map { $0 + base })
    }

    /// The rows `rows`, in that order.
    func gather(_ rows: [Int]) -> SparseRows {
        var out = SparseRows()
        out.reserve(rows: rows.count, pairs: rows.reduce(0) { $0 + range($1).count })
        for r in rows {
            out.indices.append(contentsOf: indices[range(r)])
            out.values.append(contentsOf: values[range(r)])
            out.offsets.append(out.indices.count)
        }
        return out
    }

    /// Calls `body` with the indices and weights of row `row`, without copying them.
    @inline(__always)
    func withRow<R>(_ row: Int, _ body: (UnsafeBufferPointer<UInt32>, UnsafeBufferPointer<Float>) -> R) -> R {
        let r = range(row)
        return indices.withUnsafeBufferPointer { i in
            values.withUnsafeBufferPointer { v in
                body(UnsafeBufferPointer(rebasing: i[r]), UnsafeBufferPointer(rebasing: v[r]))
            }
        }
    }

    /// Rows decoded from a file or record, checked as an insert checks them: `counts[r]` pairs
    /// per row, each row's indices ascending and at most `SparseVector.maxIndex`, weights finite
    /// and not negative.
    ///
    /// - Throws: `.corruption` naming `context` and the row.
    static func verified(counts: [Int], indices: [UInt32], values: [Float], context: String) throws -> SparseRows {
        guard indices.count == values.count else { throw QuiverError.corruption("\(context): sparse rows have \(indices.count) indices and \(values.count) weights") }
        var offsets = [Int]()
        offsets.reserveCapacity(counts.count + 1)
        offsets.append(0)
        var at = 0
        for (row, n) in counts.enumerated() {
            guard n >= 0, n <= indices.count - at else { throw QuiverError.corruption("\(context): sparse row \(row) runs past its pairs") }
            for i in at..<(at + n) {
                if i > at, indices[i] <= indices[i - 1] {
                    throw QuiverError.corruption("\(context): sparse row \(row) has indices out of order")
                }
                if let problem = SparseVector.problem(index: indices[i], weight: values[i]) {
                    throw QuiverError.corruption("\(context): sparse row \(row): \(problem)")
                }
            }
            at += n
            offsets.append(at)
        }
        guard at == indices.count else { throw QuiverError.corruption("\(context): \(indices.count - at) sparse pairs belong to no row") }
        return SparseRows(offsets: offsets, indices: indices, values: values)
    }

    /// The number of pairs of each row.
    var counts: [Int] { (0..<count).map { offsets[$0 + 1] - offsets[$0] } }
}

// MARK: - Encoding

/// A sparse vector in a file: `count varint | count × u32 index | count × f32 weight`; a run of
/// rows: `rows × count varint | Σcount × u32 | Σcount × f32`. See `Documentation/FileFormats.md`.
extension ByteWriter {
    mutating func writeSparse(_ v: SparseVector) {
        writeVarint(UInt64(v.count))
        writeArray(v.indices)
        writeFloats(v.values)
    }

    /// The rows `rows` of `column`: their counts, then every index, then every weight.
    mutating func writeSparseRows(_ column: SparseRows, _ rows: Range<Int>) {
        for r in rows { writeVarint(UInt64(column.range(r).count)) }
        guard !rows.isEmpty else { return }
        let pairs = column.offsets[rows.lowerBound]..<column.offsets[rows.upperBound]
        writeArray(Array(column.indices[pairs]))
        writeFloats(Array(column.values[pairs]))
    }
}

extension ByteReader {
    mutating func readSparse() throws -> SparseVector {
        let rows = try readSparseRows(1)
        return rows[0]
    }

    /// `rows` rows written by `writeSparseRows`, checked (``SparseRows/verified(counts:indices:values:context:)``).
    mutating func readSparseRows(_ rows: Int) throws -> SparseRows {
        guard rows >= 0, rows <= remaining else { throw corruption("unexpected end of data") }
        var counts = [Int]()
        counts.reserveCapacity(rows)
        var total = 0
        for _ in 0..<rows {
            let n = try readCount(limit: remaining / 8)
            total += n
            guard total <= remaining / 8 else { throw corruption("sparse pairs exceed the data") }
            counts.append(n)
        }
        let indices: [UInt32] = try readArray(total)
        let values = try readFloats(total)
        return try SparseRows.verified(counts: counts, indices: indices, values: values, context: context)
    }
}
