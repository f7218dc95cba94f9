#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, throwing wrappers over the POSIX calls the storage engine uses.
///
/// Every failure becomes `QuiverError(.io)` naming the call and the path; nothing is retried
/// silently except `EINTR`.
enum FileSystem {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func createDirectory(_ path: String) throws {
        if mkdir(path, 0o755) == 0 {
            PowerCutRecorder.shared.record(.mkdir(path), path: path)
        } else if errno != EEXIST {
            throw QuiverError.io("mkdir", path: path)
        }
    }

    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw QuiverError.io("opendir", path: path) }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func remove(_ path: String) throws {
        if unlink(path) == 0 {
            PowerCutRecorder.shared.record(.unlink(path), path: path)
        } else if errno != ENOENT {
            throw QuiverError.io("unlink", path: path)
        }
    }

    /// Removes a directory tree.
    static func removeTree(_ path: String) throws {
        guard exists(path) else { return }
        if isDirectory(path) {
            for name in try listDirectory(path) { try removeTree(path + "/" + name) }
            if rmdir(path) == 0 {
                PowerCutRecorder.shared.record(.rmdir(path), path: path)
            } else if errno != ENOENT {
                throw QuiverError.io("rmdir", path: path)
            }
        } else {
            try remove(path)
        }
    }

    static func rename(_ from: String, _ to: String) throws {
        if let fault = FaultInjector.shared.fire(.rename, path: from) {
            throw QuiverError.io("rename", path: from + " → " + to, errno: fault.errno)
        }
        if Platform.renameFile(from, to) != 0 { throw QuiverError.io("rename", path: from + " → " + to) }
        PowerCutRecorder.shared.record(.rename(from, to), path: from)
    }

    /// fsyncs a directory so that renames and creations in it are durable.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw QuiverError.io("open", path: path) }
        defer { close(fd) }
        if let fault = FaultInjector.shared.fire(.fsync, path: path + "/") {
            throw QuiverError.io("fsync", path: path, errno: fault.errno)
        }
        if Platform.durableSync(fd) != 0 { throw QuiverError.io("fsync", path: path) }
        PowerCutRecorder.shared.record(.fsyncDirectory(path), path: path)
    }

    static func fileSize(_ path: String) throws -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else { throw QuiverError.io("stat", path: path) }
        return Int(st.st_size)
    }

    /// Reads a whole file.
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw QuiverError.io("open", path: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw QuiverError.io("fstat", path: path) }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        try out.withUnsafeMutableBytes { buf in
            while done < size {
                let n = read(fd, buf.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw QuiverError.io("read", path: path)
                }
                if n == 0 { break }
                done += n
            }
        }
        if done < size { out.removeLast(size - done) }
        return out
    }

    /// Writes `bytes` to a new file at `path` (replacing it) and fsyncs it.
    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let file = try WritableFile(path: path, truncate: true)
        defer { file.close() }
        try file.write(bytes)
        try file.sync()
    }

    /// Replaces `path` atomically: write `path.tmp`, fsync, rename over `path`, fsync the directory
    /// (leveldb's `SetCurrentFile`). After a crash, either the old or the new file is there.
    static func replaceAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let tmp = path + ".tmp"
        try writeFile(tmp, bytes)
        try rename(tmp, path)
        try syncDirectory(parentDirectory(of: path))
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// An open file for appending or writing, closed explicitly.
final class WritableFile: @unchecked Sendable {
    // @unchecked: the descriptor is only used under the owning collection's lock.
    let path: String
    private(set) var fd: Int32
    private(set) var size: Int
    /// Names this open file in a power-cut recording (see ``PowerCutRecorder``).
    private let handle = PowerCutRecorder.shared.newHandle()

