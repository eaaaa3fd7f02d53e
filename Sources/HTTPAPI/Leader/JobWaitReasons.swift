import SchedulerCore
import SchedulerPlanning

/// Fills the `reason` of queued jobs (``JobResource/reason``) from the cluster as the answering
/// node sees it (``PlacementReason``). Read time only: the reason is not replicated state.
enum JobWaitReasons {
    /// Whether `job` waits for a node: a once job `queued`, or a cron job whose latest run is.
    static func isWaiting(_ job: JobResource) -> Bool { job.state == "queued" || job.lastRun?.state == "queued" }

    /// Whether any of `jobs` waits (only then is the cluster worth asking for).
    static func needsCluster(_ jobs: [JobResource]) -> Bool { jobs.contains(where: isWaiting) }

    /// `jobs` with the reason of each queued one set from `cluster`'s members. Reachability
    /// counts only in the leader's own view: a follower hears from the leader alone, so it
    /// would call every other follower unreachable; there every member counts as live.
    /// `running[job][node]`: attempts of the job running on the node (what `max_per_node`
    /// counts; ``SchedulerState/placementGroup(ofRun:)``), for the jobs `ids`. O(running attempts).
    static func runningByNode(ofJobs ids: [String], in state: SchedulerState) -> [String: [String: Int]] {
        let wanted = Set(ids.map { "job:" + $0 })
        var running: [String: [String: Int]] = [:]
        for attempt in state.runningAttempts() {
            guard let group = state.placementGroup(ofRun: attempt.runID), wanted.contains(group) else { continue }
            running[String(group.dropFirst(4)), default: [:]][attempt.executor.rawValue, default: 0] += 1
        }
        return running
    }

    static func annotate(_ jobs: [JobResource], cluster: ClusterResource,
                         running: [String: [String: Int]] = [:]) -> [JobResource] {
        let nodes = nodes(cluster)
        return jobs.map { job in
            guard isWaiting(job) else { return job }
            var job = job
            let placement = Placement(constraints: (job.constraints ?? [:]).map { KeyValue($0.key, $0.value) },
                                      maxPerNode: job.maxPerNode)
            let here = running[job.id] ?? [:]
            job.reason = PlacementReason.reason(for: placement, nodes: nodes, runningHere: { here[$0] ?? 0 })
            return job
        }
    }

    /// The members of `cluster` as ``PlacementReason`` reads them. Reachability counts only in
    /// the leader's own view: a follower hears from the leader alone, so it would call every
    /// other follower unreachable; there every member counts as live.
    static func nodes(_ cluster: ClusterResource) -> [PlacementReason.Node] {
        let leaderView = cluster.leader != nil && cluster.leader == cluster.node
        return cluster.nodes.map {
            PlacementReason.Node(id: $0.id, labels: $0.labels ?? [:], isDraining: $0.draining ?? false,
                                 isReachable: leaderView ? $0.reachable : true, slots: $0.slots, busy: $0.busy)
        }
    }

    /// Whether any task of `dags` is queued (only then is the cluster worth asking for).
    static func needsCluster(_ dags: [DAGRunResource]) -> Bool {
        dags.contains { $0.tasks.contains { $0.state == "queued" } }
    }

    /// `dags` with the reason of each queued task set, exactly as a job's: the task's own
    /// placement (``SchedulerState/placement(ofRun:)``) and, for `max_per_node`, the attempts of
    /// its group (the DAG run, or the scheduled DAG's job) running on each node. O(tasks +
    /// running attempts).
    static func annotate(_ dags: [DAGRunResource], nodes: [PlacementReason.Node], in state: SchedulerState) -> [DAGRunResource] {
        var running: [String: [String: Int]]?
        return dags.map { dag in
            var dag = dag
            for index in dag.tasks.indices where dag.tasks[index].state == "queued" {
                guard let run = state.run(RunID(dag.tasks[index].runId)),
                      let group = state.placementGroup(ofRun: run.id) else { continue }
                let placement = state.placement(ofRun: run)
                var here: [String: Int] = [:]
                if placement.maxPerNode != nil {
                    let counts = running ?? runningByGroup(in: state)
                    running = counts
                    here = counts[group] ?? [:]
                }
                dag.tasks[index].reason = PlacementReason.reason(for: placement, nodes: nodes, runningHere: { here[$0] ?? 0 })
            }
            return dag
        }
    }

    /// `running[group][node]`: running attempts per placement group and node.
    private static func runningByGroup(in state: SchedulerState) -> [String: [String: Int]] {
        var running: [String: [String: Int]] = [:]
        for attempt in state.runningAttempts() {
            guard let group = state.placementGroup(ofRun: attempt.runID) else { continue }
            running[group, default: [:]][attempt.executor.rawValue, default: 0] += 1
        }
        return running
    }
}
