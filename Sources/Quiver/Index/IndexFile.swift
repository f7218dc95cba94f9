/// The file of one segment's index: `seg-<segment id>-<number>.qidx`, beside the segment and
/// listed in the manifest. See `Documentation/FileFormats.md` § Index files.
///
/// ```
/// magic "QVINDEX\0" (8) | version u32 | kind u8 (1 HNSW, 2 IVF, 3 sparse inverted) | flags u8 (bit 0: SQ8 codes)
/// | metric u8 | reserved u8 | segment id u64 | rows u64 | dimension u32 | payload length u64
/// | payload | crc32c u32 (of every byte before it)
/// ```
/// All integers little-endian. The loader checks the checksum first and then every structural
/// invariant the search relies on (link counts, ids in range, list offsets), so a damaged file
/// throws `.corruption` naming it and never traps.
///
/// From version 2 on, an HNSW file's layer-0 links start at a file offset that is a multiple of
/// ``linkAlignment`` (zero bytes before them), so that a loaded file's links and SQ8 codes are
/// used where they lie in the ``MappedFile`` — mapped, or read once into page memory — instead
/// of being copied into new pages (which cost 62% of opening 10M × 128 mapped; Benchmarks.md).
/// Version 1 files are still read, their links copied when they are not aligned.
///
/// From version 3 on, an HNSW file's layer-0 links and SQ8 codes are checksummed per group of
/// nodes (the checksums follow the payload's other parts) and left out of the file checksum:
/// they are verified, and the links' counts and targets checked, when a walk first reads a
/// group (``VectorVerifier``), so that loading reads the small parts only. Version 2 files are
/// still read and verified whole on load.
enum IndexFile {
    static let magic: [UInt8] = Array("QVINDEX".utf8) + [0]
    static let version: UInt32 = 3
    /// The file offset that HNSW layer-0 links are aligned to (version 2): a cache line.
    static let linkAlignment = 64
    static let headerSize = 8 + 4 + 4 + 8 + 8 + 4 + 8

    static func metricCode(_ m: MetricType) -> UInt8 {
        switch m {
        case .l2: 1
        case .ip: 2
        case .cosine: 3
        case .hamming: 4
        case .jaccard: 5
        }
    }

    static func encode(_ index: SegmentIndex, segmentID: UInt64, metric: MetricType) -> [UInt8] {
        var p = ByteWriter()
        let kind: UInt8, sq: Bool, rows: Int, dim: Int
        /// Payload ranges verified per group instead of by the file checksum (HNSW's links and codes).
        var lazy = [Range<Int>]()
        switch index {
        case .hnsw(let h):
            kind = 1; sq = h.quantizer != nil; rows = h.count; dim = h.dimension
            p.writeInteger(UInt32(h.m))
            p.writeInteger(UInt32(h.maxLevel))
            p.writeInteger(h.entryPoint)
            p.writeBytes(h.levels)
            writeInts(&p, h.upperOffsets)
            p.writeInteger(UInt64(h.upper.count))
            writeInts(&p, h.upper)
            let at = headerSize + p.bytes.count
            p.writeBytes([UInt8](repeating: 0, count: (linkAlignment - at % linkAlignment) % linkAlignment))
            let links = p.bytes.count
            writeInts(&p, h.level0.buffer)
            lazy.append(links..<p.bytes.count)
            if let q = h.quantizer {
                writeQuantizer(&p, q, codes: UnsafeRawBufferPointer(h.codes.buffer))
                lazy.append((p.bytes.count - h.codes.count)..<p.bytes.count)
            }
            // Version 3: rows per group, the group count, each group's checksum over the bytes as written.
            let blockBytes = (h.m0 + 1) * 4
            let groupRows = SegmentFormat.vectorGroupRows(rowBytes: blockBytes)
            let groups = SegmentFormat.groupCount(rows: h.count, rowsPerGroup: groupRows)
            let sums = p.bytes.withUnsafeBytes { payload in
                (0..<groups).map { g in
                    SegmentFormat.groupChecksum(
                        vectors: payload.baseAddress! + links, norms: h.quantizer == nil ? nil : payload.baseAddress! + lazy[1].lowerBound,
                        normBytes: h.dimension, rows: (g * groupRows)..<min((g + 1) * groupRows, h.count), rowBytes: blockBytes)
                }
            }
            p.writeInteger(UInt32(groupRows))
            p.writeInteger(UInt32(groups))
            for c in sums { p.writeInteger(c) }
        case .ivf(let v):
            kind = 2; sq = v.quantizer != nil; rows = v.count; dim = v.dimension
            p.writeInteger(UInt32(v.nlist))
            p.writeFloats(v.centroids)
            writeInts(&p, v.offsets)
            writeInts(&p, v.ids)
            if let q = v.quantizer { v.codes.withUnsafeBytes { writeQuantizer(&p, q, codes: $0) } }
        case .sparse(let x):
            // terms u32 | term count + 1 offsets u64 | posting rows i32 | posting weights f32
            kind = 3; sq = false; rows = x.rowCount; dim = 0
            p.writeInteger(UInt32(x.terms.count))
            p.writeArray(x.terms)
            p.writeArray(x.offsets.map { UInt64($0) })
            writeInts(&p, x.rows)
            p.writeFloats(x.weights)
        }
        var w = ByteWriter(capacity: headerSize + p.bytes.count + 4)
        w.writeBytes(magic)
        w.writeInteger(version)
        w.writeInteger(kind)
        w.writeInteger(UInt8(sq ? 1 : 0))
        w.writeInteger(metricCode(metric))
        w.writeInteger(UInt8(0))
        w.writeInteger(segmentID)
        w.writeInteger(UInt64(rows))
        w.writeInteger(UInt32(dim))
        w.writeInteger(UInt64(p.bytes.count))
        w.writeBytes(p.bytes)
        let crc = w.bytes.withUnsafeBytes { checksum($0, excluding: lazy.map { ($0.lowerBound + headerSize)..<($0.upperBound + headerSize) }) }
        w.writeInteger(crc)
        return w.bytes
    }

