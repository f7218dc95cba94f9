import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A Milvus-protocol server run by a test on a free loopback port: the built `quiver serve`, or
/// `milvus-lite server` from the pymilvus virtual environment (`.venv-pymilvus`, made by
/// scripts/test-pymilvus.sh) or `$QUIVER_MILVUS_LITE`. Its output goes to a log file beside its
/// data; ``stop()`` ends it with SIGTERM (SIGKILL when it has not exited 15 s later), ``kill()``
/// with SIGKILL.
///
/// The server starts with no signal blocked. A child inherits the signal mask of the thread that
/// spawns it, `Foundation.Process` does not reset it, and a test runs on a libdispatch worker
/// thread, which blocks SIGTERM, SIGINT, SIGHUP and most others: a `milvus-lite server` (Python,
/// which keeps the mask it is given) started from there never saw the SIGTERM of ``stop()``, whose
/// wait then blocked a thread of the cooperative pool for good; two such waits on a 2-core
/// machine stalled every test in the process (2026-12-02: `SigBlk: fffffffe3bfbea27`, SIGTERM
/// pending, in the milvus-lite servers' /proc status; both pool threads in `waitUntilExit`).
public final class ServerProcess: @unchecked Sendable {
    // @unchecked: `process` is only started in `init` and signalled afterwards; Process is thread-safe for that.
    public let port: Int
    public let directory: URL
    public let log: URL
    private let process: Process

    /// `http://127.0.0.1:PORT`.
    public var uri: String { "http://127.0.0.1:\(port)" }

    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The `milvus-lite` console script, or nil when it is not installed.
    public static var milvusLitePath: String? {
        if let path = ProcessInfo.processInfo.environment["QUIVER_MILVUS_LITE"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        // This file is <package>/Tests/QuiverTestSupport/ServerProcess.swift.
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venv = package.appendingPathComponent(".venv-pymilvus/bin/milvus-lite").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    /// Whether `milvus-lite server` can be started.
    public static var hasMilvusLite: Bool { milvusLitePath != nil }

    /// `quiver serve` on a fresh database in a temporary directory.
    public static func quiver(token: String? = nil, arguments: [String] = []) throws -> ServerProcess {
        guard let binary = QuiverExecutable.path else { throw QuiverExecutable.NotBuilt() }
        return try ServerProcess(name: "quiver") { port, directory in
            [binary, "serve", directory.appendingPathComponent("db.quiver").path, "--host", "127.0.0.1", "--port", String(port)]
                + (token.map { ["--token", $0] } ?? []) + arguments
        }
    }

    /// `milvus-lite server` on a fresh data directory.
    public static func milvusLite() throws -> ServerProcess {
        guard let lite = milvusLitePath else { throw StartFailure(description: "milvus-lite is not installed") }
        return try ServerProcess(name: "milvus-lite") { port, directory in
            [lite, "server", "--data-dir", directory.appendingPathComponent("data").path, "--host", "127.0.0.1", "--port", String(port)]
        }
    }

    private init(name: String, command: (Int, URL) -> [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        log = directory.appendingPathComponent("server.log")
        try Data().write(to: log)
        port = try Self.freePort()
        let args = command(port, directory)
        process = Process()
        process.executableURL = URL(fileURLWithPath: args[0])
        process.arguments = Array(args.dropFirst())
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try withNoSignalBlocked { try process.run() }
        let deadline = Date().addingTimeInterval(60)
        while !Self.accepts(port) {
            guard process.isRunning else {
                throw StartFailure(description: "\(name) exited before listening: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
            guard Date() < deadline else {
                kill()
                throw StartFailure(description: "\(name) did not listen on port \(port) within 60 s")
            }
            usleep(50_000)
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGTERM, then waits for the exit; SIGKILL when the server has not exited 15 s later, so a
    /// server that ignores SIGTERM cannot hold the calling thread.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        kill()
    }

    /// SIGKILL, then waits for the exit: the server dies as in a crash.
    public func kill() {
        if process.isRunning {
            _ = sendSignal(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Stops the server without ending it (SIGSTOP): it holds its connections and answers nothing.
    public func pause() {
        if process.isRunning { _ = sendSignal(process.processIdentifier, SIGSTOP) }
    }

    /// Lets a paused server go on (SIGCONT).
    public func resume() {
        if process.isRunning { _ = sendSignal(process.processIdentifier, SIGCONT) }
    }

    /// A loopback port nothing listens on (just handed out by the system, then closed).
    public static func unusedPort() throws -> Int { try freePort() }

    /// A port the system has just handed out for loopback (bound to 0, then closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM_VALUE), 0)
        guard fd >= 0 else { throw StartFailure(description: "socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw StartFailure(description: "bind to a free loopback port failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM_VALUE), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Runs `body` (which spawns a child) with every signal unblocked in the calling thread, so the
/// child starts with an empty signal mask, then restores the thread's mask.
private func withNoSignalBlocked<T>(_ body: () throws -> T) rethrows -> T {
    var none = sigset_t()
    var saved = sigset_t()
    sigemptyset(&none)
    pthread_sigmask(SIG_SETMASK, &none, &saved)
    defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
    return try body()
}

#if canImport(Glibc)
private let SOCK_STREAM_VALUE = Int(SOCK_STREAM.rawValue)
private func sendSignal(_ pid: pid_t, _ signal: Int32) -> Int32 { Glibc.kill(pid, signal) }
#elseif canImport(Musl)
private let SOCK_STREAM_VALUE = SOCK_STREAM
private func sendSignal(_ pid: pid_t, _ signal: Int32) -> Int32 { Musl.kill(pid, signal) }
#elseif canImport(Darwin)
private let SOCK_STREAM_VALUE = SOCK_STREAM
private func sendSignal(_ pid: pid_t, _ signal: Int32) -> Int32 { Darwin.kill(pid, signal) }
#endif
