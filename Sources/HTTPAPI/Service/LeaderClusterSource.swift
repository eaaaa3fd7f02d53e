/// Where a follower gets the leader's view of the members for `GET /api/cluster` (only the
/// leader knows how far each member has replicated and applied).
///
/// HTTPAPI never imports the node runtime: the `quorum` executable implements this with a
/// request to the leader's API (carrying the caller's `Authorization` and
/// ``AttemptOutputRequest/proxiedHeader``, so the leader answers with its own view and never
/// asks on), cached for a second. The browser itself only ever calls the node it loaded the
/// dashboard from.
public protocol LeaderClusterSource: Sendable {
    /// The leader `leader`'s own view (its ``ClusterResource/source`` `local`, its `node` the
    /// leader) and how old it is in milliseconds, or `nil` when none at most 30 s old can be
    /// had. Never throws: the caller then answers with its own view.
    func leaderView(of leader: String, authorization: String?) async -> (view: ClusterResource, ageMs: Int64)?
}