    init(path: String, truncate: Bool) throws {
        self.path = path
        if let fault = FaultInjector.shared.fire(.open, path: path) {
            throw QuiverError.io("open", path: path, errno: fault.errno)
        }
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND)
        fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw QuiverError.io("open", path: path) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            Platform.closeDescriptor(fd)
            throw QuiverError.io("fstat", path: path, errno: e)
        }
        size = Int(st.st_size)
        PowerCutRecorder.shared.record(.open(path: path, handle: handle, truncate: truncate), path: path)
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        if let fault = FaultInjector.shared.fire(.write, path: path) {
            if fault.partial, buffer.count > 1 {
                let half = buffer.count / 2
                let n = Platform.writeOnce(fd, buffer.baseAddress!, half)
                if n > 0 {
                    recordWrite(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                    size += n
                }
            }
            throw QuiverError.io("write", path: path, errno: fault.errno)
        }
        var done = 0
        while done < buffer.count {
            let n = Platform.writeOnce(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw QuiverError.io("write", path: path)
            }
            done += n
        }
        recordWrite(buffer)
        size += buffer.count
    }

    /// Records bytes that reached the file at its current end.
    private func recordWrite(_ bytes: UnsafeRawBufferPointer) {
        PowerCutRecorder.shared.record(.write(handle: handle, offset: size, bytes: Array(bytes)), path: path)
    }

    func sync() throws {
        if let fault = FaultInjector.shared.fire(.fsync, path: path) {
            throw QuiverError.io("fsync", path: path, errno: fault.errno)
        }
        if Platform.durableSync(fd) != 0 { throw QuiverError.io("fsync", path: path) }
        PowerCutRecorder.shared.record(.fsync(handle: handle), path: path)
    }

    /// Cuts the file back to `length` bytes (used to undo a partly written record).
    func truncate(to length: Int) throws {
        if let fault = FaultInjector.shared.fire(.truncate, path: path) {
            throw QuiverError.io("ftruncate", path: path, errno: fault.errno)
        }
        if ftruncate(fd, off_t(length)) != 0 { throw QuiverError.io("ftruncate", path: path) }
        PowerCutRecorder.shared.record(.truncate(handle: handle, length: length), path: path)
        size = length
    }

    func close() {
        if fd >= 0 { Platform.closeDescriptor(fd); fd = -1 }
    }

    deinit { close() }
}

/// The bytes of a whole file, read-only: memory-mapped, or loaded into ``PageMemory``.
final class MappedFile: @unchecked Sendable {
    // @unchecked: the bytes are read-only and immutable for the object's whole life.
    let path: String
    let bytes: UnsafeRawBufferPointer
    /// The copy `bytes` points into, or nil when `bytes` is a mapping of the file.
    private let memory: PageMemory?
    /// The address range reserved for the mapping (unmapped whole when released).
    private let reservation: (start: UnsafeMutableRawPointer, size: Int)?

    /// A copy of `data` standing in for a file (fuzzing and tests).
    init(copying data: UnsafeRawBufferPointer, name: String) {
        path = name
        let m = PageMemory(byteCount: data.count)!
        if let base = data.baseAddress { m.base.copyMemory(from: base, byteCount: data.count) }
        memory = m
        reservation = nil
        bytes = m.bytes
    }

    /// The bytes of the file at `path` as they were just written from `memory` (see
    /// `SegmentWriter.write`), standing in for reading the file into memory.
    init(memory: PageMemory, path: String) {
        self.path = path
        self.memory = memory
        reservation = nil
        bytes = memory.bytes
    }

