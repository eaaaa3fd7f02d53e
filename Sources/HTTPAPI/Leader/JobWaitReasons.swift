import SchedulerCore
import SchedulerPlanning

/// Fills the `reason` of queued jobs (``JobResource/reason``) from the cluster as the answering
/// node sees it (``PlacementReason``). Read time only: the reason is not replicated state.
enum JobWaitReasons {
    /// Whether any of `jobs` is queued (only then is the cluster worth asking for).
    static func needsCluster(_ jobs: [JobResource]) -> Bool { jobs.contains { $0.state == "queued" } }

    /// `jobs` with the reason of each queued one set from `cluster`'s members. Reachability
    /// counts only in the leader's own view: a follower hears from the leader alone, so it
    /// would call every other follower unreachable; there every member counts as live.
    static func annotate(_ jobs: [JobResource], cluster: ClusterResource) -> [JobResource] {
        let leaderView = cluster.leader != nil && cluster.leader == cluster.node
        let nodes = cluster.nodes.map {
            PlacementReason.Node(id: $0.id, labels: $0.labels ?? [:], isDraining: $0.draining ?? false,
                                 isReachable: leaderView ? $0.reachable : true, slots: $0.slots, busy: $0.busy)
        }
        return jobs.map { job in
            guard job.state == "queued" else { return job }
            var job = job
            let placement = Placement(constraints: (job.constraints ?? [:]).map { KeyValue($0.key, $0.value) },
                                      maxPerNode: job.maxPerNode)
            job.reason = PlacementReason.reason(for: placement, nodes: nodes)
            return job
        }
    }
}
