import Foundation
import Hummingbird
import NIOCore

extension APIError: HTTPResponseError {
    /// The HTTP status of ``code``.
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: code.statusCode) }

    /// `{"error": {"code", "message", "field"}}` with the status, and `Retry-After` for 503.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        makeResponse()
    }

    /// The response for this error (no request needed).
    public func makeResponse() -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if code == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }  // RFC 6750 §3
        let body: ByteBuffer
        do {
            body = ByteBuffer(bytes: try JSONEncoder().encode(envelope))
        } catch {
            body = ByteBuffer(string: #"{"error":{"code":"internal","message":"could not encode the error","field":null}}"#)
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// Maps anything a handler or the router threw to an ``APIError``: Hummingbird's own errors
    /// by their status, a body over the limit to 413, anything else to a 500 (a bug).
    public init(mapping error: any Error) {
        switch error {
        case let api as APIError:
            self = api
        case is NIOTooManyBytesError:
            self.init(.payloadTooLarge, "the request body is over the limit; split it into smaller requests")
        case let http as HTTPError:
            switch http.status.code {
            case 400: self.init(.badRequest, http.body ?? "bad request")
            case 404: self.init(.notFound, "no such endpoint; see docs/api.md")
            case 405: self.init(.notFound, "this endpoint does not accept that method; see docs/api.md")
            case 413: self.init(.payloadTooLarge, "the request body is over the limit")
            default:
                if let code = Code.allCases.first(where: { $0.statusCode == http.status.code }) {
                    self.init(code, http.body ?? http.status.reasonPhrase)
                } else {
                    self.init(.internal, http.body ?? http.status.reasonPhrase)
                }
            }
        default:
            self.init(.internal, "internal error: \(error)")
        }
    }
}

/// Renders every error as the API's error object with its status: the one place errors become
/// HTTP responses (unknown paths too).
public struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// A middleware.
    public init() {}

    /// Runs the route and turns any thrown error into its response.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return APIError(mapping: error).makeResponse()
        }
    }
}
