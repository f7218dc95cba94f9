import Dispatch

/// An immutable, flushed segment: scalar columns decoded in memory, vectors used in place in the
/// file's bytes (read into memory or memory-mapped, see `DatabaseOptions.memoryMapSegments`).
///
/// Opening verifies the structure, the footer and every scalar block; any mismatch throws
/// `.corruption` naming the file. Vectors are verified a group of rows at a time when first read
/// (format version 2, ``VectorVerifier``), or all on open (version 1): every accessor of the
/// vectors below verifies what it hands out, or hands out a ``VectorSpace`` that verifies each row
/// it scores, whose damage the caller checks with `checkVectors` before returning results.
final class SealedSegment: SegmentColumns {
    let id: UInt64
    let path: String
    let rowCount: Int
    let columns: [String: Column]
    let stats: [String: [BlockStats]]
    private let file: MappedFile
    private let vectorLayouts: [String: VectorLayout]

    struct VectorLayout {
        var type: DataType
        var offset: Int
        var dimension: Int
        var rowBytes: Int
        var normsOffset: Int
        /// Version 2's per-group verification; nil when everything was verified on open (version 1).
        var verifier: VectorVerifier?
    }

    /// Opens the segment file at `path`, read into memory (`load`) or memory-mapped.
    convenience init(path: String, id: UInt64, schema: CollectionSchema, load: Bool) throws {
        try self.init(file: try MappedFile(path: path, load: load), id: id, schema: schema)
    }

