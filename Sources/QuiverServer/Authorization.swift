import Foundation
import GRPCCore

/// Requires Milvus's `authorization` metadata on every call when the server has a token.
///
/// pymilvus sends `base64(token)` for `MilvusClient(token=…)` and `base64("user:password")` for
/// `user=`/`password=`, so a server started with `--token user:password` accepts both; the raw
/// token is accepted too. A call without it, or with another value, fails with UNAUTHENTICATED
/// before any handler runs. The token is compared in constant time and never logged.
struct TokenInterceptor: ServerInterceptor {
    let token: [UInt8]

    init(token: String) {
        self.token = Array(token.utf8)
    }

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard request.metadata[stringValues: "authorization"].contains(where: accepts) else {
            throw RPCError(code: .unauthenticated, message: "missing or wrong authorization: this server needs its token")
        }
        return try await next(request, context)
    }

    /// Whether a metadata value carries the token, raw or base64-encoded.
    func accepts(_ value: String) -> Bool {
        if Self.equal(Array(value.utf8), token) { return true }
        guard let decoded = Data(base64Encoded: value) else { return false }
        return Self.equal(Array(decoded), token)
    }

    /// Compares without an early exit, so the time taken does not tell how much of a guess matched.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
