/// What a bearer token may do: `read` < `submit` < `admin` (docs/security.md, "API tokens").
/// Each route needs one role (``QuorumRoutes/requiredRole(of:)``) or none (open routes).
public enum APIRole: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Every GET (jobs, runs, DAGs, the DLQ, the cluster, `/metrics` unless public).
    case read
    /// Creating and changing work: jobs, batches, DAGs, cancel, pause, resume, trigger, DLQ requeue.
    case submit
    /// Destroying and operating: DLQ purge and the cluster's writes.
    case admin

    private var rank: Int {
        switch self {
        case .read: 0
        case .submit: 1
        case .admin: 2
        }
    }

    /// Whether a token of this role may use a route that needs `required`.
    public func allows(_ required: APIRole) -> Bool { self >= required }

    public static func < (lhs: APIRole, rhs: APIRole) -> Bool { lhs.rank < rhs.rank }
}
