import Quiver
import QuiverMilvusProtocol

/// An error the server reports in a Milvus `Status`: Milvus's code (`Status.code`), the
/// deprecated `error_code` that older pymilvus paths read, and the reason.
///
/// Milvus answers almost every failure in the response's `status`, not as a gRPC error, and
/// pymilvus raises `MilvusException(code: status.code, message: status.reason)` from it. The codes
/// are Milvus's (`pkg/util/merr/errors.go`); the legacy code follows Milvus's mapping of each.
struct MilvusError: Error, Sendable, Equatable {
    var code: Int32
    var legacy: Milvus_Proto_Common_ErrorCode
    var reason: String

    init(code: Int32, legacy: Milvus_Proto_Common_ErrorCode, reason: String) {
        self.code = code
        self.legacy = legacy
        self.reason = reason
    }

    // Milvus's codes used here.
    static let collectionNotFoundCode: Int32 = 100
    static let indexNotFoundCode: Int32 = 700
    static let databaseNotFoundCode: Int32 = 800
    static let parameterInvalidCode: Int32 = 1100
    static let unsupportedCode: Int32 = 3000
    static let unexpectedCode: Int32 = 65535

    /// `has_collection` is false exactly when `DescribeCollection` answers this (code 100, legacy 4).
    static func collectionNotFound(_ name: String) -> MilvusError {
        MilvusError(code: collectionNotFoundCode, legacy: .collectionNotExists,
                    reason: "collection not found[database=\(MilvusService.databaseName)][collection=\(name)]")
    }

    static func indexNotFound(_ collection: String, detail: String) -> MilvusError {
        MilvusError(code: indexNotFoundCode, legacy: .indexNotExist, reason: "index not found[collection=\(collection)]: \(detail)")
    }

    static func databaseNotFound(_ name: String) -> MilvusError {
        MilvusError(code: databaseNotFoundCode, legacy: .unexpectedError,
                    reason: "database not found[database=\(name)]: Quiver serves one database, '\(MilvusService.databaseName)'")
    }

    static func invalid(_ reason: String) -> MilvusError {
        MilvusError(code: parameterInvalidCode, legacy: .illegalArgument, reason: "invalid parameter: \(reason)")
    }

    static func unsupported(_ reason: String) -> MilvusError {
        MilvusError(code: unsupportedCode, legacy: .unexpectedError, reason: "unsupported operation: \(reason)")
    }

    /// Maps any error thrown while serving a call. `QuiverError` codes map to Milvus's: bad input
    /// (`.invalidArgument`, `.dimensionMismatch`, `.filterSyntax`, `.alreadyExists`) is "invalid
    /// parameter" (1100, IllegalArgument), a missing collection is 100, a missing index 700, an
    /// unsupported option 3000, and failures of the server itself (`.io`, `.corruption`, ...)
    /// are "unexpected" (65535, UnexpectedError) with Quiver's message as the reason.
    ///
    /// - Parameter indexNotFound: the collection whose index the call was about: a `.notFound`
    ///   that does not name a collection is then Milvus's IndexNotFound.
    init(_ error: any Error, indexNotFound collection: String? = nil) {
        if let error = error as? MilvusError {
            self = error
            return
        }
        guard let error = error as? QuiverError else {
            self = MilvusError(code: Self.unexpectedCode, legacy: .unexpectedError, reason: "unexpected error: \(error)")
            return
        }
        switch error.code {
        case .invalidArgument, .dimensionMismatch, .filterSyntax, .alreadyExists:
            self = .invalid(error.message)
        case .notFound:
            if let name = Self.collectionName(inNotFound: error.message) {
                self = .collectionNotFound(name)
            } else if let collection {
                self = .indexNotFound(collection, detail: error.message)
            } else {
                self = .invalid(error.message)
            }
        case .unsupported:
            self = .unsupported(error.message)
        default:
            self = MilvusError(code: Self.unexpectedCode, legacy: .unexpectedError, reason: "\(error.code): \(error.message)")
        }
    }

    /// The collection named by the engine's "collection 'NAME' does not exist".
    private static func collectionName(inNotFound message: String) -> String? {
        let prefix = "collection '", suffix = "' does not exist"
        guard message.hasPrefix(prefix), message.hasSuffix(suffix) else { return nil }
        return String(message.dropFirst(prefix.count).dropLast(suffix.count))
    }

    /// The wire status.
    var status: Milvus_Proto_Common_Status {
        var status = Milvus_Proto_Common_Status()
        status.code = code
        status.errorCode = legacy
        status.reason = reason
        return status
    }
}

/// Responses that carry a `status`, so one function can answer any of them with an error.
protocol MilvusResponse: Sendable {
    init()
    var status: Milvus_Proto_Common_Status { get set }
}

extension MilvusResponse {
    /// A response with only `status` set, from `error`.
    static func failure(_ error: MilvusError) -> Self {
        var response = Self()
        response.status = error.status
        return response
    }
}

extension Milvus_Proto_Milvus_ConnectResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_GetVersionResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_CheckHealthResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_ListDatabasesResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_AllocTimestampResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_BoolResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_DescribeCollectionResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_ShowCollectionsResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_GetCollectionStatisticsResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_GetLoadingProgressResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_GetLoadStateResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_DescribeIndexResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_GetIndexStateResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_GetIndexBuildProgressResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_MutationResult: MilvusResponse {}
extension Milvus_Proto_Milvus_SearchResults: MilvusResponse {}
extension Milvus_Proto_Milvus_QueryResults: MilvusResponse {}
extension Milvus_Proto_Milvus_FlushResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_GetFlushStateResponse: MilvusResponse {}

/// `Status` itself answers the RPCs that return only a status.
extension Milvus_Proto_Common_Status: MilvusResponse {
    var status: Milvus_Proto_Common_Status {
        get { self }
        set { self = newValue }
    }
}
