#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// Writes `content` as segment `id` at `path` and fsyncs it; returns the file's bytes as
    /// written, for `SealedSegment` to verify and use without reading the file back.
    ///
    /// The file is laid out in one ``PageMemory`` image (header, compressed scalar blocks, the
    /// 64-byte-aligned vector regions, footer, trailer) and written with one `write`: the vectors
    /// are copied once, into the image, and the image becomes the segment's memory. (A read-back
    /// would only have come from the page cache the write just filled, not from the disk.)
    @discardableResult
    static func write(_ content: SegmentContent, id: UInt64, path: String) throws -> MappedFile {
        var footer = SegmentFormat.Footer(segmentID: id, rowCount: content.rowCount, scalars: [], vectors: [])
        // The compressed scalar blocks and where they go.
        var blocks = [[UInt8]]()
        var offset = SegmentFormat.headerSize
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
                blocks.append(stored)
                offset += stored.count
                start = end
            }
            footer.scalars.append(section)
        }
        // The vector regions (vectors, zero padding to 4 bytes, norms), each 64-byte aligned.
        let vectorNames = content.vectors.keys.sorted()
        var regions = [(start: Int, normsOffset: Int, length: Int)]()
        for name in vectorNames {
            offset = (offset + 63) & ~63
            let layout = SegmentFormat.vectorRegion(
                rows: content.rowCount, rowBytes: content.rowCount > 0 ? content.vectors[name]!.count / content.rowCount : 0,
                hasNorms: content.norms[name] != nil)
            regions.append((offset, layout.normsOffset, layout.length))
            let chunks = (layout.length + SegmentFormat.vectorChunkBytes - 1) / SegmentFormat.vectorChunkBytes
            footer.vectors.append(SegmentFormat.VectorSection(
                name: name, dimension: content.dimensions[name]!, offset: UInt64(offset),
                chunkCRCs: [UInt32](repeating: 0, count: chunks)))
            offset += layout.length
        }
        let dataEnd = offset
        // The footer's length does not depend on the checksums' values (fixed-width integers).
        let footerLength = footer.encode().count
        let size = dataEnd + footerLength + SegmentFormat.trailerSize
        guard let image = PageMemory(byteCount: size) else {
            throw QuiverError(.io, "cannot reserve \(size) bytes to write segment '\(path)'", cause: SystemError(errno: errno, call: "mmap"))
        }
        let base = image.base  // zero-filled: the padding needs no writes
        func put(_ bytes: [UInt8], at position: Int) {
            bytes.withUnsafeBytes { (base + position).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
        var header = ByteWriter()
        header.writeBytes(SegmentFormat.magic)
        header.writeInteger(SegmentFormat.version)
        header.writeInteger(UInt32(0))
        put(header.bytes, at: 0)
        for (block, entry) in zip(blocks, footer.scalars.flatMap(\.blocks)) where !block.isEmpty { put(block, at: Int(entry.offset)) }
        for (i, name) in vectorNames.enumerated() {
            let region = regions[i]
            content.vectors[name]!.withUnsafeBytes { v in
                if v.count > 0 { (base + region.start).copyMemory(from: v.baseAddress!, byteCount: v.count) }
            }
            // Norms are stored as little-endian floats, as the vectors are read in place.
            content.norms[name]?.withUnsafeBytes { n in
                if n.count > 0 { (base + region.start + region.normsOffset).copyMemory(from: n.baseAddress!, byteCount: n.count) }
            }
            let bytes = UnsafeRawBufferPointer(start: base + region.start, count: region.length)
            var s = 0
            for c in footer.vectors[i].chunkCRCs.indices {
                let e = min(s + SegmentFormat.vectorChunkBytes, bytes.count)
                footer.vectors[i].chunkCRCs[c] = VectorChecksum.checksum(UnsafeRawBufferPointer(rebasing: bytes[s..<e]))
                s = e
            }
        }
        let footerBytes = footer.encode()
        precondition(footerBytes.count == footerLength, "segment footer length changed with its checksums")
        put(footerBytes, at: dataEnd)
        var trailer = ByteWriter()
        trailer.writeInteger(UInt32(footerBytes.count))
        trailer.writeInteger(CRC32C.checksum(footerBytes))
        trailer.writeBytes(SegmentFormat.endMagic)
        put(trailer.bytes, at: dataEnd + footerLength)

        let file = try WritableFile(path: path, truncate: true)
        defer { file.close() }
        try file.write(image.bytes)
        try file.sync()
        return MappedFile(memory: image, path: path)
    }
}

extension SealedSegment {
    /// Writes `content` as a new segment file (`SegmentWriter.write`) and opens it through the
    /// verifying reader: from the bytes written when `load` (segments read into memory), else
    /// memory-mapped from the file (`DatabaseOptions.memoryMapSegments`).
    static func write(_ content: SegmentContent, id: UInt64, path: String, schema: CollectionSchema, load: Bool) throws -> SealedSegment {
        let written = try SegmentWriter.write(content, id: id, path: path)
        guard load else { return try SealedSegment(path: path, id: id, schema: schema, load: false) }
        return try SealedSegment(file: written, id: id, schema: schema)
    }
}
