/// The metric names of the public contract (`docs/api.md`, "Metrics"), and the histogram buckets.
///
/// The names are the contract: dashboards and alerts use them, so they never change silently.
public enum MetricNames {
    /// `quorum_raft_term` (gauge): the node's current Raft term.
    public static let raftTerm = "quorum_raft_term"
    /// `quorum_raft_is_leader` (gauge): 1 while this node is the leader, else 0.
    public static let raftIsLeader = "quorum_raft_is_leader"
    /// `quorum_raft_commit_index` (gauge): the highest log index known committed.
    public static let raftCommitIndex = "quorum_raft_commit_index"
    /// `quorum_raft_applied_index` (gauge): the highest log index applied to the scheduler.
    public static let raftAppliedIndex = "quorum_raft_applied_index"
    /// `quorum_raft_leader_changes_total` (counter): leader changes this node observed.
    public static let raftLeaderChanges = "quorum_raft_leader_changes_total"
    /// `quorum_raft_append_seconds` (histogram): time to append entries to the local log.
    public static let raftAppend = "quorum_raft_append_seconds"
    /// `quorum_wal_fsync_seconds` (histogram): time of one write-ahead-log sync.
    public static let walFsync = "quorum_wal_fsync_seconds"
    /// `quorum_jobs_submitted_total` (counter): jobs created in the state machine.
    public static let jobsSubmitted = "quorum_jobs_submitted_total"
    /// `quorum_runs_finished_total{outcome}` (counter): attempts that ended, by outcome.
    public static let runsFinished = "quorum_runs_finished_total"
    /// `quorum_queue_depth{priority}` (gauge): queued runs per priority.
    public static let queueDepth = "quorum_queue_depth"
    /// `quorum_dlq_size` (gauge): runs in the dead-letter queue.
    public static let dlqSize = "quorum_dlq_size"
    /// `quorum_run_duration_seconds` (histogram): attempt end minus attempt start.
    public static let runDuration = "quorum_run_duration_seconds"
    /// `quorum_schedule_lag_seconds` (histogram): attempt start minus due time.
    public static let scheduleLag = "quorum_schedule_lag_seconds"
    /// `quorum_executor_slots` (gauge): executor slots this node offers.
    public static let executorSlots = "quorum_executor_slots"
    /// `quorum_executor_busy` (gauge): executor slots running an attempt now.
    public static let executorBusy = "quorum_executor_busy"
    /// `quorum_executor_held` (gauge): assignments waiting on this node for a slot (`[executor] prefetch`).
    public static let executorHeld = "quorum_executor_held"
    /// `quorum_http_requests_total{route,status}` (counter): HTTP requests answered.
    public static let httpRequests = "quorum_http_requests_total"
    /// `quorum_clock_jumps_total` (counter): times this node, leading, found its wall clock more
    /// than 1 s ahead of its bound (the median of every voter's fresh report, or its monotonic
    /// clock plus its trusted offset) and began stamping the bound instead; once per episode.
    public static let clockJumps = "quorum_clock_jumps_total"
    /// `quorum_clock_behind_total` (counter): the sibling of ``clockJumps`` for a wall clock more
    /// than 1 s *behind* the bound, which would otherwise hold scheduler time still; once per episode.
    public static let clockBehind = "quorum_clock_behind_total"
    /// `quorum_events_clients_cut_off_total` (counter): `GET /api/events` clients closed for
    /// falling too far behind (docs/api.md, "Events").
    public static let eventClientsCutOff = "quorum_events_clients_cut_off_total"
    /// `quorum_output_proxy_requests_total{outcome}` (counter): requests this node made to the
    /// node that ran an attempt for its full output tail (`GET …/output`), by outcome: `ok`
    /// (served the executor's tail) or `failed` (unreachable, timed out, refused or incomplete:
    /// the caller got the replicated short tail instead).
    public static let outputProxyRequests = "quorum_output_proxy_requests_total"
    /// The `outcome` labels of ``outputProxyRequests``, exported from 0 at start.
    public static let outputProxyOutcomes = ["ok", "failed"]
    /// `quorum_raft_dropped_messages_total{reason}` (counter): peer Raft messages dropped by
    /// validation (`Raft.DropReason`).
    public static let raftDroppedMessages = "quorum_raft_dropped_messages_total"
    /// `quorum_transport_dropped_frames_total{reason}` (counter): frames the peer transport could
    /// not send or deliver (`Transport.FrameDropReason`).
    public static let transportDroppedFrames = "quorum_transport_dropped_frames_total"
    /// `quorum_tls_reloads_total{target,outcome}` (counter): TLS files re-read without a restart
    /// after they changed; `target` is `peer` (`[tls]`) or `api` (`[api] tls_cert`/`tls_key`),
    /// `outcome` is `ok` (swapped in) or `error` (refused; the previous credentials stay).
    public static let tlsReloads = "quorum_tls_reloads_total"
    /// `quorum_quota_refusals_total{quota}` (counter): creating requests refused by a `[quotas]`
    /// limit, by its key (`max_pending_jobs`, `max_state_bytes`, `submissions_per_second_per_token`).
    public static let quotaRefusals = "quorum_quota_refusals_total"
    /// `quorum_pending_jobs` (gauge): runs pending, queued or running (what `max_pending_jobs` bounds).
    public static let pendingJobs = "quorum_pending_jobs"
    /// `quorum_state_bytes` (gauge): this node's scheduler-state size estimate (what `max_state_bytes` bounds).
    public static let stateBytes = "quorum_state_bytes"
    /// `quorum_notifications_total{channel,outcome}` (counter): notification tries this node made
    /// as leader, by channel (`webhook`, `email`) and outcome (`delivered`, `retry`, `failed`).
    public static let notifications = "quorum_notifications_total"
    /// `quorum_notifications_pending` (gauge): notifications waiting for delivery (replicated).
    public static let notificationsPending = "quorum_notifications_pending"
    /// `quorum_replica_digest_mismatch_total` (counter, on the leader): members whose state
    /// digest disagreed with the leader's at the same applied index (the replica check; each
    /// member and index counted once). Any increase needs an operator (docs/guarantees.md).
    public static let replicaDigestMismatches = "quorum_replica_digest_mismatch_total"
    /// `quorum_replica_checkpoints_total{outcome}` (counter): replica-check checkpoints this node
    /// applied, by what it did there: `digested`, `paced` (none: a large state is digested only
    /// every few checkpoints) or `busy` (none: the previous digest was still being computed).
    public static let replicaCheckpoints = "quorum_replica_checkpoints_total"
    /// The outcomes of ``replicaCheckpoints``.
    public static let replicaCheckpointOutcomes = ["digested", "paced", "busy"]
    /// `quorum_node_draining{node}` (gauge): 1 for each member the member directory marks
    /// draining, 0 for the others.
    public static let nodeDraining = "quorum_node_draining"
    /// `quorum_jobs_unplaceable` (gauge, the leader's count): queued runs that no live, undrained
    /// member with slots can take (their constraints match no open node).
    public static let jobsUnplaceable = "quorum_jobs_unplaceable"
    /// `quorum_api_reads_in_flight` (gauge): list reads this node serves now (at most
    /// `[api] max_concurrent_reads`; the read admission gate, docs/api.md "Limits").
    public static let apiReadsInFlight = "quorum_api_reads_in_flight"
    /// `quorum_api_reads_queued` (gauge): list reads waiting for a place (at most `[api] max_queued_reads`).
    public static let apiReadsQueued = "quorum_api_reads_queued"
    /// `quorum_api_reads_rejected_total` (counter): list reads refused with 429 because the gate was full.
    public static let apiReadsRejected = "quorum_api_reads_rejected_total"
    /// `quorum_api_reads_budget_wait_seconds_total` (counter): seconds list reads waited, holding their
    /// place, for the list reads' CPU budget (`[api] max_read_cpu_percent`).
    public static let apiReadsBudgetWait = "quorum_api_reads_budget_wait_seconds_total"

