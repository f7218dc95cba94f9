import Quiver
import QuiverMilvusProtocol

/// An error the server reports in a Milvus `Status`: Milvus's code (`Status.code`), the
/// deprecated `error_code` that older pymilvus paths read, and the reason.
///
/// Milvus answers almost every failure in the response's `status`, not as a gRPC error, and
/// pymilvus raises `MilvusException(code: status.code, message: status.reason)` from it. The codes
/// are Milvus's (`pkg/util/merr/errors.go`); the legacy code follows Milvus's mapping of each.
package struct MilvusError: Error, Sendable, Equatable {
    package var code: Int32
    package var legacy: Milvus_Proto_Common_ErrorCode
    package var reason: String

    package init(code: Int32, legacy: Milvus_Proto_Common_ErrorCode, reason: String) {
        self.code = code
        self.legacy = legacy
        self.reason = reason
    }

    /// The one database name Quiver serves (Milvus's default database).
    package static let defaultDatabaseName = "default"

    // Milvus's codes used here.
    package static let collectionNotFoundCode: Int32 = 100
    package static let partitionNotFoundCode: Int32 = 200
    package static let collectionNotLoadedCode: Int32 = 101
    package static let indexNotFoundCode: Int32 = 700
    package static let databaseNotFoundCode: Int32 = 800
    package static let parameterInvalidCode: Int32 = 1100
    package static let aliasNotFoundCode: Int32 = 1600
    package static let unsupportedCode: Int32 = 3000
    package static let unexpectedCode: Int32 = 65535
    /// Milvus Lite's code (and legacy `error_code`) for bad input (see ``quiverCode``).
    static let milvusLiteIllegalArgument: Int32 = 6

    /// `has_collection` is false exactly when `DescribeCollection` answers this (code 100, legacy 4).
    package static func collectionNotFound(_ name: String) -> MilvusError {
        MilvusError(code: collectionNotFoundCode, legacy: .collectionNotExists,
                    reason: "collection not found[database=\(Self.defaultDatabaseName)][collection=\(name)]")
    }

    package static func partitionNotFound(_ name: String) -> MilvusError {
        MilvusError(code: partitionNotFoundCode, legacy: .unexpectedError, reason: "partition not found[partition=\(name)]")
    }

    /// A read of a released collection (Milvus's ErrCollectionNotLoaded, code 101).
    package static func collectionNotLoaded(_ detail: String) -> MilvusError {
        MilvusError(code: collectionNotLoadedCode, legacy: .unexpectedError, reason: "collection not loaded: \(detail)")
    }

    package static func indexNotFound(_ collection: String, detail: String) -> MilvusError {
        MilvusError(code: indexNotFoundCode, legacy: .indexNotExist, reason: "index not found[collection=\(collection)]: \(detail)")
    }

    package static func aliasNotFound(_ alias: String) -> MilvusError {
        MilvusError(code: aliasNotFoundCode, legacy: .unexpectedError,
                    reason: "alias not found[database=\(Self.defaultDatabaseName)][alias=\(alias)]")
    }

    package static func databaseNotFound(_ name: String) -> MilvusError {
        MilvusError(code: databaseNotFoundCode, legacy: .unexpectedError,
                    reason: "database not found[database=\(name)]: Quiver serves one database, '\(Self.defaultDatabaseName)'")
    }

    package static func invalid(_ reason: String) -> MilvusError {
        MilvusError(code: parameterInvalidCode, legacy: .illegalArgument, reason: "invalid parameter: \(reason)")
    }

    package static func unsupported(_ reason: String) -> MilvusError {
        MilvusError(code: unsupportedCode, legacy: .unexpectedError, reason: "unsupported operation: \(reason)")
    }

    /// Maps any error thrown while serving a call. `QuiverError` codes map to Milvus's: bad input
    /// (`.invalidArgument`, `.dimensionMismatch`, `.filterSyntax`, `.alreadyExists`) is "invalid
    /// parameter" (1100, IllegalArgument), a missing collection is 100, a missing partition 200, a
    /// missing alias 1600, a missing index 700, a read of a released collection 101 (collection not
    /// loaded), an unsupported option 3000, and failures of the server itself (`.io`, `.corruption`, ...)
    /// are "unexpected" (65535, UnexpectedError) with Quiver's message as the reason.
    ///
    /// - Parameter indexNotFound: the collection whose index the call was about: a `.notFound`
    ///   that does not name a collection is then Milvus's IndexNotFound.
    package init(_ error: any Error, indexNotFound collection: String? = nil) {
        if let error = error as? MilvusError {
            self = error
            return
        }
        guard let error = error as? QuiverError else {
            self = MilvusError(code: Self.unexpectedCode, legacy: .unexpectedError, reason: "unexpected error: \(error)")
            return
        }
        switch error.code {
        case .invalidArgument, .dimensionMismatch, .alreadyExists:
            self = .invalid(error.message)
        case .filterSyntax:
            self = .invalid("cannot parse expression: \(error.message)")  // Milvus's wording, which clients read
        case .notFound:
            if let name = Self.name(inNotFound: error.message, prefix: "collection '") {
                self = .collectionNotFound(name)
            } else if let alias = Self.name(inNotFound: error.message, prefix: "alias '") {
                self = .aliasNotFound(alias)
            } else if let partition = Self.name(inNotFound: error.message, prefix: "partition '") {
                self = .partitionNotFound(partition)
            } else if let collection {
                self = .indexNotFound(collection, detail: error.message)
            } else {
                self = .invalid(error.message)
            }
        case .unsupported:
            self = .unsupported(error.message)
        case .notLoaded:
            self = .collectionNotLoaded(error.message)
        default:
            self = MilvusError(code: Self.unexpectedCode, legacy: .unexpectedError, reason: "\(error.code): \(error.message)")
        }
    }

    /// The name in the engine's "`prefix`NAME' does not exist" (`prefix` "collection '" or "alias '").
    private static func name(inNotFound message: String, prefix: String) -> String? {
        let suffix = "' does not exist"
        guard message.hasPrefix(prefix), message.hasSuffix(suffix) else { return nil }
        return String(message.dropFirst(prefix.count).dropLast(suffix.count))
    }

    // MARK: The client's direction: a server's status as a QuiverError

    /// The error a response's status reports, or `nil` when it is a success (both `code` and the
    /// legacy `error_code` zero, as pymilvus requires).
    package init?(status: Milvus_Proto_Common_Status) {
        guard status.code != 0 || status.errorCode != .success else { return nil }
        self.init(code: status.code, legacy: status.errorCode, reason: status.reason)
    }

    /// The Quiver error code of Milvus's status code (`pkg/util/merr/errors.go`), with the legacy
    /// `error_code` read when an old server sends only that: not-found codes (collection 100,
    /// partition 200, index 700, database 800, alias 1600) are `.notFound`; an alias that exists
    /// or has a collection's name (1602, 1601) is `.alreadyExists`; a collection not loaded (101,
    /// Milvus's and Milvus Lite's answer to a search after a release) is `.notLoaded`; parameter (1100–1102), field
    /// (1700s), index type (701) and schema (105) errors are `.invalidArgument`; service
    /// unavailability (1, 2, 11) `.unavailable`; memory, disk, rate and quota limits (3, 4, 7–9,
    /// 12) `.resourceExhausted`; an unimplemented call (10) and an unsupported operation (3000)
    /// `.unsupported`; authentication and privileges (1400s) `.permissionDenied`; anything else
    /// `.serverError`. An invalid parameter (1100) is told apart by its reason as Milvus and
    /// `quiver serve` word it: a filter that does not parse is `.filterSyntax`, a vector of the
    /// wrong dimension `.dimensionMismatch`, a key or name that exists `.alreadyExists`.
    ///
    /// Milvus Lite (3.2.2, measured) has codes of its own, told apart by their legacy codes: bad
    /// input is code 6 with `error_code` 6, a value the legacy enum lacks (Milvus's code 6, cross
    /// cluster routing, is never a client's answer), so `.invalidArgument`, or `.filterSyntax`
    /// when its filter parser wrote the reason ("… at column N"), or `.unsupported` for a type it
    /// lacks ("… which MilvusLite does not support"); any other failure is code 1 with
    /// `error_code` UnexpectedError, so `.serverError` (Milvus's code 1, service not ready, comes
    /// with `error_code` NotReadyServe, and is `.unavailable`).
    package var quiverCode: QuiverError.Code {
        switch code {
        case Self.milvusLiteIllegalArgument where legacy.rawValue == Int(Self.milvusLiteIllegalArgument):
            if reason.contains(" at column ") { return .filterSyntax }
            return reason.contains("does not support") ? .unsupported : .invalidArgument
        case 1 where legacy == .unexpectedError: return .serverError
        case 1100 where reason.contains("cannot parse expression"): return .filterSyntax
        case 1100 where reason.contains("dimensions, the field has") || reason.contains("is not equal to schema dim")
            || reason.contains("vector dimension mismatch"):
            return .dimensionMismatch
        case 1100 where reason.contains("already exists"): return .alreadyExists
        case 100, 200, 700, 800, Self.aliasNotFoundCode: return .notFound
        case Self.collectionNotLoadedCode: return .notLoaded
        case 1601, 1602: return .alreadyExists
        case 105, 701, 802, 1100, 1101, 1102, 1700, 1701: return .invalidArgument
        case 1, 2, 11: return .unavailable
        case 3, 4, 7, 8, 9, 12: return .resourceExhausted
        case 10, Self.unsupportedCode: return .unsupported
        case 1400, 1401, 1402, 1403: return .permissionDenied
        case 0:
            switch legacy {
            case .collectionNotExists, .indexNotExist: return .notFound
            case .illegalArgument, .illegalDimension, .illegalIndexType, .illegalCollectionName, .illegalTopk,
                .illegalRowRecord, .illegalVectorID, .illegalSearchResult, .illegalMetricType, .illegalNlist:
                return .invalidArgument
            case .permissionDenied: return .permissionDenied
            case .rateLimit, .forceDeny, .memoryQuotaExhausted, .diskQuotaExhausted, .outOfMemory: return .resourceExhausted
            case .notReadyServe: return .unavailable
            default: return .serverError
            }
        default: return .serverError
        }
    }

    /// The QuiverError for this status, with the server's reason and Milvus's code in the message.
    package var quiverError: QuiverError {
        QuiverError(quiverCode, "\(reason.isEmpty ? "the server reported an error" : reason) (Milvus code \(code))", cause: self)
    }

    /// The wire status.
    package var status: Milvus_Proto_Common_Status {
        var status = Milvus_Proto_Common_Status()
        status.code = code
        status.errorCode = legacy
        status.reason = reason
        return status
    }
}

/// Responses that carry a `status`, so one function can answer any of them with an error.
package protocol MilvusResponse: Sendable {
    init()
    var status: Milvus_Proto_Common_Status { get set }
}

extension MilvusResponse {
    /// A response with only `status` set, from `error`.
    package static func failure(_ error: MilvusError) -> Self {
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
extension Milvus_Proto_Milvus_DescribeAliasResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_ListAliasesResponse: MilvusResponse {}
extension Milvus_Proto_Milvus_ShowPartitionsResponse: MilvusResponse {}

/// `Status` itself answers the RPCs that return only a status.
extension Milvus_Proto_Common_Status: MilvusResponse {
    package var status: Milvus_Proto_Common_Status {
        get { self }
        set { self = newValue }
    }
}
