import Hummingbird

/// Counts every request in `quorum_http_requests_total{route,status}`.
///
/// `route` is the matched route pattern (`/api/jobs/{id}`), never the raw path, so the number of
/// series stays bounded whatever ids clients send; a request no route matches (unknown path or
/// method) is `unmatched`. `status` is the response's status code, or the status of an error
/// thrown as `HTTPResponseError` (`HTTPError`, the API's own errors), or 500 for any other error.
///
/// Add it to the router first, before the error middleware and before any route: Hummingbird
/// applies a router middleware only to routes added after it, and as the outermost middleware
/// it sees the status the client gets.
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The label of requests that matched no route.
    public static var unmatchedRoute: String { "unmatched" }

    /// Where the requests are counted.
    public let metrics: QuorumMetrics

    /// A middleware counting into `metrics`.
    public init(metrics: QuorumMetrics) {
        self.metrics = metrics
    }

    /// Runs the rest of the chain and counts its answer.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.httpRequest(route: Self.routeLabel(context.endpointPath), status: response.status.code)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.httpRequest(route: Self.routeLabel(context.endpointPath), status: status)
            throw error
        }
    }

    /// The route label of a request: the router's matched pattern, or ``unmatchedRoute``.
    /// Hummingbird stores the pattern in a reference shared with the middleware's copy of the
    /// context, so it is readable after `next` returns; it is `NotFound` (or unset) when no
    /// route matched.
    static func routeLabel(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath != "NotFound", endpointPath.hasPrefix("/") else { return unmatchedRoute }
        return endpointPath
    }
}