    /// The `reason` labels of ``raftDroppedMessages`` exported from 0 at start (`Raft.DropReason`'s
    /// raw values; another reason is still counted, its series appearing at its first drop).
    public static let raftDropReasons = [
        "forged_sender", "term_out_of_range", "index_out_of_range", "entries_not_contiguous", "entry_term_above_sender",
        "truncates_committed", "snapshot_older_than_applied", "malformed_snapshot_transfer",
        "ack_beyond_log",
    ]
    /// The `reason` labels of ``transportDroppedFrames`` exported from 0 at start
    /// (`Transport.FrameDropReason`'s raw values).
    public static let transportDropReasons = [
        "frame_too_large", "unknown_peer", "queue_full", "peer_removed", "connection_lost", "inbound_queue_full",
        "foreign_cluster",
    ]

    /// Every name with its Prometheus type, in the order of `docs/api.md`.
    public static let all: [(name: String, type: String)] = [
        (raftTerm, "gauge"), (raftIsLeader, "gauge"), (raftCommitIndex, "gauge"), (raftAppliedIndex, "gauge"),
        (raftLeaderChanges, "counter"), (raftAppend, "histogram"), (walFsync, "histogram"),
        (jobsSubmitted, "counter"), (runsFinished, "counter"), (queueDepth, "gauge"), (dlqSize, "gauge"),
        (runDuration, "histogram"), (scheduleLag, "histogram"), (executorSlots, "gauge"),
        (executorBusy, "gauge"), (httpRequests, "counter"), (clockJumps, "counter"), (clockBehind, "counter"),
        (raftDroppedMessages, "counter"),
        (transportDroppedFrames, "counter"), (tlsReloads, "counter"), (eventClientsCutOff, "counter"),
        (outputProxyRequests, "counter"), (quotaRefusals, "counter"), (pendingJobs, "gauge"), (stateBytes, "gauge"),
        (notifications, "counter"), (notificationsPending, "gauge"),
        (replicaDigestMismatches, "counter"), (nodeDraining, "gauge"), (jobsUnplaceable, "gauge"),
        (apiReadsInFlight, "gauge"), (apiReadsQueued, "gauge"), (apiReadsRejected, "counter"), (apiReadsBudgetWait, "counter"),
        (executorHeld, "gauge"), (replicaCheckpoints, "counter"),
    ]
}

