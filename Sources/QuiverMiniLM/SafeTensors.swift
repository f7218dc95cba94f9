import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only, memory-mapped `.safetensors` file.
///
/// Layout (https://github.com/huggingface/safetensors, "Format"):
///
/// ```
/// +----------------+----------------------------+---------------------------------+
/// | N: UInt64 (LE) | N bytes of UTF-8 JSON      | tensor data (byte buffer)       |
/// +----------------+----------------------------+---------------------------------+
/// JSON: { "name": { "dtype": "F32", "shape": [r, c], "data_offsets": [begin, end] },
///         "__metadata__": { ... } }   offsets are relative to the start of the data buffer
/// ```
///
/// Every entry is validated when the file is opened: known dtype, non-negative shape, offsets
/// inside the data buffer and `end - begin == product(shape) * size(dtype)`. A damaged file
/// throws ``MiniLMError/Code/corruption``, never crashes.
public final class SafeTensorsFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only and immutable from init to deinit.

    /// One tensor's description from the header.
    public struct TensorInfo: Sendable, Equatable {
        /// The element type as the header spells it: `"F32"`, `"F16"`, `"BF16"`, `"I64"`, ….
        public var dtype: String
        /// The dimensions, outermost first (row-major); `[]` for a scalar.
        public var shape: [Int]
        /// Byte range inside the data buffer.
        public var byteRange: Range<Int>
    }

    /// The tensors in the file, by name.
    public let tensors: [String: TensorInfo]
    /// The path the file was opened from.
    public let url: URL
    private let base: UnsafeMutableRawPointer
    private let mappedSize: Int
    private let dataStart: Int

    static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
        "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    ]

    /// Maps the file at `url` and validates its header.
    ///
    /// - Throws: ``MiniLMError`` `.modelNotFound` if the file is absent, `.io` if it cannot be
    ///   mapped, `.corruption` if the header or any size is invalid.
    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY)
        if fd < 0 {
            let err = errno
            if err == ENOENT { throw MiniLMError.modelNotFound("\(url.path) does not exist") }
            throw MiniLMError(.io, "cannot open \(url.path): \(String(cString: strerror(err)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw MiniLMError(.io, "cannot stat \(url.path): \(String(cString: strerror(errno)))")
        }
        let size = Int(st.st_size)
        guard size >= 8 else {
            throw MiniLMError(.corruption, "\(url.lastPathComponent) is \(size) bytes, shorter than the 8-byte safetensors header length")
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw MiniLMError(.io, "cannot mmap \(url.path): \(String(cString: strerror(errno)))")
        }
        var ok = false
        defer { if !ok { munmap(p, size) } }

        var headerLength: UInt64 = 0
        withUnsafeMutableBytes(of: &headerLength) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: 8)) }
        headerLength = UInt64(littleEndian: headerLength)
        guard headerLength <= UInt64(size - 8), headerLength <= 100_000_000 else {
            throw MiniLMError(.corruption, "\(url.lastPathComponent): header length \(headerLength) exceeds the file size \(size)")
        }
        let header = Data(bytes: p + 8, count: Int(headerLength))
        let dataStart = 8 + Int(headerLength)
        let dataSize = size - dataStart
        self.tensors = try Self.parseHeader(header, dataSize: dataSize, name: url.lastPathComponent)
        self.base = p
        self.mappedSize = size
        self.dataStart = dataStart
        ok = true
    }

    deinit { munmap(base, mappedSize) }

    private func dropPages(_ start: UnsafeMutableRawPointer, byteCount: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = Int(bitPattern: start) / page * page
        let hi = (Int(bitPattern: start) + byteCount + page - 1) / page * page
        _ = madvise(UnsafeMutableRawPointer(bitPattern: lo), hi - lo, MADV_DONTNEED)
    }

    /// Parses and validates a JSON header against a data buffer of `dataSize` bytes.
    static func parseHeader(_ header: Data, dataSize: Int, name: String) throws -> [String: TensorInfo] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: header)
        } catch {
            throw MiniLMError(.corruption, "\(name): the header is not valid JSON")
        }
        guard let dict = object as? [String: Any] else {
            throw MiniLMError(.corruption, "\(name): the header is not a JSON object")
        }
        var result: [String: TensorInfo] = [:]
        for (key, value) in dict where key != "__metadata__" {
            guard let entry = value as? [String: Any],
                  let dtype = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any],
                  let offsetsAny = entry["data_offsets"] as? [Any], offsetsAny.count == 2
            else {
                throw MiniLMError(.corruption, "\(name): tensor \(key) lacks dtype, shape or data_offsets")
            }
            guard let elementSize = dtypeSizes[dtype] else {
                throw MiniLMError(.corruption, "\(name): tensor \(key) has unknown dtype \(dtype)")
            }
            let shape = shapeAny.compactMap { ($0 as? NSNumber)?.intValue }
            let offsets = offsetsAny.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeAny.count, offsets.count == 2, shape.allSatisfy({ $0 >= 0 }) else {
                throw MiniLMError(.corruption, "\(name): tensor \(key) has a malformed shape or data_offsets")
            }
            var count = 1
            for d in shape {
                let (m, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw MiniLMError(.corruption, "\(name): tensor \(key) shape overflows") }
                count = m
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw MiniLMError(.corruption, "\(name): tensor \(key) data_offsets [\(begin), \(end)] fall outside the \(dataSize)-byte data buffer (truncated file?)")
            }
            guard end - begin == count * elementSize else {
                throw MiniLMError(.corruption, "\(name): tensor \(key) holds \(end - begin) bytes but shape \(shape) of \(dtype) needs \(count * elementSize)")
            }
            result[key] = TensorInfo(dtype: dtype, shape: shape, byteRange: begin..<end)
        }
        return result
    }

    /// Calls `body` with the float32 contents of tensor `name`, after checking its dtype and shape.
    ///
    /// - Throws: `.corruption` if the tensor is missing, not `F32`, or has another shape.
    public func withFloats<R>(_ name: String, shape: [Int], _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        guard let info = tensors[name] else {
            throw MiniLMError(.corruption, "\(url.lastPathComponent): tensor \(name) is missing")
        }
        guard info.dtype == "F32" else {
            throw MiniLMError(.corruption, "\(url.lastPathComponent): tensor \(name) is \(info.dtype), expected F32")
        }
        guard info.shape == shape else {
            throw MiniLMError(.corruption, "\(url.lastPathComponent): tensor \(name) has shape \(info.shape), expected \(shape)")
        }
        let start = base + dataStart + info.byteRange.lowerBound
        let count = info.byteRange.count / 4
        // Callers copy what they need; dropping the pages afterwards keeps the mapped file from
        // adding its 91 MB to the process's peak RSS while the weights are repacked. Pages are
        // read-only file pages, so a later access simply faults them in again.
        defer { dropPages(start, byteCount: info.byteRange.count) }
        if Int(bitPattern: start) % MemoryLayout<Float>.alignment == 0 {
            return try body(UnsafeBufferPointer(start: start.assumingMemoryBound(to: Float.self), count: count))
        }
        // Unaligned data (allowed by the format): copy.
        let copy = [Float](unsafeUninitializedCapacity: count) { buf, n in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(start: start, count: count * 4))
            n = count
        }
        return try copy.withUnsafeBufferPointer(body)
    }

    /// The float32 contents of tensor `name` as an array (little-endian hosts only).
    ///
    /// - Throws: `.corruption` if the tensor is missing, not `F32`, or has another shape.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        try withFloats(name, shape: shape) { Array($0) }
    }
}
