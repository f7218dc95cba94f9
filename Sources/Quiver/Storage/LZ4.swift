import CLZ4

/// LZ4 block compression of segment column blocks.
enum LZ4 {
    static func compress(_ input: [UInt8]) -> [UInt8] {
        guard !input.isEmpty else { return [] }
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        var out = [UInt8](repeating: 0, count: bound)
        let written = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                LZ4_compress_default(
                    src.baseAddress!.assumingMemoryBound(to: CChar.self),
                    dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                    Int32(input.count), Int32(bound))
            }
        }
        precondition(written > 0, "LZ4_compress_default failed on \(input.count) bytes")
        out.removeLast(bound - Int(written))
        return out
    }

    /// Decompresses a block that must expand to exactly `rawLength` bytes.
    ///
    /// - Throws: `.corruption` when the data is malformed or has another length.
    static func decompress(_ input: UnsafeRawBufferPointer, rawLength: Int, context: String) throws -> [UInt8] {
        guard rawLength > 0 else {
            guard input.isEmpty else { throw QuiverError.corruption("\(context): LZ4 block has data but a raw length of 0") }
            return []
        }
        guard !input.isEmpty, input.count <= Int(Int32.max), rawLength <= Int(Int32.max) else {
            throw QuiverError.corruption("\(context): LZ4 block of \(input.count) bytes cannot expand to \(rawLength)")
        }
        var out = [UInt8](repeating: 0, count: rawLength)
        let n = out.withUnsafeMutableBytes { dst in
            LZ4_decompress_safe(
                input.baseAddress!.assumingMemoryBound(to: CChar.self),
                dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(input.count), Int32(rawLength))
        }
        guard n == Int32(rawLength) else {
            throw QuiverError.corruption("\(context): LZ4 block decompressed to \(n) bytes, expected \(rawLength)")
        }
        return out
    }
}
