#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("Quiver's storage needs the C library of Linux (Glibc or Musl) or Darwin")
#endif

/// The operating-system calls whose spelling or meaning differs between Linux (Glibc, Musl) and
/// Darwin, in one place; the rest of the engine calls these and portable POSIX only.
///
/// `scripts/check-platform-guards.sh` (run by CI) fails when a module-qualified libc call
/// (`Glibc.close`) or a Linux-only or Darwin-only symbol appears outside a matching
/// `#if canImport(…)` branch, so a change that would not compile on the other system is caught here.
enum Platform {
    /// `close(2)`, for types that have a `close()` of their own. Its result is not used: the
    /// descriptor is released whatever it returns, and the data was already made durable (or not)
    /// by ``durableSync(_:)``.
    static func closeDescriptor(_ fd: Int32) {
        _ = close(fd)
    }

    /// `write(2)` once, for types that have a `write` of their own: the bytes written, or -1 with
    /// `errno` set.
    static func writeOnce(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        write(fd, bytes, count)
    }

    /// `rename(2)`, for types that have a `rename` of their own: 0, or -1 with `errno` set.
    static func renameFile(_ from: String, _ to: String) -> Int32 {
        rename(from, to)
    }

    /// Asks the storage device to make the file's (or directory's) data durable: 0 on success,
    /// -1 with `errno` set.
    ///
    /// On Darwin `fsync(2)` only hands the data to the drive, whose cache may still lose it on
    /// power loss; `fcntl(F_FULLFSYNC)` also flushes the drive's cache (Apple's `fsync(2)` man
    /// page; SQLite's `full_fsync`). Filesystems that do not support it (some network and
    /// FUSE filesystems) refuse it, and plain `fsync` is then the best there is. On Linux `fsync`
    /// already flushes the device cache.
    static func durableSync(_ fd: Int32) -> Int32 {
        #if canImport(Glibc) || canImport(Musl)
        return fsync(fd)
        #elseif canImport(Darwin)
        if fcntl(fd, F_FULLFSYNC) == 0 { return 0 }
        return fsync(fd)
        #endif
    }

    /// The `mmap(2)` flags of private anonymous memory (Darwin spells the flag `MAP_ANON`).
    static var privateAnonymousMapping: Int32 {
        #if canImport(Glibc) || canImport(Musl)
        return MAP_PRIVATE | MAP_ANONYMOUS
        #elseif canImport(Darwin)
        return MAP_PRIVATE | MAP_ANON
        #endif
    }

    /// Advises the kernel that a mapped file's pages in `start..<start + byteCount` (page-aligned
    /// start) are read at random: a page fault reads that page only.
    ///
    /// Without it Linux reads around every fault of a mapping: up to `read_ahead_kb` (8 MiB on
    /// this project's VMs) about the page, or a whole 2 MiB folio where the range is advised
    /// `MADV_HUGEPAGE`, so that the few thousand faults of one HNSW walk over a cold 10M-row
    /// database read gigabytes (Benchmarks.md, "Cold reads of a mapped database"). On Linux the
    /// range is also advised `MADV_NOHUGEPAGE`, which `MADV_RANDOM` alone does not override;
    /// Darwin takes `MADV_RANDOM`. Advice only: an error leaves the default behaviour.
    static func adviseRandomAccess(_ start: UnsafeMutableRawPointer, _ byteCount: Int) {
        #if canImport(Glibc) || canImport(Musl)
        _ = madvise(start, byteCount, MADV_NOHUGEPAGE)
        _ = madvise(start, byteCount, MADV_RANDOM)
        #elseif canImport(Darwin)
        _ = madvise(start, byteCount, MADV_RANDOM)
        #endif
    }

    /// Undoes ``adviseRandomAccess(_:_:)``'s `MADV_RANDOM` for a pass that reads a mapped range
    /// from end to end (`MADV_NORMAL`: faults read ahead again). Read a page per fault, this VM's
    /// disk gives ~50 MB/s instead of ~1–2 GB/s; `MADV_SEQUENTIAL` measured slower than normal
    /// read-ahead here.
    static func adviseNormalAccess(_ start: UnsafeMutableRawPointer, _ byteCount: Int) {
        _ = madvise(start, byteCount, MADV_NORMAL)
    }

    /// Advises a mapped range whose pages are in the page cache (a warmed range, see
    /// `MappedFile.warm`) back to the default read-ahead and, on Linux, huge pages: a fault then
    /// maps a cached 2 MiB folio with one TLB entry. (Darwin: `MADV_NORMAL` only.)
    static func adviseCachedAccess(_ start: UnsafeMutableRawPointer, _ byteCount: Int) {
        _ = madvise(start, byteCount, MADV_NORMAL)
        #if canImport(Glibc) || canImport(Musl)
        _ = madvise(start, byteCount, MADV_HUGEPAGE)
        #elseif canImport(Darwin)
        // No huge-page advice for mappings on Darwin.
        #endif
    }

    /// Whether every page of the mapped range `start..<start + byteCount` (page-aligned start,
    /// at most `scratch.count` pages) is in memory (`mincore(2)`, whose vector is `unsigned char`
    /// on Linux and `char` on Darwin); false when the call fails.
    static func isResident(_ start: UnsafeMutableRawPointer, _ byteCount: Int, scratch: inout [UInt8]) -> Bool {
        let pages = (byteCount + pageSize - 1) / pageSize
        precondition(pages <= scratch.count)
        #if canImport(Glibc) || canImport(Musl)
        guard mincore(start, byteCount, &scratch) == 0 else { return false }
        #elseif canImport(Darwin)
        let ok = scratch.withUnsafeMutableBytes { mincore(start, byteCount, $0.baseAddress!.assumingMemoryBound(to: CChar.self)) == 0 }
        guard ok else { return false }
        #endif
        return scratch[0..<pages].allSatisfy { $0 & 1 != 0 }
    }

    /// The size of a memory page (`sysconf(_SC_PAGESIZE)`).
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Advises the kernel to back a 2 MiB-aligned range with transparent huge pages.
    ///
    /// Linux only (`MADV_HUGEPAGE`): advice, not a requirement, so an error (a kernel without THP)
    /// leaves ordinary pages. Darwin has no such advice for user memory; its ranges stay in
    /// ordinary pages and nothing else changes.
    static func adviseHugePages(_ start: UnsafeMutableRawPointer, _ byteCount: Int) {
        #if canImport(Glibc) || canImport(Musl)
        _ = madvise(start, byteCount, MADV_HUGEPAGE)
        #elseif canImport(Darwin)
        // No huge-page advice for user memory on Darwin: ordinary pages.
        #endif
    }
}
