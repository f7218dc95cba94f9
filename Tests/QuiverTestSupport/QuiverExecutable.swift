import Foundation
import Synchronization

/// The built `quiver` executable, run the way a user runs it (for the CLI tests of the
/// QuiverCLITests and QuiverRAGTests targets).
public enum QuiverExecutable {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    public struct NotBuilt: Error, CustomStringConvertible {
        public var description: String { "the quiver executable must be built (swift build) beside the test bundle" }
    }

    /// The `quiver` binary in the build folder of the running tests, nil when it is not built.
    public static var path: String? {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        for candidate in [dir + "/quiver", dir + "/../quiver"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    /// Runs `quiver args` and waits for it. `environment` replaces this process's when given.
    /// Standard error is read on another thread while standard output is read here, so a child
    /// that fills one pipe cannot stall on it.
    public static func run(_ args: [String], environment: [String: String]? = nil) throws -> Output {
        guard let path else { throw NotBuilt() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errData = Mutex(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            let d = PipeReading.readToEnd(err.fileHandleForReading)
            errData.withLock { $0 = d }
            group.leave()
        }
        let o = PipeReading.readToEnd(out.fileHandleForReading)
        group.wait()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self))
    }
}
