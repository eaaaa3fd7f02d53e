/// Request limits of the HTTP API.
public struct APILimits: Hashable, Sendable {
    /// Largest body of a single-object request, in bytes. Default 1 MiB.
    public var maxBodyBytes: Int
    /// Largest body of `POST /api/jobs/batch`, in bytes. Default 32 MiB.
    public var maxBatchBodyBytes: Int
    /// Most jobs in one batch. Default 10,000.
    public var maxBatchJobs: Int
    /// Page size when `limit` is absent. Default 100.
    public var defaultPageSize: Int
    /// Largest `limit`. Default 1000.
    public var maxPageSize: Int
    /// Longest `Idempotency-Key`, in bytes. Default 256.
    public var maxIdempotencyKeyBytes: Int

    /// Limits; the defaults are the documented ones.
    public init(maxBodyBytes: Int = 1 << 20, maxBatchBodyBytes: Int = 32 << 20, maxBatchJobs: Int = 10_000,
                defaultPageSize: Int = 100, maxPageSize: Int = 1000, maxIdempotencyKeyBytes: Int = 256) {
        self.maxBodyBytes = maxBodyBytes
        self.maxBatchBodyBytes = maxBatchBodyBytes
        self.maxBatchJobs = maxBatchJobs
        self.defaultPageSize = defaultPageSize
        self.maxPageSize = maxPageSize
        self.maxIdempotencyKeyBytes = maxIdempotencyKeyBytes
    }
}

/// A method and a path as `docs/openapi.yaml` writes it (`/api/jobs/{id}`).
public struct APIRoute: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// `GET`, `POST`, `DELETE`.
    public var method: String
    /// The OpenAPI path.
    public var path: String
    /// A route.
    public init(_ method: String, _ path: String) {
        self.method = method
        self.path = path
    }
    /// By path, then method.
    public static func < (lhs: APIRoute, rhs: APIRoute) -> Bool { (lhs.path, lhs.method) < (rhs.path, rhs.method) }
    /// `GET /api/jobs`.
    public var description: String { "\(method) \(path)" }

    /// The path in Hummingbird's syntax (`/api/jobs/:id`).
    var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : String(segment)
        }.joined(separator: "/")
    }
}
