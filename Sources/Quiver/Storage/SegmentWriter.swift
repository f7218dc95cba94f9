#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The rows of a segment about to be written: its scalar columns, and for each vector field
/// where its vectors and norms are (``SegmentVectors``), read from there as the file is written.
struct SegmentContent {
    var rowCount: Int
    var columns: [String: Column]
    /// The vectors and norms of each vector field, by field name.
    var vectors: [String: SegmentVectors]
}

/// Rows taken from several sources (a growing segment, the segments a compaction merges) in
/// runs of consecutive rows, in output order.
struct RowRuns {
    private struct Run {
        var at: Int  // the run's first output row
        var first: Int32  // its first row in the source
        var source: Int32
    }
    private var runs = [Run]()
    /// The number of output rows.
    private(set) var count = 0

    /// The rows `kept[i]` (ascending) of source `i`, in that order.
    init(_ kept: [[Int]]) {
        for (source, rows) in kept.enumerated() {
            var i = 0
            while i < rows.count {
                var j = i + 1
                while j < rows.count && rows[j] == rows[j - 1] + 1 { j += 1 }
                runs.append(Run(at: count, first: Int32(rows[i]), source: Int32(source)))
                count += j - i
                i = j
            }
        }
    }

    /// Calls `body(source, sourceRows, at)` for each run of the output rows `rows`, `at` the
    /// offset of its first row from `rows.lowerBound`.
    func forEach(in rows: Range<Int>, _ body: (_ source: Int, _ sourceRows: Range<Int>, _ at: Int) -> Void) {
        guard !rows.isEmpty else { return }
        precondition(rows.lowerBound >= 0 && rows.upperBound <= count)
        // The last run starting at or before rows.lowerBound.
        var lo = 0, hi = runs.count
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if runs[mid].at <= rows.lowerBound { lo = mid } else { hi = mid }
        }
        var r = lo
        var row = rows.lowerBound
        while row < rows.upperBound {
            let run = runs[r]
            let end = min(r + 1 < runs.count ? runs[r + 1].at : count, rows.upperBound)
            let first = Int(run.first) + (row - run.at)
            body(Int(run.source), first..<(first + end - row), row - rows.lowerBound)
            row = end
            r += 1
        }
    }
}

/// The vectors and norms of one vector field of a segment being written, copied from where they
/// already are into the segment's bytes a piece at a time (never gathered into an array of their
/// own, so that a flush or compaction holds one new copy of the vectors, the segment's own).
struct SegmentVectors {
    var dimension: Int
    /// Stored bytes per vector.
    var rowBytes: Int
    /// Whether the field has norms (float and half vectors; binary vectors have none).
    var hasNorms: Bool
    var rowCount: Int
    /// Copies the stored bytes of `rows` (row-major, little-endian) to the destination.
    private let copyRows: (_ rows: Range<Int>, _ destination: UnsafeMutableRawPointer) -> Void
    /// Copies the norms of `rows` (little-endian float32) to the destination.
    private let copyNorms: (_ rows: Range<Int>, _ destination: UnsafeMutableRawPointer) -> Void

    /// The rows `runs` of sources whose stored vectors and norms `copyVectors(source, rows, to)`
    /// and `copyNorms(source, rows, to)` copy.
    init(
        type: DataType, runs: RowRuns,
        copyVectors: @escaping (_ source: Int, _ rows: Range<Int>, _ destination: UnsafeMutableRawPointer) -> Void,
        copyNorms: @escaping (_ source: Int, _ rows: Range<Int>, _ destination: UnsafeMutableRawPointer) -> Void
    ) {
        dimension = type.dimension!
        rowBytes = type.vectorRowBytes
        hasNorms = !type.isBinaryVector
        rowCount = runs.count
        let rowBytes = self.rowBytes
        copyRows = { rows, destination in
            runs.forEach(in: rows) { source, sourceRows, at in copyVectors(source, sourceRows, destination + at * rowBytes) }
        }
        self.copyNorms = { rows, destination in
            runs.forEach(in: rows) { source, sourceRows, at in copyNorms(source, sourceRows, destination + at * 4) }
        }
    }

    /// The layout of the field's vector region in the file (`SegmentFormat.vectorRegion`).
    var region: (normsOffset: Int, length: Int) {
        SegmentFormat.vectorRegion(rows: rowCount, rowBytes: rowBytes, hasNorms: hasNorms)
    }

