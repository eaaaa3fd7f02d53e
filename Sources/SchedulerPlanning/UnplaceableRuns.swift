import SchedulerCore

/// How many queued runs wait for *placement* (`quorum_jobs_unplaceable`): no member that is
/// live, not draining and has executor slots carries the run's constraints, so no amount of
/// waiting for a free slot places it — an operator must add or relabel a node, undrain one or
/// edit the job's constraints.
///
/// Full nodes and `max_per_node` are load, not placement: a run they hold back goes out when an
/// attempt ends, so it is not counted (its `reason` still says why it waits). Pure: the members
/// are an input, as for ``PlacementReason``.
public enum UnplaceableRuns {
    /// Most queued runs looked at per count, in queue order: the count is a gauge read on every
    /// scrape, and a queue of millions must not cost a scrape a full walk of the heap.
    public static let maxRunsExamined = 10_000

    /// Whether no node in `nodes` may ever take a run with `placement` as they are now.
    public static func isUnplaceable(_ placement: Placement, nodes: [PlacementReason.Node]) -> Bool {
        !nodes.contains { $0.slots > 0 && !$0.isDraining && $0.isReachable && placement.matches($0.labels) }
    }

    /// Queued runs of `state` (jobs' and DAG tasks') that are ``isUnplaceable(_:nodes:)``, among
    /// the first `limit` in queue order.
    public static func count(in state: SchedulerState, nodes: [PlacementReason.Node], limit: Int = maxRunsExamined) -> Int {
        state.runsToAssign(limit: limit).reduce(0) { $0 + (isUnplaceable($1.placement, nodes: nodes) ? 1 : 0) }
    }
}
