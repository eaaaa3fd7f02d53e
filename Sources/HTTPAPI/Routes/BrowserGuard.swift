import Hummingbird

/// Keeps web pages from using a node's API through a visitor's browser (docs/security.md,
/// "Browsers"):
///
/// - **`Origin`**: a request a browser sends on behalf of a page carries the page's origin. One
///   whose origin is neither this node's own (the `Host` it was sent to, as the dashboard's
///   requests are) nor listed in `[api] cors_origins` is refused with 403 before routing — also a
///   CORS preflight. Listed origins get CORS headers (Hummingbird's `CORSMiddleware`, after this).
///   Requests without `Origin` (curl, the CLI, Prometheus) are not affected.
/// - **`Host`**, on a node with no tokens that listens on loopback: only loopback names
///   (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`) are served. A DNS-rebinding page —
///   `evil.example` re-pointed at 127.0.0.1 — sends `Host: evil.example`, and its own origin
///   matches that host, so the `Origin` rule alone would let it through; body-less POSTs
///   (`trigger`, `requeue`, `pause`) need no `Content-Type` either.
public struct BrowserGuard<Context: RequestContext>: RouterMiddleware {
    /// Origins (`scheme://host[:port]`, as browsers send them) that may call the API cross-site.
    public let allowedOrigins: Set<String>
    /// Whether to serve loopback `Host` names only.
    public let loopbackHostsOnly: Bool

    /// A guard. `loopbackHostsOnly` should be `true` exactly when the node has no tokens and
    /// its API listens on a loopback address.
    public init(allowedOrigins: [String] = [], loopbackHostsOnly: Bool) {
        self.allowedOrigins = Set(allowedOrigins.map { $0.lowercased() })
        self.loopbackHostsOnly = loopbackHostsOnly
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // HTTP/1.1's Host header arrives as the request's authority (a Host field, if one is
        // left among the headers, wins: it is what the client wrote).
        let host = request.headers.first { $0.name.canonicalName == "host" }?.value ?? request.head.authority
        if loopbackHostsOnly, let host, !Self.isLoopback(host: host) {
            throw APIError(.forbidden, "Host '\(FieldProblem.shortened(host))' is not a loopback name: this node has no API tokens, so it "
                           + "serves only localhost, 127.0.0.1 and [::1] (protection against DNS rebinding); set [api] tokens_file "
                           + "to serve other names", field: "Host")
        }
        if let origin = request.headers[.origin], !isAllowed(origin: origin, host: host) {
            throw APIError(.forbidden, "requests from the web origin '\(FieldProblem.shortened(origin))' are refused: only this "
                           + "node's own pages and the origins in [api] cors_origins may call the API from a browser", field: "Origin")
        }
        return try await next(request, context)
    }

    /// The CORS headers for origins the guard let through — add it after the guard, and an
    /// ``APIErrorMiddleware`` after it (errors must reach CORS as responses): the
    /// request headers and methods the API uses, the origin echoed (``BrowserGuard`` already
    /// refused any other), no credentials — tokens travel in `Authorization`, not cookies.
    public static func corsMiddleware() -> CORSMiddleware<Context> {
        CORSMiddleware(allowOrigin: .originBased,
                       allowHeaders: [.accept, .authorization, .contentType, .ifMatch] + [HTTPFields.Element.Name("Idempotency-Key")].compactMap { $0 },
                       allowMethods: [.get, .post, .patch, .delete, .options],
                       exposedHeaders: ["ETag", "Quorum-Run-Id"])
    }

    func isAllowed(origin: String, host: String?) -> Bool {
        let origin = origin.lowercased()
        if allowedOrigins.contains(origin) { return true }
        guard let host = host?.lowercased() else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    /// Whether `host` (a `Host` header: name or address, optional port) is a loopback name.
    static func isLoopback(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("[") {
            guard let end = name.firstIndex(of: "]") else { return false }
            return name[name.index(after: name.startIndex)..<end] == "::1"
        }
        if let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