    /// Writes the bytes `range` of the field's vector region (the vectors, zero padding to a
    /// multiple of 4, the norms) to `destination`, which need not be zeroed.
    func copyRegion(_ range: Range<Int>, to destination: UnsafeMutableRawPointer) {
        let (normsOffset, length) = region
        precondition(range.lowerBound >= 0 && range.upperBound <= length)
        let vectorBytes = rowCount * rowBytes
        func part(_ span: Range<Int>, rowBytes: Int, _ copy: (Range<Int>, UnsafeMutableRawPointer) -> Void) {
            let wanted = range.clamped(to: span)
            guard !wanted.isEmpty else { return }
            Self.copyBytes(wanted.lowerBound - span.lowerBound..<wanted.upperBound - span.lowerBound, rowBytes: rowBytes,
                           to: destination + (wanted.lowerBound - range.lowerBound), copy)
        }
        part(0..<vectorBytes, rowBytes: rowBytes, copyRows)
        let padding = range.clamped(to: vectorBytes..<normsOffset)
        if !padding.isEmpty { (destination + (padding.lowerBound - range.lowerBound)).initializeMemory(as: UInt8.self, repeating: 0, count: padding.count) }
        if hasNorms { part(normsOffset..<length, rowBytes: 4, copyNorms) }
    }

    /// Copies the bytes `bytes` of an array of rows of `rowBytes` bytes each, which `copy(rows, to)`
    /// copies whole, to `destination` (a row cut by either end goes through a scratch row).
    private static func copyBytes(
        _ bytes: Range<Int>, rowBytes: Int, to destination: UnsafeMutableRawPointer, _ copy: (Range<Int>, UnsafeMutableRawPointer) -> Void
    ) {
        let firstWhole = (bytes.lowerBound + rowBytes - 1) / rowBytes
        let endWhole = max(bytes.upperBound / rowBytes, firstWhole)
        func partial(_ row: Int) {
            let rowRange = (row * rowBytes)..<((row + 1) * rowBytes)
            let wanted = bytes.clamped(to: rowRange)
            guard !wanted.isEmpty else { return }
            withUnsafeTemporaryAllocation(byteCount: rowBytes, alignment: 16) { scratch in
                copy(row..<(row + 1), scratch.baseAddress!)
                (destination + (wanted.lowerBound - bytes.lowerBound)).copyMemory(
                    from: scratch.baseAddress! + (wanted.lowerBound - rowRange.lowerBound), byteCount: wanted.count)
            }
        }
        if bytes.lowerBound % rowBytes != 0 { partial(bytes.lowerBound / rowBytes) }
        if firstWhole < endWhole { copy(firstWhole..<endWhole, destination + (firstWhole * rowBytes - bytes.lowerBound)) }
        if bytes.upperBound % rowBytes != 0, bytes.upperBound / rowBytes >= firstWhole { partial(bytes.upperBound / rowBytes) }
    }
}

extension SegmentFormat {
    /// The layout of a vector region: the vectors, zero padding to a multiple of 4, then the norms.
    static func vectorRegion(rows: Int, rowBytes: Int, hasNorms: Bool) -> (normsOffset: Int, length: Int) {
        let normsOffset = (rows * rowBytes + 3) & ~3
        return (normsOffset, normsOffset + (hasNorms ? rows * 4 : 0))
    }
}

extension GrowingSegment {
    /// The live rows of each partition, in insertion order, by partition id (partitions without
    /// live rows left out).
    func liveRowsByPartition() -> [UInt64: [Int]] {
        var out = [UInt64: [Int]]()
        for row in 0..<rowCount where !deleted[row] { out[partitions[row], default: []].append(row) }
        return out
    }

    /// The rows `live` (ascending, not deleted) as a segment's content. The vectors are read from
    /// this segment's arrays when the content is written.
    func content(of live: [Int]) -> SegmentContent {
        let runs = RowRuns([live])
        var vecs = [String: SegmentVectors]()
        func copying<T>(_ array: [T], _ perRow: Int) -> (Int, Range<Int>, UnsafeMutableRawPointer) -> Void {
            { _, rows, destination in
                array.withUnsafeBytes { all in
                    let stride = perRow * MemoryLayout<T>.stride
                    destination.copyMemory(from: all.baseAddress! + rows.lowerBound * stride, byteCount: rows.count * stride)
                }
            }
        }
        for field in schema.vectorFields {
            let d = field.dataType.dimension!
            let copyVectors: (Int, Range<Int>, UnsafeMutableRawPointer) -> Void
            switch field.dataType {
            case .floatVector: copyVectors = copying(vectors[field.name]!, d)
            case .binaryVector: copyVectors = copying(binaryVectors[field.name]!, d / 8)
            default: copyVectors = copying(halfVectors[field.name]!, d)
            }
            vecs[field.name] = SegmentVectors(
                type: field.dataType, runs: runs, copyVectors: copyVectors, copyNorms: copying(norms[field.name] ?? [], 1))
        }
        let cols = columns.mapValues { $0.gather(live) }
        return SegmentContent(rowCount: live.count, columns: cols, vectors: vecs)
    }
}

