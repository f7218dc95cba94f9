import Foundation

/// Reads from a pipe with `read(2)`, retrying `EINTR`.
///
/// Foundation's `readDataToEndOfFile()` and `availableData` end in `try!`, so a signal that
/// interrupts the read (SIGCHLD from another test's child) crashes the whole test process:
/// CI lost a run to that.
public enum PipeReading {
    /// Everything up to end of file (or the first error other than `EINTR`).
    public static func readToEnd(_ handle: FileHandle) -> Data {
        var data = Data()
        while let chunk = readSome(handle) { data.append(chunk) }
        return data
    }

    /// What one `read(2)` returns (waiting until something is available), nil at end of file.
    public static func readSome(_ handle: FileHandle) -> Data? {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
            if n > 0 { return Data(buffer[0..<n]) }
            if n < 0 && errno == EINTR { continue }
            return nil
        }
    }
}
