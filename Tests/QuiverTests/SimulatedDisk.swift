import Foundation
@testable import Quiver

/// A disk that loses power: replays a ``PowerCutRecorder`` trace and tells what a power cut after
/// any recorded call leaves, in the manner of leveldb's fault-injection environment
/// (`db/fault_injection_test.cc`) and SQLite's crash tests.
///
/// The model is the one POSIX promises, nothing more: a file's bytes are durable up to its last
/// `fsync`; a directory entry (a creation, a rename, an unlink) is durable once the directory was
/// fsynced after it. A cut keeps the durable directory entries, and for each file they name
/// either only its fsynced bytes (``Survival/synced``) or every byte written, the last unsynced
/// write cut back to a 512-byte sector boundary (``Survival/torn``: the page cache was written
/// back, except the sector being written when the power went).
struct SimulatedDisk {
    enum Survival: String, CaseIterable, Sendable {
        case synced, torn
    }

    private struct Inode {
        var synced: [UInt8] = []
        var current: [UInt8] = []
        /// The byte range of the last write since the last fsync, when it appended.
        var lastAppend: Range<Int>?
    }

    private enum Entry: Equatable {
        case file(Int)
        case directory
    }

    let root: String
    private var inodes = [Inode]()
    /// The namespace as processes see it, by path relative to `root` ("" is `root`).
    private var visible = [String: Entry]()
    /// The entries a directory fsync made durable.
    private var durable = [String: Entry]()
    private var handles = [Int: Int]()
    /// How many events have been applied.
    private(set) var applied = 0

    /// A disk holding an empty, durable `root`.
    init(root: String) {
        self.root = root
    }

    private func relative(_ path: String) -> String {
        path == root ? "" : String(path.dropFirst(root.count + 1))
    }

    private static func parent(_ rel: String) -> String {
        guard let slash = rel.lastIndex(of: "/") else { return "" }
        return String(rel[..<slash])
    }

    /// Applies the next call of the trace.
    mutating func apply(_ event: PowerCutRecorder.Event) {
        applied += 1
        switch event {
        case .mkdir(let p):
            visible[relative(p)] = .directory
        case .rmdir(let p), .unlink(let p):
            visible[relative(p)] = nil
        case .open(let p, let handle, let truncate):
            let rel = relative(p)
            let inode: Int
            if case .file(let existing)? = visible[rel] {
                inode = existing
            } else {
                inode = inodes.count
                inodes.append(Inode())
                visible[rel] = .file(inode)
            }
            handles[handle] = inode
            if truncate {
                inodes[inode].current = []
                inodes[inode].lastAppend = nil
            }
        case .write(let handle, let offset, let bytes):
            let i = handles[handle]!
            var c = inodes[i].current
            if c.count < offset { c += [UInt8](repeating: 0, count: offset - c.count) }
            let end = offset + bytes.count
            if end > c.count { c += [UInt8](repeating: 0, count: end - c.count) }
            c.replaceSubrange(offset..<end, with: bytes)
            inodes[i].lastAppend = end == c.count ? offset..<end : nil
            inodes[i].current = c
        case .truncate(let handle, let length):
            let i = handles[handle]!
            let c = inodes[i].current
            inodes[i].current = length <= c.count ? Array(c[0..<length]) : c + [UInt8](repeating: 0, count: length - c.count)
            inodes[i].lastAppend = nil
        case .fsync(let handle):
            let i = handles[handle]!
            inodes[i].synced = inodes[i].current
            inodes[i].lastAppend = nil
        case .fsyncDirectory(let p):
            let dir = relative(p)
            let inDir: (String) -> Bool = { !$0.isEmpty && Self.parent($0) == dir }
            durable = durable.filter { !inDir($0.key) }
            for (name, entry) in visible where inDir(name) { durable[name] = entry }
        case .rename(let from, let to):
            let a = relative(from), b = relative(to)
            visible[b] = visible.removeValue(forKey: a)
        }
    }

    /// Whether a power cut now could leave anything different from what processes see.
    var hasUnsyncedState: Bool {
        visible != durable || inodes.contains { $0.synced != $0.current }
    }

    /// Writes what a power cut after the calls applied so far leaves into the empty directory `target`.
    func materialize(_ survival: Survival, into target: String) throws {
        let fm = FileManager.default
        for rel in durable.keys.sorted(by: { $0.count < $1.count }) {
            // An entry survives only when every directory above it does.
            var up = Self.parent(rel)
            var reachable = true
            while !up.isEmpty {
                guard durable[up] == .directory else { reachable = false; break }
                up = Self.parent(up)
            }
            guard reachable else { continue }
            let path = target + "/" + rel
            switch durable[rel]! {
            case .directory:
                try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
            case .file(let i):
                let bytes = contents(inodes[i], survival)
                guard fm.createFile(atPath: path, contents: Data(bytes)) else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
                }
            }
        }
    }

    private func contents(_ inode: Inode, _ survival: Survival) -> [UInt8] {
        switch survival {
        case .synced:
            return inode.synced
        case .torn:
            guard let last = inode.lastAppend else { return inode.current }
            let sector = 512
            let kept = max(last.lowerBound, (last.upperBound - 1) / sector * sector)
            return Array(inode.current[0..<kept])
        }
    }
}