/// Receives a segment file's bytes in order, each piece written in place by the writer.
private protocol SegmentSink {
    /// Lets `fill` write the next `count` bytes (which it must all set) in place; returns its result.
    mutating func append<T>(_ count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> T) throws -> T
}

extension SegmentSink {
    mutating func append(_ bytes: [UInt8]) throws {
        try append(bytes.count) { out in bytes.withUnsafeBytes { out.copyMemory(from: $0) } }
    }
}

/// The file laid out in memory: the image becomes the segment's memory (`load`).
private struct ImageSink: SegmentSink {
    let image: PageMemory
    var position = 0

    mutating func append<T>(_ count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> T) throws -> T {
        precondition(position + count <= image.byteCount)
        defer { position += count }
        return fill(UnsafeMutableRawBufferPointer(start: image.base + position, count: count))
    }
}

/// The file written through a bounded buffer: no more than `capacity` bytes of it are in memory
/// at once (memory-mapped segments), beyond a scalar block larger than that.
private struct StreamSink: SegmentSink {
    let file: WritableFile
    let buffer: UnsafeMutableRawBufferPointer
    var used = 0

    init(file: WritableFile, capacity: Int) {
        self.file = file
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    func deallocate() { buffer.deallocate() }

    mutating func flush() throws {
        if used > 0 { try file.write(UnsafeRawBufferPointer(rebasing: buffer[0..<used])) }
        used = 0
    }

    mutating func append<T>(_ count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> T) throws -> T {
        if count > buffer.count - used { try flush() }
        guard count <= buffer.count else {
            let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
            defer { piece.deallocate() }
            let result = fill(piece)
            try file.write(UnsafeRawBufferPointer(piece))
            return result
        }
        defer { used += count }
        return fill(UnsafeMutableRawBufferPointer(rebasing: buffer[used..<(used + count)]))
    }
}

/// Writes a `SegmentContent` to a new segment file and fsyncs it.
enum SegmentWriter {
    /// Bytes of a streamed segment held in memory at once (see `write`).
    static let streamBufferBytes = 4 * SegmentFormat.vectorChunkBytes

