import ArgumentParser
import Dispatch
import Foundation
import Quiver
import QuiverServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension QuiverCommand {
    /// `quiver serve DB`: Milvus's gRPC protocol over the database, so pymilvus code runs unchanged.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the database over Milvus's gRPC protocol (pymilvus: MilvusClient(uri=\"http://HOST:PORT\")).",
            discussion: """
                Prints one line, 'quiver serve: listening on HOST:PORT', once connections are accepted. \
                SIGINT or SIGTERM stop it gracefully: no new call is accepted, calls in flight get \
                --shutdown-grace seconds to finish (then they are cancelled), a running index build \
                is cancelled (it is redone at the next start), the database is flushed and closed, \
                and its lock released.
                """)

        @Argument(help: "The database directory (created when missing).") var db: String
        @Option(help: "The address to listen on.") var host = "127.0.0.1"
        @Option(help: "The TCP port (0 picks a free one).") var port = 19530
        @Option(help: "Require this token on every call (pymilvus: token=TOKEN, or user/password for a USER:PASSWORD token).")
        var token: String?
        @Option(help: "PEM certificate chain file: serve TLS (with --tls-key).") var tlsCert: String?
        @Option(help: "PEM private key file of --tls-cert.") var tlsKey: String?
        @Option(help: "The largest request message, in MB.") var maxMessageMb = 256
        @Option(help: "Seconds that calls in flight get to finish after SIGINT or SIGTERM before they are cancelled.")
        var shutdownGrace = 10

        func validate() throws {
            guard (0...65_535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
            guard (1...2047).contains(maxMessageMb) else { throw ValidationError("--max-message-mb must be in 1...2047") }
            guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
            for path in [tlsCert, tlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("cannot read '\(path)'")
            }
            if let token, token.isEmpty { throw ValidationError("--token must not be empty") }
            guard (0...3600).contains(shutdownGrace) else { throw ValidationError("--shutdown-grace must be in 0...3600") }
        }

        func run() async throws {
            var configuration = MilvusServerConfiguration()
            configuration.host = host
            configuration.port = port
            configuration.token = token
            configuration.tlsCertificatePath = tlsCert
            configuration.tlsKeyPath = tlsKey
            configuration.maxMessageBytes = maxMessageMb << 20
            let database = try await Database.open(at: db)
            let server = MilvusServer(database: database, configuration: configuration)
            let signals = [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [shutdownGrace] in server.shutdown(gracePeriod: .seconds(shutdownGrace)) }
                source.resume()
                return source
            }
            let scheme = tlsCert == nil ? "" : " (TLS)"
            var failure: (any Error)?
            do {
                try await server.run { host, port in
                    // written unbuffered: a script waits for this line on a pipe
                    FileHandle.standardOutput.write(Data("quiver serve: listening on \(host):\(port)\(scheme)\n".utf8))
                }
            } catch {
                failure = error
            }
            signals.forEach { $0.cancel() }
            // Cancels a running index build, waits for a running compaction and for a write the
            // engine had begun, flushes every collection, releases the lock.
            let closed = Result { try database.close() }
            if let failure { throw failure }
            try closed.get()
            FileHandle.standardError.write(Data("quiver serve: stopped; database closed\n".utf8))
        }
    }
}