    /// The file checksum: CRC-32C of `bytes` but the (ascending, disjoint) ranges `excluded`.
    static func checksum(_ bytes: UnsafeRawBufferPointer, excluding excluded: [Range<Int>]) -> UInt32 {
        var crc: UInt32 = 0, at = 0
        for range in excluded + [bytes.count..<bytes.count] {
            crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[at..<range.lowerBound]), crc: crc)
            at = range.upperBound
        }
        return crc
    }

    private static func writeInts(_ w: inout ByteWriter, _ a: [Int32]) {
        a.withUnsafeBufferPointer { writeInts(&w, $0) }
    }

    private static func writeInts(_ w: inout ByteWriter, _ a: UnsafeBufferPointer<Int32>) {
        #if _endian(little)
        w.writeBytes(UnsafeRawBufferPointer(a))
        #else
        for v in a { w.writeInteger(v) }
        #endif
    }

    private static func writeQuantizer(_ w: inout ByteWriter, _ q: ScalarQuantizer, codes: UnsafeRawBufferPointer) {
        w.writeFloats(q.minimum)
        w.writeFloats(q.scale)
        w.writeBytes(codes)
    }

    /// Decodes and verifies index file bytes held in memory (tests and fuzzing).
    static func decode(_ bytes: [UInt8], path: String, segmentID: UInt64, rows: Int, dimension: Int, metric: MetricType) throws -> SegmentIndex {
        let file = bytes.withUnsafeBytes { MappedFile(copying: $0, name: path) }
        return try decode(file, segmentID: segmentID, rows: rows, dimension: dimension, metric: metric)
    }

    /// Decodes and verifies the index file of segment `segmentID` (`rows` rows, `dimension`,
    /// `metric`). An HNSW index keeps `file` alive and reads its layer-0 links and codes in it.
    static func decode(_ file: MappedFile, segmentID: UInt64, rows: Int, dimension: Int, metric: MetricType) throws -> SegmentIndex {
        let path = file.path
        func bad(_ what: String) -> QuiverError { QuiverError.corruption("index file '\(path)': \(what)") }
        let raw = file.bytes
        guard raw.count >= headerSize + 4 else { throw bad("too short (\(raw.count) bytes)") }
        do {
            let body = UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 4)])
            let stored = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 4, as: UInt32.self))
            guard Array(raw[0..<8]) == magic else { throw bad("bad magic number") }
            let v = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            guard (1...version).contains(v) else { throw bad("unsupported version \(v)") }
            let kind = raw[12]
            // Version 3 HNSW files leave their links and codes out of the file checksum: it is
            // checked once they are located (`decodeHNSW`).
            let partial = v >= 3 && kind == 1
            /// Checks the file checksum over every byte but `lazy` (file offsets).
            func verify(excluding lazy: [Range<Int>]) throws {
                guard checksum(body, excluding: lazy) == stored else { throw bad("checksum mismatch") }
            }
            if !partial { try verify(excluding: []) }
            var r = ByteReader(body, offset: 13, context: "index file '\(path)'")
            let flags: UInt8 = try r.readInteger()
            let m: UInt8 = try r.readInteger()
            _ = try r.readInteger(UInt8.self)
            guard m == metricCode(metric) else { throw bad("built for another metric") }
            guard try r.readInteger(UInt64.self) == segmentID else { throw bad("belongs to another segment") }
            guard try r.readInteger(UInt64.self) == UInt64(rows) else { throw bad("row count differs from the segment's \(rows)") }
            guard try r.readInteger(UInt32.self) == UInt32(dimension) else { throw bad("dimension differs from the field's \(dimension)") }
            let payloadLength = try r.readInteger(UInt64.self)
            guard payloadLength == UInt64(r.remaining) else { throw bad("payload length \(payloadLength) does not match the file") }
            let sq = flags & 1 != 0
            guard flags & ~1 == 0 else { throw bad("unknown flags \(flags)") }
            let index: SegmentIndex
            switch kind {
            case 1:
                index = .hnsw(try decodeHNSW(&r, file: file, version: v, rows: rows, dimension: dimension, sq: sq, bad: bad, verify: verify))
            case 2: index = .ivf(try decodeIVF(&r, rows: rows, dimension: dimension, sq: sq, bad: bad))
            case 3 where !sq: index = .sparse(try decodeSparse(&r, rows: rows, bad: bad))
            default: throw bad("unknown index kind \(kind)")
            }
            guard r.isAtEnd else { throw bad("\(r.remaining) unexpected bytes after the payload") }
            return index
        }
    }

    private static func readInts(_ r: inout ByteReader, _ count: Int) throws -> [Int32] {
        guard count >= 0, count <= r.remaining / 4 else { throw r.corruption("array of \(count) integers exceeds the file") }
        let raw = try r.readBytes(count * 4)
        return [Int32](unsafeUninitializedCapacity: count) { out, n in
            #if _endian(little)
            // One copy: the file's layout is the array's.
            if count > 0 { UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: count * 4) }
            #else
            for i in 0..<count { out[i] = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
            #endif
            n = count
        }
    }

    /// As `readInts`, as a ``PageArray``: a view of `file` where the integers lie when they are
    /// aligned (on a little-endian machine), else a copy.
    private static func readPageInts(_ r: inout ByteReader, _ count: Int, in file: MappedFile) throws -> PageArray<Int32> {
        guard count >= 0, count <= r.remaining / 4 else { throw r.corruption("array of \(count) integers exceeds the file") }
        #if _endian(little)
        if r.offset % MemoryLayout<Int32>.alignment == 0 {
            let at = r.offset
            _ = try r.readBytes(count * 4)
            return PageArray(viewing: file, byteOffset: at, count: count)
        }
        #endif
        let raw = try r.readBytes(count * 4)
        let out = PageArray<Int32>(count: count)
        #if _endian(little)
        if count > 0 { UnsafeMutableRawPointer(out.pointer).copyMemory(from: raw.baseAddress!, byteCount: count * 4) }
        #else
        for i in 0..<count { out.pointer[i] = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)) }
        #endif
        return out
    }

    /// The quantizer and its codes, still in the file's bytes (the caller copies them).
    private static func readQuantizer(_ r: inout ByteReader, codes: Int, dimension: Int) throws -> (ScalarQuantizer, UnsafeRawBufferPointer) {
        let lo = try r.readFloats(dimension)
        let scale = try r.readFloats(dimension)
        guard codes <= r.remaining else { throw r.corruption("codes exceed the file") }
        return (ScalarQuantizer(minimum: lo, scale: scale), try r.readBytes(codes))
    }

    /// From version 3 on, `verify(lazy)` checks the file checksum once the lazily verified ranges
    /// are located, before anything read is trusted; the layer-0 links are then checked per group
    /// when first read, the other invariants here.
    private static func decodeHNSW(
        _ r: inout ByteReader, file: MappedFile, version: UInt32, rows n: Int, dimension d: Int, sq: Bool, bad: (String) -> QuiverError,
        verify: ([Range<Int>]) throws -> Void
    ) throws -> HNSWIndex {
        let m = Int(try r.readInteger(UInt32.self))
        guard (2...2048).contains(m) else { throw bad("M \(m) out of range") }
        let maxLevel = Int(try r.readInteger(UInt32.self))
        guard maxLevel <= 15 else { throw bad("max level \(maxLevel) out of range") }
        let entry = try r.readInteger(Int32.self)
        guard n == 0 || (entry >= 0 && Int(entry) < n) else { throw bad("entry point out of range") }
        guard n <= r.remaining else { throw bad("levels exceed the file") }
        let levels = Array(try r.readBytes(n))
        let upperOffsets = try readInts(&r, n)
        let upperCount = try r.readInteger(UInt64.self)
        guard upperCount <= UInt64(r.remaining / 4) else { throw bad("upper links exceed the file") }
        let upper = try readInts(&r, Int(upperCount))
        let m0 = 2 * m
        let (l0count, overflow) = n.multipliedReportingOverflow(by: m0 + 1)
        guard !overflow else { throw bad("layer 0 size overflows") }
        if version >= 2 {
            let pad = (linkAlignment - r.offset % linkAlignment) % linkAlignment
            guard pad <= r.remaining, try r.readBytes(pad).allSatisfy({ $0 == 0 }) else { throw bad("bad padding before layer 0") }
        }
        let linksAt = r.offset
        let level0 = try readPageInts(&r, l0count, in: file)
        var lazy = [linksAt..<r.offset]
        var quantizer: ScalarQuantizer? = nil
        var codes = PageArray<UInt8>(count: 0)
        if sq {
            let (q, raw) = try readQuantizer(&r, codes: n * d, dimension: d)
            quantizer = q
            let at = raw.baseAddress.map { $0 - UnsafeRawPointer(file.bytes.baseAddress!) } ?? r.offset
            lazy.append(at..<(at + raw.count))
            codes = raw.isEmpty ? PageArray(count: 0) : PageArray(viewing: file, byteOffset: at, count: raw.count)
        }
        /// The problem with the layer-0 link blocks of `nodes`, nil when none.
        @Sendable func linkProblem(_ nodes: Range<Int>) -> String? {
            for i in nodes {
                let c = Int(level0[i * (m0 + 1)])
                guard c >= 0 && c <= m0 else { return "node \(i) has \(c) layer-0 links" }
                for j in 0..<c {
                    let e = level0[i * (m0 + 1) + 1 + j]
                    guard e >= 0 && Int(e) < n else { return "node \(i) links to \(e), out of range" }
                }
            }
            return nil
        }
        var linkVerifier: VectorVerifier? = nil
        if version >= 3 {
            let groupRows = Int(try r.readInteger(UInt32.self))
            guard groupRows > 0, groupRows & (groupRows - 1) == 0 else { throw bad("rows per checksum group \(groupRows) is not a power of two") }
            let groups = Int(try r.readInteger(UInt32.self))
            guard groups == SegmentFormat.groupCount(rows: n, rowsPerGroup: groupRows) else { throw bad("bad checksum count \(groups)") }
            let sums: [UInt32] = try r.readArray(groups)
            try verify(lazy)
            let base = file.bytes.baseAddress!
            linkVerifier = VectorVerifier(
                vectors: base + lazy[0].lowerBound, norms: sq ? base + lazy[1].lowerBound : nil, normBytes: d, rowCount: n,
                rowBytes: (m0 + 1) * 4, rowsPerGroup: groupRows, checksums: sums, owner: file,
                label: "index file '\(file.path)' layer 0", validate: linkProblem)
        }
        if n > 0 && Int(levels[Int(entry)]) != maxLevel { throw bad("entry point is not on the top level") }
        for i in 0..<n {
            let l = Int(levels[i])
            guard l <= maxLevel else { throw bad("node \(i) has level \(l) above the top \(maxLevel)") }
            if linkVerifier == nil, let problem = linkProblem(i..<(i + 1)) { throw bad(problem) }
            if l == 0 { continue }
            let o = Int(upperOffsets[i])
            guard o >= 0, o <= upper.count, l * (m + 1) <= upper.count - o else { throw bad("node \(i) has bad upper links") }
            for lev in 1...l {
                let b = o + (lev - 1) * (m + 1)
                let c = Int(upper[b])
                guard c >= 0 && c <= m else { throw bad("node \(i) has \(c) links on level \(lev)") }
                for j in 0..<c {
                    let e = upper[b + 1 + j]
                    guard e >= 0 && Int(e) < n && Int(levels[Int(e)]) >= lev else { throw bad("node \(i) level \(lev) links to \(e), which is not on that level") }
                }
            }
        }
        return HNSWIndex(count: n, dimension: d, m: m, entryPoint: entry, maxLevel: maxLevel, levels: levels, level0: level0,
                         upperOffsets: upperOffsets, upper: upper, quantizer: quantizer, codes: codes, linkVerifier: linkVerifier)
    }

    /// A sparse inverted index: terms ascending, offsets from 0 up to the postings, rows
    /// ascending within each list and inside the segment, weights finite and above zero.
    private static func decodeSparse(_ r: inout ByteReader, rows n: Int, bad: (String) -> QuiverError) throws -> SparseInvertedIndex {
        let termCount = Int(try r.readInteger(UInt32.self))
        guard termCount <= r.remaining / 12 else { throw bad("term count \(termCount) exceeds the file") }
        let terms: [UInt32] = try r.readArray(termCount)
        for t in terms.indices.dropFirst() where terms[t] <= terms[t - 1] { throw bad("terms out of order at \(t)") }
        if let last = terms.last, last > SparseVector.maxIndex { throw bad("term \(last) is out of range") }
        let rawOffsets: [UInt64] = try r.readArray(termCount + 1)
        guard rawOffsets[0] == 0, let total = rawOffsets.last, total <= UInt64(r.remaining / 8) else { throw bad("posting offsets exceed the file") }
        for t in 0..<termCount where rawOffsets[t + 1] <= rawOffsets[t] { throw bad("posting list \(t) is empty or its offsets decrease") }
        let offsets = rawOffsets.map { Int($0) }
        let rows = try readInts(&r, Int(total))
        let weights = try r.readFloats(Int(total))
        for t in 0..<termCount {
            for p in offsets[t]..<offsets[t + 1] {
                guard rows[p] >= 0, Int(rows[p]) < n, p == offsets[t] || rows[p] > rows[p - 1] else {
                    throw bad("posting list \(t) has row \(rows[p]) out of order or out of range")
                }
                guard weights[p].isFinite, weights[p] > 0 else { throw bad("posting list \(t) has weight \(weights[p])") }
            }
        }
        return SparseInvertedIndex(rowCount: n, terms: terms, offsets: offsets, rows: rows, weights: weights)
    }

    private static func decodeIVF(_ r: inout ByteReader, rows n: Int, dimension d: Int, sq: Bool, bad: (String) -> QuiverError) throws -> IVFIndex {
        let nlist = Int(try r.readInteger(UInt32.self))
        guard (1...65536).contains(nlist) else { throw bad("nlist \(nlist) out of range") }
        let centroids = try r.readFloats(nlist * d)
        let offsets = try readInts(&r, nlist + 1)
        guard offsets[0] == 0, Int(offsets[nlist]) == n else { throw bad("list offsets do not cover the rows") }
        for i in 0..<nlist where offsets[i + 1] < offsets[i] { throw bad("list offsets decrease at \(i)") }
        let ids = try readInts(&r, n)
        var seen = Bitset(count: n)
        for id in ids {
            guard id >= 0 && Int(id) < n else { throw bad("row id \(id) out of range") }
            guard !seen[Int(id)] else { throw bad("row id \(id) is in two lists") }
            seen[Int(id)] = true
        }
        var quantizer: ScalarQuantizer? = nil
        var codes = [UInt8]()
        if sq {
            let (q, raw) = try readQuantizer(&r, codes: n * d, dimension: d)
            quantizer = q
            codes = Array(raw)
        }
        return IVFIndex(count: n, dimension: d, nlist: nlist, centroids: centroids, offsets: offsets, ids: ids, quantizer: quantizer, codes: codes)
    }
}