    /// Writes `content` as segment `id` at `path` and fsyncs it. With `inMemory`, the file is laid
    /// out in one ``PageMemory`` image, written with one `write`, and returned, for `SealedSegment`
    /// to verify and use as its memory without reading the file back (a read-back would only have
    /// come from the page cache the write just filled); otherwise it is written through a buffer of
    /// `streamBufferBytes` and nil is returned.
    ///
    /// Either way the vectors and norms are copied from where they are (``SegmentVectors``) into
    /// their place about 1 MiB (whole checksum groups) at a time, and each group's checksum is
    /// computed there (`laySections`): the only copy of the vectors is the segment's own.
    ///
    /// `version` 1 (the earlier format, 1 MiB checksum chunks) is for tests of reading old files.
    @discardableResult
    static func write(
        _ content: SegmentContent, id: UInt64, path: String, inMemory: Bool, version: UInt32 = SegmentFormat.version
    ) throws -> MappedFile? {
        precondition(SegmentFormat.supportedVersions.contains(version))
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
        for name in vectorNames {
            let vectors = content.vectors[name]!
            precondition(vectors.rowCount == content.rowCount)
            offset = (offset + 63) & ~63
            let length = vectors.region.length
            let groupRows = version >= 2 ? SegmentFormat.vectorGroupRows(rowBytes: vectors.rowBytes) : nil
            let count = groupRows.map { SegmentFormat.groupCount(rows: vectors.rowCount, rowsPerGroup: $0) }
                ?? (length + SegmentFormat.vectorChunkBytes - 1) / SegmentFormat.vectorChunkBytes
            footer.vectors.append(SegmentFormat.VectorSection(
                name: name, dimension: vectors.dimension, offset: UInt64(offset), rowsPerGroup: groupRows,
                checksums: [UInt32](repeating: 0, count: count)))
            offset += length
        }
        let dataEnd = offset
        // The footer's length does not depend on the checksums' values (fixed-width integers).
        let footerLength = footer.encode().count
        let size = dataEnd + footerLength + SegmentFormat.trailerSize

        /// Appends the file's bytes in order to `sink`.
        func lay(_ sink: inout some SegmentSink) throws {
            var header = ByteWriter()
            header.writeBytes(SegmentFormat.magic)
            header.writeInteger(version)
            header.writeInteger(UInt32(0))
            try sink.append(header.bytes)
            var position = header.bytes.count
            for block in blocks {
                try sink.append(block)
                position += block.count
            }
            for (i, name) in vectorNames.enumerated() {
                let vectors = content.vectors[name]!
                let start = Int(footer.vectors[i].offset)
                _ = try sink.append(start - position) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
                let length = vectors.region.length
                if let groupRows = footer.vectors[i].rowsPerGroup {
                    try laySections(vectors, groupRows: groupRows, checksums: &footer.vectors[i].checksums, &sink)
                } else {
                    for c in footer.vectors[i].checksums.indices {
                        let s = c * SegmentFormat.vectorChunkBytes, e = min(s + SegmentFormat.vectorChunkBytes, length)
                        footer.vectors[i].checksums[c] = try sink.append(e - s) { out in
                            vectors.copyRegion(s..<e, to: out.baseAddress!)
                            return VectorChecksum.checksum(UnsafeRawBufferPointer(out))
                        }
                    }
                }
                position = start + length
            }
            let footerBytes = footer.encode()
            precondition(footerBytes.count == footerLength, "segment footer length changed with its checksums")
            try sink.append(footerBytes)
            var trailer = ByteWriter()
            trailer.writeInteger(UInt32(footerBytes.count))
            trailer.writeInteger(CRC32C.checksum(footerBytes))
            trailer.writeBytes(SegmentFormat.endMagic)
            try sink.append(trailer.bytes)
        }

        let file = try WritableFile(path: path, truncate: true)
        defer { file.close() }
        guard inMemory else {
            var sink = StreamSink(file: file, capacity: streamBufferBytes)
            defer { sink.deallocate() }
            try lay(&sink)
            try sink.flush()
            try file.sync()
            return nil
        }
        guard let image = PageMemory(byteCount: size) else {
            throw QuiverError(.io, "cannot reserve \(size) bytes to write segment '\(path)'", cause: SystemError(errno: errno, call: "mmap"))
        }
        var sink = ImageSink(image: image)
        try lay(&sink)
        precondition(sink.position == size)
        try file.write(image.bytes)
        try file.sync()
        return MappedFile(memory: image, path: path)
    }
}

extension SegmentWriter {
    /// Appends one field's vector region to `sink` in version 2's layout (the vectors, zero
    /// padding to a multiple of 4, the norms), about `vectorChunkBytes` at a time, and sets each
    /// group's checksum from the bytes where they were laid: the vectors' part first, then the
    /// norms' part over it (`SegmentFormat.groupChecksum`).
    fileprivate static func laySections(
        _ vectors: SegmentVectors, groupRows: Int, checksums: inout [UInt32], _ sink: inout some SegmentSink
    ) throws {
        let rows = vectors.rowCount, (normsOffset, length) = vectors.region
        /// Lays the part of the region holding rows' items of `itemBytes` bytes from `base` on,
        /// whole groups at a time, and lets `update` fold each group's bytes into its checksum.
        func lay(from base: Int, itemBytes: Int, _ update: (Int, UnsafeRawBufferPointer) -> Void) throws {
            let groupsPerPiece = max(1, SegmentFormat.vectorChunkBytes / (groupRows * itemBytes))
            var group = 0
            while group < checksums.count {
                let end = min(group + groupsPerPiece, checksums.count)
                let first = group * groupRows, last = min(end * groupRows, rows)
                try sink.append((last - first) * itemBytes) { out in
                    vectors.copyRegion((base + first * itemBytes)..<(base + last * itemBytes), to: out.baseAddress!)
                    for g in group..<end {
                        let s = (g * groupRows - first) * itemBytes, e = (min((g + 1) * groupRows, rows) - first) * itemBytes
                        update(g, UnsafeRawBufferPointer(rebasing: out[s..<e]))
                    }
                }
                group = end
            }
        }
        try lay(from: 0, itemBytes: vectors.rowBytes) { g, bytes in checksums[g] = SegmentFormat.groupChecksum(vectors: bytes) }
        let vectorBytes = rows * vectors.rowBytes
        _ = try sink.append(normsOffset - vectorBytes) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        if vectors.hasNorms {
            try lay(from: normsOffset, itemBytes: 4) { g, bytes in checksums[g] = SegmentFormat.groupChecksum(checksums[g], norms: bytes) }
        }
        precondition(normsOffset + (vectors.hasNorms ? rows * 4 : 0) == length)
    }
}

extension SealedSegment {
    /// Writes `content` as a new segment file (`SegmentWriter.write`) and opens it through the
    /// verifying reader: from the bytes written when `load` (segments read into memory), else
    /// memory-mapped from the file (`DatabaseOptions.memoryMapSegments`), which was written
    /// through a bounded buffer.
    static func write(_ content: SegmentContent, id: UInt64, path: String, schema: CollectionSchema, load: Bool) throws -> SealedSegment {
        guard let written = try SegmentWriter.write(content, id: id, path: path, inMemory: load) else {
            return try SealedSegment(path: path, id: id, schema: schema, load: false)
        }
        return try SealedSegment(file: written, id: id, schema: schema)
    }
}
