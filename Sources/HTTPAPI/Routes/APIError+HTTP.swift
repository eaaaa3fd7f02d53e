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
            case 405: self.init(.methodNotAllowed, "this endpoint does not accept that method; see docs/api.md")
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
    private let routes: [APIRoute]

    /// A middleware; `routes` (the contract's, ``QuorumRoutes/contract``) turn "no such route"
    /// into 405 with `Allow` when the path exists with other methods.
    public init(routes: [APIRoute] = []) { self.routes = routes }

    /// Runs the route and turns any thrown error into its response.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let http as HTTPError where http.status.code == 404 || http.status.code == 405 {
            // The router found no route for this method and path: a path of the contract with
            // other methods is 405 (RFC 9110 §15.5.6), anything else 404.
            let allowed = APIRoute.methods(in: routes, matching: request.uri.path)
            if allowed.contains(request.method.rawValue) {
                // A route of the contract this build does not serve yet (QuorumRoutes.notYetImplemented).
                return APIError(.notFound, "\(request.method.rawValue) \(request.uri.path) is not implemented by this build yet; "
                    + "see docs/api.md").makeResponse()
            }
            guard !allowed.isEmpty else { return APIError(mapping: http).makeResponse() }
            var response = APIError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on this path; it allows "
                + "\(allowed.joined(separator: ", ")) (see docs/api.md)").makeResponse()
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        } catch {
            return APIError(mapping: error).makeResponse()
        }
    }
}
