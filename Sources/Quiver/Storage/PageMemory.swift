#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Zero-filled anonymous memory for large arrays read at random (segment vectors, graph links,
/// visited stamps), asking the kernel for 2 MiB pages where it offers them.
///
/// An HNSW walk touches a new row on nearly every distance; over a table of a few hundred
/// megabytes in 4 KiB pages nearly every one of those reads also misses the TLB and waits for a
/// page walk. Linux backs an anonymous range with transparent huge pages when it is 2 MiB-aligned
/// and advised `MADV_HUGEPAGE` (distributions default to `madvise` mode), which removes those
/// misses: on the 100k × 384 text set this alone raised HNSW throughput 15–20%
/// (Documentation/Benchmarks.md). Where huge pages are off or unsupported the memory is ordinary
/// pages and nothing else changes.
///
/// The pages are committed on first write. Regions under 2 MiB are plain `mmap`ed pages.
final class PageMemory: @unchecked Sendable {
    // @unchecked: the owner decides who writes; readers only start after it has finished writing
    // (a segment's bytes are filled before it is published, an index's links before it is ready).
    let base: UnsafeMutableRawPointer
    let byteCount: Int
    private let mapping: UnsafeMutableRawPointer?
    private let mappingSize: Int

    static let hugePageSize = 2 << 20

    /// `byteCount` zero bytes, 64-byte aligned at least (2 MiB-aligned when at least 2 MiB); nil,
    /// with `errno` set, when the address space cannot be reserved.
    init?(byteCount: Int) {
        self.byteCount = byteCount
        guard byteCount > 0 else {
            mapping = nil
            mappingSize = 0
            base = UnsafeMutableRawPointer(bitPattern: 64)!
            return
        }
        let huge = byteCount >= Self.hugePageSize
        // A huge region is over-reserved by one huge page so an aligned start fits inside.
        let size = huge ? byteCount + Self.hugePageSize : byteCount
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, Platform.privateAnonymousMapping, -1, 0), p != MAP_FAILED else { return nil }
        mapping = p
        mappingSize = size
        if huge {
            let aligned = (Int(bitPattern: p) + Self.hugePageSize - 1) & ~(Self.hugePageSize - 1)
            base = UnsafeMutableRawPointer(bitPattern: aligned)!
            Platform.adviseHugePages(base, byteCount)
        } else {
            base = p
        }
    }

    deinit {
        if let mapping { munmap(mapping, mappingSize) }
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }
}

/// A fixed-length array of plain values in ``PageMemory``, zero-initialized, or a read-only view
/// of part of a ``MappedFile`` (an index file's links used where they lie).
final class PageArray<Element: BitwiseCopyable>: @unchecked Sendable {
    // @unchecked: as PageMemory — written by its owner before it is shared, then only read.
    let count: Int
    /// Writable only for an array made by `init(count:)`; a view's pages are read-only and a
    /// write to them stops the process (nothing writes an index once it is loaded).
    let pointer: UnsafeMutablePointer<Element>
    /// Keeps the memory alive: a ``PageMemory`` or the ``MappedFile`` viewed.
    private let memory: AnyObject

    /// Stops the process when the memory cannot be reserved, as a failed allocation does.
    init(count: Int) {
        self.count = count
        let bytes = count * MemoryLayout<Element>.stride
        guard let memory = PageMemory(byteCount: bytes) else {
            fatalError("Quiver: cannot reserve \(bytes) bytes of memory (errno \(errno))")
        }
        self.memory = memory
        pointer = memory.base.bindMemory(to: Element.self, capacity: count)
    }

    /// `count` elements of `file` from `byteOffset` on, without a copy; the offset must be
    /// aligned for `Element` (the caller checks).
    init(viewing file: MappedFile, byteOffset: Int, count: Int) {
        precondition(byteOffset >= 0 && count >= 0 && byteOffset + count * MemoryLayout<Element>.stride <= file.bytes.count)
        self.count = count
        memory = file
        let address = file.bytes.baseAddress.map { $0 + byteOffset } ?? UnsafeRawPointer(bitPattern: 64)!
        precondition(Int(bitPattern: address) % MemoryLayout<Element>.alignment == 0, "misaligned view")
        pointer = UnsafeMutableRawPointer(mutating: address).bindMemory(to: Element.self, capacity: count)
    }

    /// A copy of `elements`.
    convenience init(_ elements: UnsafeBufferPointer<Element>) {
        self.init(count: elements.count)
        if let src = elements.baseAddress { pointer.update(from: src, count: elements.count) }
    }

    var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: pointer, count: count) }

    subscript(i: Int) -> Element {
        get { pointer[i] }
    }
}