    /// Opens the segment held by `file` (verifying it whole).
    init(file: MappedFile, id: UInt64, schema: CollectionSchema) throws {
        let path = file.path
        self.path = path
        self.id = id
        self.file = file
        let bytes = file.bytes
        let name = "segment '\(path)'"
        func bad(_ what: String) -> QuiverError { QuiverError.corruption("\(name): \(what)") }
        guard bytes.count >= SegmentFormat.headerSize + SegmentFormat.trailerSize else { throw bad("file too short") }
        guard Array(bytes[0..<8]) == SegmentFormat.magic else { throw bad("bad magic number") }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard SegmentFormat.supportedVersions.contains(version) else { throw bad("unsupported version \(version)") }
        guard bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self) == 0 else { throw bad("reserved header bytes are not zero") }
        let t = bytes.count - SegmentFormat.trailerSize
        guard Array(bytes[(t + 8)..<(t + 16)]) == SegmentFormat.endMagic else { throw bad("bad trailer magic") }
        let footerLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: t, as: UInt32.self)))
        let footerCRC = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: t + 4, as: UInt32.self))
        guard footerLength <= t - SegmentFormat.headerSize else { throw bad("footer length \(footerLength) is too large") }
        let footerBytes = UnsafeRawBufferPointer(rebasing: bytes[(t - footerLength)..<t])
        guard CRC32C.checksum(footerBytes) == footerCRC else { throw bad("footer checksum mismatch") }
        var reader = ByteReader(footerBytes, context: "\(name) footer")
        let footer = try SegmentFormat.Footer.decode(&reader, version: version)
        guard footer.segmentID == id else { throw bad("segment id \(footer.segmentID) differs from the manifest's \(id)") }
        rowCount = footer.rowCount
        let dataEnd = t - footerLength

        // The sections must be exactly the schema's.
        var expectedScalars = Set(schema.fields.filter { !$0.dataType.isVector }.map(\.name))
        if schema.enableDynamicField { expectedScalars.insert(dynamicFieldName) }
        let expectedVectors = Set(schema.vectorFields.map(\.name))
        guard Set(footer.scalars.map(\.name)) == expectedScalars, footer.scalars.count == expectedScalars.count,
            Set(footer.vectors.map(\.name)) == expectedVectors, footer.vectors.count == expectedVectors.count
        else { throw bad("its columns do not match the collection's schema") }

        var columns = [String: Column]()
        var stats = [String: [BlockStats]]()
        for section in footer.scalars {
            var builder = SegmentFormat.ColumnBuilder(capacity: rowCount)
            var blockStats = [BlockStats]()
            var rows = 0
            for (i, block) in section.blocks.enumerated() {
                let context = "\(name) column '\(section.name)' block \(i)"
                // Checked before any sum: a checksum-valid footer may still hold any offset.
                guard let start = Int(exactly: block.offset), start >= SegmentFormat.headerSize, start <= dataEnd,
                    Int(block.storedLength) <= dataEnd - start
                else {
                    throw QuiverError.corruption("\(context): offset out of range")
                }
                let length = Int(block.storedLength)
                let stored = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
                guard CRC32C.checksum(stored) == block.crc else { throw QuiverError.corruption("\(context): checksum mismatch") }
                guard Int(block.rowCount) <= rowCount - rows, block.rawLength <= UInt32(1 << 30) else {
                    throw QuiverError.corruption("\(context): row count out of range")
                }
                let raw = try LZ4.decompress(stored, rawLength: Int(block.rawLength), context: context)
                try raw.withUnsafeBytes {
                    try builder.decodeBlock($0, rows: Int(block.rowCount), context: context)
                }
                blockStats.append(BlockStats(
                    firstRow: rows, rowCount: Int(block.rowCount), min: block.min, max: block.max,
                    nullCount: Int(block.nullCount)))
                rows += Int(block.rowCount)
            }
            guard rows == rowCount else { throw bad("column '\(section.name)' has \(rows) rows, expected \(rowCount)") }
            let field = schema.field(named: section.name)
            let fieldType = field?.dataType ?? .json
            columns[section.name] = try Self.checkStorage(builder.build() ?? Column(emptyFor: fieldType), type: fieldType, name: section.name, file: name)
            stats[section.name] = blockStats
        }

        var layouts = [String: VectorLayout]()
        var regions = [(Int, Int)]()
        for section in footer.vectors {
            let type = schema.field(named: section.name)!.dataType
            let d = type.dimension!
            guard section.dimension == d else { throw bad("vector field '\(section.name)' has dimension \(section.dimension), expected \(d)") }
            let (normsOffset, length) = SegmentFormat.vectorRegion(rows: rowCount, rowBytes: type.vectorRowBytes, hasNorms: !type.isBinaryVector)
            guard let start = Int(exactly: section.offset), start % 64 == 0, start >= SegmentFormat.headerSize, start <= dataEnd,
                length <= dataEnd - start
            else {
                throw bad("vector field '\(section.name)' is out of range")
            }
            regions.append((start, start + length))
            var verifier: VectorVerifier? = nil
            if let groupRows = section.rowsPerGroup {
                guard section.checksums.count == SegmentFormat.groupCount(rows: rowCount, rowsPerGroup: groupRows) else {
                    throw bad("vector field '\(section.name)' has a bad checksum count")
                }
                // The groups cover the vectors and the norms; the padding between them is checked here.
                for i in (start + rowCount * type.vectorRowBytes)..<(start + normsOffset) where bytes[i] != 0 {
                    throw bad("padding byte \(i) is not zero")
                }
                verifier = VectorVerifier(
                    vectors: bytes.baseAddress! + start, norms: type.isBinaryVector ? nil : bytes.baseAddress! + start + normsOffset,
                    rowCount: rowCount, rowBytes: type.vectorRowBytes, rowsPerGroup: groupRows, checksums: section.checksums,
                    owner: file, label: "\(name) vector field '\(section.name)'")
            } else {
                let chunk = SegmentFormat.vectorChunkBytes
                let chunks = (length + chunk - 1) / chunk
                guard section.checksums.count == chunks else { throw bad("vector field '\(section.name)' has a bad checksum count") }
                let region = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
                let failed = Self.firstBadChunk(region, crcs: section.checksums)
                if let failed { throw bad("vector field '\(section.name)' chunk \(failed) checksum mismatch") }
            }
            layouts[section.name] = VectorLayout(
                type: type, offset: start, dimension: d, rowBytes: type.vectorRowBytes, normsOffset: start + normsOffset, verifier: verifier)
        }
        // Every byte is accounted for: blocks, vectors and footer tile the file, and the only gaps
        // are the zero padding before vector sections. So any flipped byte is detected.
        var covered = footer.scalars.flatMap { $0.blocks.map { (Int($0.offset), Int($0.offset) + Int($0.storedLength)) } }
        covered += regions
        covered.sort { $0.0 < $1.0 }
        var position = SegmentFormat.headerSize
        for (start, end) in covered + [(dataEnd, dataEnd)] {
            guard start >= position, start - position < 64 else { throw bad("unexpected bytes at \(position)") }
            for i in position..<start where bytes[i] != 0 { throw bad("padding byte \(i) is not zero") }
            position = max(position, end)
        }
        self.columns = columns
        self.stats = stats
        vectorLayouts = layouts
    }

    /// Checks that a decoded column has the storage its field type needs.
    private static func checkStorage(_ column: Column, type: DataType, name: String, file: String) throws -> Column {
        let ok: Bool
        switch (type, column.storage) {
        case (.bool, .bool), (.float, .float), (.double, .double), (.varchar, .string),
            (.json, .value), (.array, .value), (.sparseFloatVector, .sparse): ok = true
        case (let t, .int) where t.isInteger: ok = true
        default: ok = false
        }
        guard ok else { throw QuiverError.corruption("\(file): column '\(name)' has the wrong storage for \(type)") }
        return column
    }

    /// Verifies vector chunk checksums on all cores; returns the first failing chunk.
    private static func firstBadChunk(_ region: UnsafeRawBufferPointer, crcs: [UInt32]) -> Int? {
        let chunk = SegmentFormat.vectorChunkBytes
        let bad = UnsafeMutableBufferPointer<Bool>.allocate(capacity: crcs.count)
        bad.initialize(repeating: false)
        defer { bad.deallocate() }
        let workers = min(crcs.count, max(1, ProcessInfo.processInfo.activeProcessorCount))
        // Each worker writes only its own indices of `bad`; `region` outlives the call.
        let regionBox = UncheckedBox(region), badBox = UncheckedBox(bad)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let region = regionBox.value, bad = badBox.value
            var i = w
            while i < crcs.count {
                let s = i * chunk, e = min(s + chunk, region.count)
                if VectorChecksum.checksum(UnsafeRawBufferPointer(rebasing: region[s..<e])) != crcs[i] { bad[i] = true }
                i += workers
            }
        }
        return bad.firstIndex(of: true)
    }

    // MARK: Vectors, verified before use

    /// Verifies every row of field `name` not yet verified.
    ///
    /// - Throws: `.corruption` naming the file when a row's checksum fails (now or earlier).
    func verifyVectors(_ name: String) throws {
        try vectorLayouts[name]!.verifier?.verifyAll()
    }

    /// Throws the damage found so far in field `name`'s rows: searches through ``space(_:metric:)``
    /// verify the rows they score as they go and call this before returning anything.
    func checkVectors(_ name: String) throws {
        if let damage = vectorLayouts[name]?.verifier?.damage { throw damage }
    }

    /// The float32 vectors of field `name`, row-major, in the file's bytes (not copied), all verified.
    func vectors(_ name: String) throws -> UnsafeBufferPointer<Float> {
        try verifyVectors(name)
        return rawVectors(name)
    }

    /// The stored bytes of the vectors of field `name` (any vector type), in the file's bytes, all verified.
    func vectorBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        try verifyVectors(name)
        return rawVectorBytes(name)
    }

    /// The Euclidean norms of the vectors of field `name` (float and half vectors), all verified.
    func norms(_ name: String) throws -> UnsafeBufferPointer<Float> {
        try verifyVectors(name)
        return rawNorms(name)
    }

    /// The float32 vectors of field `name` for an index to search: each row is verified when the
    /// index first scores it; the caller calls `checkVectors(name)` before using the results.
    func space(_ name: String, metric: MetricType) -> VectorSpace {
        let l = vectorLayouts[name]!
        return VectorSpace(
            vectors: rawVectors(name), norms: rawNorms(name), count: rowCount, dimension: l.dimension, metric: metric,
            verifier: l.verifier?.pending)
    }

    /// The verifiers of the vector fields (format version 2; none for version 1), for
    /// `VectorVerifier.readingWhole(_:_:)`: a compaction or an index build reads every row.
    var verifiers: [VectorVerifier] { vectorLayouts.values.compactMap(\.verifier) }

    /// Calls `body` with field `name`'s stored vector bytes and norms (empty for binary vectors)
    /// for a search to scan whole: every row is verified first, and damage is recorded, not
    /// thrown: the search calls `checkVectors(name)` before returning anything. In a mapped file
    /// the rows are read ahead while `body` runs (``VectorVerifier/readingWhole(_:)``).
    func scanning<T>(_ name: String, _ body: (UnsafeRawBufferPointer, UnsafeBufferPointer<Float>) throws -> T) rethrows -> T {
        let l = vectorLayouts[name]!
        let norms = l.type.isBinaryVector ? UnsafeBufferPointer(start: nil, count: 0) : rawNorms(name)
        guard let verifier = l.verifier else { return try body(rawVectorBytes(name), norms) }
        return try verifier.readingWhole {
            verifier.ensureAll()
            return try body(rawVectorBytes(name), norms)
        }
    }

    /// The stored vector of `row` as a value: `.vector` for float and half types, `.bytes` for binary.
    ///
    /// - Throws: `.corruption` naming the file when the row's checksum group is damaged, or one
    ///   of the field's groups was found damaged before (damage is sticky, as for searches).
    func vectorValue(_ name: String, row: Int) throws -> Value {
        let l = vectorLayouts[name]!
        if let verifier = l.verifier {
            verifier.ensure(row: row)
            try checkVectors(name)
        }
        let raw = UnsafeRawBufferPointer(rebasing: rawVectorBytes(name)[(row * l.rowBytes)..<((row + 1) * l.rowBytes)])
        return VectorStorage.value(raw, type: l.type)
    }

    private func rawVectors(_ name: String) -> UnsafeBufferPointer<Float> {
        let l = vectorLayouts[name]!
        precondition(l.type == .floatVector(dimension: l.dimension))
        let p = (file.bytes.baseAddress! + l.offset).assumingMemoryBound(to: Float.self)
        return UnsafeBufferPointer(start: p, count: rowCount * l.dimension)
    }

    private func rawVectorBytes(_ name: String) -> UnsafeRawBufferPointer {
        let l = vectorLayouts[name]!
        return UnsafeRawBufferPointer(start: file.bytes.baseAddress! + l.offset, count: rowCount * l.rowBytes)
    }

    private func rawNorms(_ name: String) -> UnsafeBufferPointer<Float> {
        let l = vectorLayouts[name]!
        let p = (file.bytes.baseAddress! + l.normsOffset).assumingMemoryBound(to: Float.self)
        return UnsafeBufferPointer(start: p, count: rowCount)
    }

    func column(named name: String) -> Column? { columns[name] }
    func blockStats(named name: String) -> [BlockStats]? { stats[name] }
}

import class Foundation.ProcessInfo