/// Histogram bucket upper bounds, in seconds.
public enum MetricBuckets {
    /// Disk and log appends: 100 µs … 1 s (an SSD fsync is ~0.1–2 ms; a second is an outage).
    public static let storage: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1),
    ]
    /// Attempt durations: 1 ms (a noop) … 1 h (a long batch job).
    public static let runDuration: [Double] = [
        0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1_800, 3_600,
    ]
    /// Schedule lag: 1 ms … 60 s (a healthy cluster starts due runs within tens of milliseconds).
    public static let scheduleLag: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]
}

/// The `# HELP` text of each metric. One text per name: the registry refuses a second
/// registration of a name with another text.
enum MetricHelp {
    static func text(for name: String) -> String {
        switch name {
        case MetricNames.raftTerm: "Current Raft term of this node."
        case MetricNames.raftIsLeader: "1 if this node is the Raft leader, else 0."
        case MetricNames.raftCommitIndex: "Highest Raft log index known to be committed."
        case MetricNames.raftAppliedIndex: "Highest Raft log index applied to the scheduler state machine."
        case MetricNames.raftLeaderChanges: "Leader changes observed by this node."
        case MetricNames.raftAppend: "Time to append entries to the local Raft log, in seconds."
        case MetricNames.walFsync: "Time of one write-ahead-log sync (group commit), in seconds."
        case MetricNames.jobsSubmitted: "Jobs created by applied submit commands."
        case MetricNames.runsFinished: "Attempts that ended, by outcome (succeeded, failed, timed_out, cancelled, lost)."
        case MetricNames.queueDepth: "Queued runs waiting for an executor, by priority."
        case MetricNames.dlqSize: "Runs in the dead-letter queue."
        case MetricNames.runDuration: "Attempt duration (end minus start), in seconds."
        case MetricNames.scheduleLag: "Attempt start minus the time the run was due, in seconds."
        case MetricNames.executorSlots: "Executor slots this node offers."
        case MetricNames.executorBusy: "Executor slots of this node running an attempt."
        case MetricNames.executorHeld: "Assignments waiting on this node for a free slot ([executor] prefetch)."
        case MetricNames.httpRequests: "HTTP requests answered, by route pattern and status."
        case MetricNames.clockJumps: "Times this leader found its wall clock more than 1 s ahead of its bound (the median of every voter's reported clock, or its trusted offset) and began stamping the bound; once per episode."
        case MetricNames.clockBehind: "Times this leader found its wall clock more than 1 s behind its bound (the median of every voter's reported clock, or its trusted offset) and began stamping the bound; once per episode."
        case MetricNames.eventClientsCutOff: "Event-stream clients closed for falling too far behind."
        case MetricNames.outputProxyRequests: "Requests to another node for an attempt's full output tail, by outcome (ok, failed)."
        case MetricNames.raftDroppedMessages: "Peer Raft messages dropped by validation, by reason."
        case MetricNames.transportDroppedFrames: "Peer frames the transport could not send or deliver, by reason."
        case MetricNames.tlsReloads: "TLS files re-read without a restart, by target (peer, api) and outcome (ok, error)."
        case MetricNames.quotaRefusals: "Creating requests refused by a [quotas] limit, by quota key."
        case MetricNames.pendingJobs: "Runs pending, queued or running (bounded by [quotas] max_pending_jobs)."
        case MetricNames.notifications: "Notification tries this node made as leader, by channel and outcome."
        case MetricNames.notificationsPending: "Notifications waiting for delivery (the replicated table)."
        case MetricNames.stateBytes: "Estimated scheduler state size in bytes: last snapshot plus entries applied since (bounded by [quotas] max_state_bytes)."
        case MetricNames.replicaDigestMismatches: "Members whose scheduler-state digest disagreed with the leader's at the same applied index (no work is dispatched to them until an operator clears it)."
        case MetricNames.replicaCheckpoints: "Replica-check checkpoints this node applied, by outcome (digested; paced: a large state is digested every few checkpoints; busy: the previous digest was still running)."
        case MetricNames.nodeDraining: "1 if the member directory marks this member draining (no new attempts), else 0."
        case MetricNames.jobsUnplaceable: "Queued runs no live, undrained member with slots can take (their constraints match no open node); counted by the leader."
        case MetricNames.apiReadsInFlight: "List reads this node serves now (bounded by [api] max_concurrent_reads)."
        case MetricNames.apiReadsQueued: "List reads waiting for a place (bounded by [api] max_queued_reads)."
        case MetricNames.apiReadsRejected: "List reads refused with 429 because max_concurrent_reads were running and max_queued_reads waiting."
        case MetricNames.apiReadsBudgetWait: "Seconds list reads waited for the list reads' CPU budget ([api] max_read_cpu_percent)."
        default: ""
        }
    }
}
