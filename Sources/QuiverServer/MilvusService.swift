import Dispatch
import Foundation
import GRPCCore
import Quiver
import QuiverMilvus
import QuiverMilvusProtocol
import Synchronization

/// Milvus's `MilvusService` over one Quiver `Database`: the RPCs pymilvus's `MilvusClient` sends,
/// with Milvus's semantics and status codes. The handlers are split by message family:
/// `MilvusService+Collections.swift`, `+Data.swift`, `+Search.swift`, `+Indexes.swift`; wire
/// conversions are in `SchemaConversion` and `FieldConversion`, error mapping in `MilvusError`.
///
/// Every handler answers failures in the response's `status` (as Milvus does), never by
/// throwing; the RPCs this service does not implement answer gRPC UNIMPLEMENTED (the router
/// knows no handler for them).
struct MilvusService: Milvus_Proto_Milvus_MilvusService.SimpleServiceProtocol {
    /// The one database name Quiver serves.
    static let databaseName = MilvusError.defaultDatabaseName
    /// The Milvus version reported by `GetVersion` (the protocol generation Quiver speaks).
    static let milvusVersion = "v2.6.0"

    let database: Database
    let state = State()

    /// What the service keeps while the server runs.
    final class State: Sendable {
        /// The last timestamp `AllocTimestamp` handed out.
        let lastTimestamp = Mutex<UInt64>(0)
    }

    init(database: Database) {
        self.database = database
    }

    // MARK: Running handlers

    /// The queue synchronous database calls run on, so they never block the threads that run
    /// Swift's tasks: the cooperative pool, or NIO's event loops under `quiver serve`, which makes
    /// them the global executor (`QuiverCommand.main`).
    private static let queue = DispatchQueue(label: "quiver.serve", qos: .userInitiated, attributes: .concurrent)

    /// Runs `body` on the database queue and answers its error, if any, in the response's status.
    ///
    /// Cancellation (the server's shutdown deadline passing, see `MilvusServer.shutdown(gracePeriod:)`)
    /// answers at once with a "cancelled" status, so the handler returns; a body already running
    /// goes on to its end on the queue (a write stays atomic: it is applied whole or not at all),
    /// and one not yet started never runs.
    ///
    /// - Parameter index: the collection an index RPC is about (a `.notFound` that names no
    ///   collection then maps to Milvus's IndexNotFound).
    func answer<Response: MilvusResponse>(
        index collection: String? = nil, _ body: @escaping @Sendable () throws -> Response
    ) async -> Response {
        let reply = Reply<Response>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                guard reply.wait(continuation) else { return }
                Self.queue.async {
                    guard reply.isPending else { return }
                    do {
                        reply.resume(try body())
                    } catch {
                        reply.resume(.failure(MilvusError(error, indexNotFound: collection)))
                    }
                }
            }
        } onCancel: {
            reply.resume(.failure(MilvusError(
                code: MilvusError.unexpectedCode, legacy: .unexpectedError, reason: "the call was cancelled: the server is shutting down")))
        }
    }

    /// The one answer of a call: the body's, or the cancellation's if it comes first.
    private final class Reply<Response: Sendable>: Sendable {
        private enum State {
            case idle
            case waiting(CheckedContinuation<Response, Never>)
            /// Answered before the continuation was there (cancelled before the call began).
            case early(Response)
            case done
        }
        private let state = Mutex<State>(.idle)

        /// Stores the continuation; `false` when the answer came first (the continuation is then resumed with it).
        func wait(_ continuation: CheckedContinuation<Response, Never>) -> Bool {
            let early: Response? = state.withLock { s in
                if case .early(let r) = s {
                    s = .done
                    return r
                }
                s = .waiting(continuation)
                return nil
            }
            guard let early else { return true }
            continuation.resume(returning: early)
            return false
        }

        /// Whether no answer has been given yet.
        var isPending: Bool {
            state.withLock { s in
                if case .waiting = s { return true }
                return false
            }
        }

        /// Gives the answer, unless one was given already.
        func resume(_ response: Response) {
            let continuation: CheckedContinuation<Response, Never>? = state.withLock { s in
                switch s {
                case .idle:
                    s = .early(response)
                    return nil
                case .waiting(let c):
                    s = .done
                    return c
                case .early, .done:
                    return nil
                }
            }
            continuation?.resume(returning: response)
        }
    }

    /// Checks a request's database name: Quiver serves only `default` (or no name).
    static func checkDatabase(_ name: String) throws {
        guard name.isEmpty || name == databaseName else { throw MilvusError.databaseNotFound(name) }
    }

    /// A stable id for a collection name (Milvus ids are positive 63-bit integers).
    static func collectionID(_ name: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in name.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int64(hash >> 1)
    }

    /// A Milvus hybrid timestamp: milliseconds since 1970 shifted left 18 bits, plus a logical counter.
    func nextTimestamp() -> UInt64 {
        let physical = UInt64(Date().timeIntervalSince1970 * 1000) << 18
        return state.lastTimestamp.withLock { last in
            last = max(last + 1, physical)
            return last
        }
    }

    static var success: Milvus_Proto_Common_Status { Milvus_Proto_Common_Status() }

    // MARK: Connection

    func connect(request: Milvus_Proto_Milvus_ConnectRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_ConnectResponse {
        var response = Milvus_Proto_Milvus_ConnectResponse()
        response.serverInfo.buildTags = "quiver"
        response.serverInfo.deployMode = "STANDALONE"
        response.identifier = Int64(nextTimestamp() & 0x7fff_ffff)
        return response
    }

    func getVersion(request: Milvus_Proto_Milvus_GetVersionRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_GetVersionResponse {
        var response = Milvus_Proto_Milvus_GetVersionResponse()
        response.version = Self.milvusVersion
        return response
    }

    func checkHealth(request: Milvus_Proto_Milvus_CheckHealthRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_CheckHealthResponse {
        var response = Milvus_Proto_Milvus_CheckHealthResponse()
        response.isHealthy = true
        return response
    }

    func listDatabases(request: Milvus_Proto_Milvus_ListDatabasesRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_ListDatabasesResponse {
        var response = Milvus_Proto_Milvus_ListDatabasesResponse()
        response.dbNames = [Self.databaseName]
        response.createdTimestamp = [0]
        response.dbIds = [1]
        return response
    }

    func allocTimestamp(request: Milvus_Proto_Milvus_AllocTimestampRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_AllocTimestampResponse {
        var response = Milvus_Proto_Milvus_AllocTimestampResponse()
        response.timestamp = nextTimestamp()
        return response
    }
}
