/// The rows of a segment about to be written: columns, vectors and norms, all `rowCount` long.
struct SegmentContent {
    var rowCount: Int
    var columns: [String: Column]
    /// Stored vectors by field name: row-major little-endian bytes of the field's element type.
    var vectors: [String: [UInt8]]
    /// Euclidean norms of float and half vectors (none for binary vectors).
    var norms: [String: [Float]]
    /// Vector dimensions by field name.
    var dimensions: [String: Int]
}

extension SegmentFormat {
    /// The layout of a vector region: the vectors, zero padding to a multiple of 4, then the norms.
    static func vectorRegion(rows: Int, rowBytes: Int, hasNorms: Bool) -> (normsOffset: Int, length: Int) {
        let normsOffset = (rows * rowBytes + 3) & ~3
        return (normsOffset, normsOffset + (hasNorms ? rows * 4 : 0))
    }
}

extension GrowingSegment {
    /// The rows not deleted, in insertion order, and their row numbers here.
    func liveContent() -> (content: SegmentContent, rows: [Int]) {
        var live = [Int]()
        live.reserveCapacity(liveCount)
        for row in 0..<rowCount where !deleted[row] { live.append(row) }
        var vecs = [String: [UInt8]]()
        var nrms = [String: [Float]]()
        var dims = [String: Int]()
        func gather<T>(_ src: [T], _ perRow: Int) -> [UInt8] {
            var out = [T]()
            out.reserveCapacity(live.count * perRow)
            for row in live { out.append(contentsOf: src[(row * perRow)..<((row + 1) * perRow)]) }
            return out.withUnsafeBytes { Array($0) }
        }
        for field in schema.vectorFields {
            let d = field.dataType.dimension!
            dims[field.name] = d
            switch field.dataType {
            case .floatVector: vecs[field.name] = gather(vectors[field.name]!, d)
            case .binaryVector: vecs[field.name] = gather(binaryVectors[field.name]!, d / 8)
            default: vecs[field.name] = gather(halfVectors[field.name]!, d)
            }
            if let n = norms[field.name] { nrms[field.name] = live.map { n[$0] } }
        }
        let cols = columns.mapValues { $0.gather(live) }
        return (SegmentContent(rowCount: live.count, columns: cols, vectors: vecs, norms: nrms, dimensions: dims), live)
    }
}

/// Writes a `SegmentContent` to a new segment file and fsyncs it.
enum SegmentWriter {
    static func write(_ content: SegmentContent, id: UInt64, path: String) throws {
        let file = try WritableFile(path: path, truncate: true)
        defer { file.close() }
        var offset = 0
        func emit(_ bytes: [UInt8]) throws {
            try file.write(bytes)
            offset += bytes.count
        }
        var header = ByteWriter()
        header.writeBytes(SegmentFormat.magic)
        header.writeInteger(SegmentFormat.version)
        header.writeInteger(UInt32(0))
        try emit(header.bytes)

        var footer = SegmentFormat.Footer(segmentID: id, rowCount: content.rowCount, scalars: [], vectors: [])
        for name in content.columns.keys.sorted() {
            let column = content.columns[name]!
            precondition(column.count == content.rowCount)
            var section = SegmentFormat.ScalarSection(name: name, blocks: [])
            var start = 0
            while start < content.rowCount {
                let end = min(start + SegmentFormat.rowsPerBlock, content.rowCount)
                let raw = SegmentFormat.encodeBlock(column, start..<end)
                let stored = LZ4.compress(raw.bytes)
                section.blocks.append(SegmentFormat.Block(
                    offset: UInt64(offset), storedLength: UInt32(stored.count), rawLength: UInt32(raw.bytes.count),
                    rowCount: UInt32(end - start), crc: CRC32C.checksum(stored), nullCount: UInt32(raw.nullCount),
                    min: raw.min, max: raw.max))
                try emit(stored)
                start = end
            }
            footer.scalars.append(section)
        }
        for name in content.vectors.keys.sorted() {
            let pad = (64 - offset % 64) % 64
            if pad > 0 { try emit([UInt8](repeating: 0, count: pad)) }
            let vectors = content.vectors[name]!
            let norms = content.norms[name]
            let dimension = content.dimensions[name]!
            let layout = SegmentFormat.vectorRegion(
                rows: content.rowCount, rowBytes: content.rowCount > 0 ? vectors.count / content.rowCount : 0,
                hasNorms: norms != nil)
            var w = ByteWriter(capacity: layout.length)
            w.writeBytes(vectors)
            w.align(to: 4)
            if let norms { w.writeFloats(norms) }
            let region = w.bytes
            precondition(region.count == layout.length)
            var crcs = [UInt32]()
            region.withUnsafeBytes { raw in
                var s = 0
                while s < raw.count {
                    let e = min(s + SegmentFormat.vectorChunkBytes, raw.count)
                    crcs.append(VectorChecksum.checksum(UnsafeRawBufferPointer(rebasing: raw[s..<e])))
                    s = e
                }
            }
            footer.vectors.append(SegmentFormat.VectorSection(
                name: name, dimension: dimension, offset: UInt64(offset), chunkCRCs: crcs))
            try emit(region)
        }
        let footerBytes = footer.encode()
        try emit(footerBytes)
        var trailer = ByteWriter()
        trailer.writeInteger(UInt32(footerBytes.count))
        trailer.writeInteger(CRC32C.checksum(footerBytes))
        trailer.writeBytes(SegmentFormat.endMagic)
        try emit(trailer.bytes)
        try file.sync()
    }
}