    /// The file at `path`, memory-mapped (`load: false`: pages are read on demand and the kernel
    /// may evict them) or read whole into ``PageMemory`` (`load: true`: resident, in huge pages
    /// where the kernel offers them, faster to read at random).
    init(path: String, load: Bool) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw QuiverError.io("open", path: path) }
        defer { Platform.closeDescriptor(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw QuiverError.io("fstat", path: path) }
        let size = Int(st.st_size)
        if load {
            guard let m = PageMemory(byteCount: size) else {
                let e = errno
                throw QuiverError(.io, "cannot reserve \(size) bytes to read segment '\(path)' into memory (\(String(cString: strerror(e)))); "
                    + "DatabaseOptions.memoryMapSegments maps segments instead", cause: SystemError(errno: e, call: "mmap"))
            }
            var done = 0
            while done < size {
                let n = pread(fd, m.base + done, size - done, off_t(done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    if n == 0 { throw QuiverError.corruption("file '\(path)' ended at byte \(done) of \(size) while being read") }
                    throw QuiverError.io("pread", path: path)
                }
                done += n
            }
            memory = m
            reservation = nil
            bytes = m.bytes
            return
        }
        memory = nil
        if size == 0 {
            reservation = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        // The file is mapped at a 2 MiB-aligned address, so that a page cache holding the file in
        // 2 MiB folios (ext4 and XFS on recent kernels) can be mapped with one TLB entry per
        // 2 MiB, as ``PageMemory`` is: a reserved range one huge page larger, then the file
        // mapped over its aligned part.
        let huge = PageMemory.hugePageSize
        let reserved = size >= huge ? size + huge : size
        guard let r = mmap(nil, reserved, PROT_NONE, Platform.privateAnonymousMapping, -1, 0), r != MAP_FAILED else {
            throw QuiverError.io("mmap", path: path)
        }
        let start = size >= huge ? (Int(bitPattern: r) + huge - 1) & ~(huge - 1) : Int(bitPattern: r)
        guard let p = mmap(UnsafeMutableRawPointer(bitPattern: start), size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0),
            p != MAP_FAILED
        else {
            munmap(r, reserved)
            throw QuiverError.io("mmap", path: path)
        }
        Platform.adviseHugePages(p, size)
        reservation = (r, reserved)
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    /// The two access patterns a mapped file's ranges are advised of (``advise(_:_:count:)``).
    enum Access {
        /// Read a page at a time, at random (graph walks, probes): a fault reads its page only.
        case random
        /// Read from end to end: a fault reads ahead of the page, in large requests (the default).
        case sequential
        /// In the page cache (``warm(_:count:isCancelled:)``): read-ahead and huge pages again.
        case cached
    }

    /// Advises the kernel of how the `count` bytes from `start` (inside ``bytes``) will be read.
    /// Only a mapped file takes advice (a file read into memory is already resident); the range
    /// is widened to whole pages.
    func advise(_ access: Access, _ start: UnsafeRawPointer, count: Int) {
        guard memory == nil, reservation != nil, count > 0 else { return }
        let page = Platform.pageSize
        let lo = Int(bitPattern: start) & ~(page - 1)
        let hi = Int(bitPattern: start) + count
        let p = UnsafeMutableRawPointer(bitPattern: lo)!
        switch access {
        case .random: Platform.adviseRandomAccess(p, hi - lo)
        case .sequential: Platform.adviseNormalAccess(p, hi - lo)
        case .cached: Platform.adviseCachedAccess(p, hi - lo)
        }
    }

    /// Whether the `count` bytes from `start` (inside ``bytes``) are all in memory: a file read
    /// into memory is; a mapped file's pages are asked for with `mincore`.
    func isResident(_ start: UnsafeRawPointer, count: Int) -> Bool {
        forEachChunk(start, count: count) { _, _, resident in resident }
    }

    /// Reads the `count` bytes from `start` (inside ``bytes``) of a mapped file into the page
    /// cache with `pread`, 4 MiB at a time, skipping what is resident already (`mincore`), until
    /// done or `isCancelled()`; whether it got to the end. A file read into memory has nothing to
    /// read. Reading with `pread` lets the kernel's read-ahead fill the cache in large folios
    /// (2 MiB on ext4 and XFS), which a mapping advised ``Access/cached`` then maps with one TLB
    /// entry each; it runs on a background thread after open (`CollectionEngine.warmInBackground`).
    func warm(_ start: UnsafeRawPointer, count: Int, isCancelled: () -> Bool) -> Bool {
        guard memory == nil, reservation != nil, count > 0 else { return true }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }  // replaced meanwhile (a compaction): the mapping stays valid
        defer { Platform.closeDescriptor(fd) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.residencyChunk, alignment: Platform.pageSize)
        defer { buffer.deallocate() }
        return forEachChunk(start, count: count) { offset, n, resident in
            if isCancelled() { return false }
            var done = 0
            while !resident && done < n {
                let r = pread(fd, buffer, n - done, off_t(offset + done))
                if r < 0 && errno == EINTR { continue }
                guard r > 0 else { return false }
                done += r
            }
            return true
        }
    }

    /// The chunk `isResident` and `warm` ask `mincore` about at a time.
    private static let residencyChunk = 4 << 20

    /// Calls `body(file offset, length, resident)` for each chunk of ``residencyChunk`` bytes of
    /// the `count` bytes from `start` (widened to whole pages), `resident` when `mincore` finds
    /// every page of it in memory, until `body` returns false; whether it got to the end. A file
    /// read into memory has no chunks to visit.
    private func forEachChunk(_ start: UnsafeRawPointer, count: Int, _ body: (Int, Int, Bool) -> Bool) -> Bool {
        guard memory == nil, reservation != nil, count > 0, let base = bytes.baseAddress else { return true }
        let page = Platform.pageSize
        var scratch = [UInt8](repeating: 0, count: Self.residencyChunk / page + 1)
        var offset = (start - base) & ~(page - 1)
        let end = start - base + count
        while offset < end {
            let n = min(Self.residencyChunk, end - offset)
            let resident = Platform.isResident(UnsafeMutableRawPointer(mutating: base + offset), n, scratch: &scratch)
            guard body(offset, n, resident) else { return false }
            offset += n
        }
        return true
    }

    deinit {
        if let reservation { munmap(reservation.start, reservation.size) }
    }
}

/// An exclusive, non-blocking `flock` on a file, held until `release()`.
final class FileLock: @unchecked Sendable {
    // @unchecked: `fd` is written once in init and in release(), which the owner serializes.
    private var fd: Int32

    init(path: String, databasePath: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw QuiverError.io("open", path: path) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            Platform.closeDescriptor(fd)
            if e == EWOULDBLOCK {
                throw QuiverError(.locked, "database '\(databasePath)' is open in another Database instance or process; close it first")
            }
            throw QuiverError.io("flock", path: path, errno: e)
        }
    }

    func release() {
        if fd >= 0 {
            flock(fd, LOCK_UN)
            Platform.closeDescriptor(fd)
            fd = -1
        }
    }

    deinit { release() }
}
