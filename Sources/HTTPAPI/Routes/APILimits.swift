import EgressPolicy

/// Request limits of the HTTP API. `docs/api.md` ("Limits") lists every one with its status and
/// field; tests check each at the limit and one past it. A node sets them from its config's
/// `[api.limits]` (`ClusterConfig.APIRequestLimit`, which this module cannot see): the defaults
/// here and there must agree, and `APILimitsConfigMappingTests` checks that they do.
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
    /// Whether shell tasks are accepted (`[executor] allow_shell`): off, a job or DAG task of kind
    /// `shell` is a 422 at submission instead of an attempt that fails on the executor.
    public var shellTasksAllowed: Bool = true
    /// Which addresses http tasks may reach (`[executor] http_deny` / `http_allow`): an http task
    /// whose URL host is a denied literal address is a 422 on its `url` at submission. Names
    /// pass here; the executor checks what they resolve to. Default: the built-in deny list.
    public var httpAddressPolicy = AddressPolicy()
    /// Most labels on a job or DAG. Default 64.
    public var maxLabels: Int = 64
    /// Longest label key, in UTF-8 bytes. Default 63.
    public var maxLabelKeyBytes: Int = 63
    /// Longest label value, in UTF-8 bytes. Default 256.
    public var maxLabelValueBytes: Int = 256
    /// Most items in a shell task's `command`. Default 1,024.
    public var maxArgvItems: Int = 1024
    /// Most bytes in a shell task's `command`, summed over the items. Default 128 KiB.
    public var maxArgvBytes: Int = 128 << 10
    /// Most entries in a shell task's `env`. Default 256.
    public var maxEnvEntries: Int = 256
    /// Most bytes in a shell task's `env`, summed over `name=value`. Default 64 KiB.
    public var maxEnvBytes: Int = 64 << 10
    /// Most headers on an http task. Default 64.
    public var maxHTTPHeaders: Int = 64
    /// Most bytes in an http task's headers, summed over names and values. Default 16 KiB.
    public var maxHTTPHeaderBytes: Int = 16 << 10
    /// Longest http task `body`, in UTF-8 bytes. Default 256 KiB.
    public var maxHTTPBodyBytes: Int = 256 << 10
    /// Most tasks in a DAG. Default 1,000.
    public var maxDAGTasks: Int = 1000
    /// Most `depends_on` edges in a DAG, summed over its tasks. Default 10,000.
    public var maxDAGEdges: Int = 10_000
    /// Largest JSON of one list page, in bytes: a page that would be larger ends early with a
    /// `next_cursor`. Default 8 MiB.
    public var maxListResponseBytes: Int = 8 << 20
    /// How long a connection may sit with no request in flight before the server closes it.
    /// A response being streamed (server-sent events) is not idle. Default 60 s.
    public var idleTimeout: Duration = .seconds(60)
    /// Most open HTTP connections per node; past it the node stops accepting until one closes
    /// (new connections wait in the listen backlog). Default 1,024.
    public var maxConnections: Int = 1024

    /// Limits; the defaults are the documented ones. Set the others by property.
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

    /// The methods of `routes` whose path template matches the concrete `path` (a `{name}`
    /// segment matches any one non-empty segment), sorted; empty when none does. When several
    /// templates match, only the most literal ones count, as in the router: `/api/jobs/batch`
    /// is that path (POST), not `/api/jobs/{id}` with id `batch`.
    public static func methods(in routes: [APIRoute], matching path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var best = -1
        var methods: Set<String> = []
        for route in routes {
            let template = route.path.split(separator: "/", omittingEmptySubsequences: false)
            guard template.count == segments.count else { continue }
            var literals = 0
            let matches = zip(template, segments).allSatisfy { pattern, segment in
                if pattern.hasPrefix("{") && pattern.hasSuffix("}") { return !segment.isEmpty }
                literals += 1
                return pattern == segment
            }
            guard matches, literals >= best else { continue }
            if literals > best { methods = [] }
            best = literals
            methods.insert(route.method)
        }
        return methods.sorted()
    }

    /// The path in Hummingbird's syntax (`/api/jobs/:id`).
    var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : String(segment)
        }.joined(separator: "/")
    }
}
