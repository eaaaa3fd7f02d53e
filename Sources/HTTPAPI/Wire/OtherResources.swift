/// A DAG run (`/api/dags…`).
public struct DAGRunResource: Codable, Hashable, Sendable {
    /// The DAG run's id.
    public var id: String
    /// The DAG's name.
    public var name: String
    /// `running`, `succeeded`, `failed` or `cancelled`.
    public var state: String
    /// The cron job that started it, or null.
    @ExplicitNull public var jobId: String?
    /// When it was submitted or fired.
    public var createdAt: APITimestamp
    /// When it finished, or null.
    @ExplicitNull public var finishedAt: APITimestamp?
    /// Its tasks in submission order.
    public var tasks: [DAGTaskResource]
    /// How long it is kept once finished, in seconds (null only from a server that predates
    /// the field).
    public var retentionSeconds: Int64? = nil
    /// A one-off DAG run's own `notify` rules (normalised); absent when it has none (a scheduled
    /// DAG's rules are its cron job's, `GET /api/jobs/{id}`).
    public var notify: [NotifyRuleBody]? = nil

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, state
        case jobId = "job_id"
        case createdAt = "created_at"
        case finishedAt = "finished_at"
        case tasks
        case retentionSeconds = "retention_seconds"
        case notify
    }
}

/// One task of a DAG run.
public struct DAGTaskResource: Codable, Hashable, Sendable {
    /// The task id.
    public var id: String
    /// Its run's state.
    public var state: String
    /// Its dependencies.
    public var dependsOn: [String]
    /// Its latest attempt number (0 before any).
    public var attempt: Int
    /// The latest attempt's start, or null.
    @ExplicitNull public var startedAt: APITimestamp?
    /// The latest attempt's end, or null.
    @ExplicitNull public var finishedAt: APITimestamp?
    /// The task's run id.
    public var runId: String
    /// Its attempts counted against `max_attempts` in the current budget (as a job's `tries`).
    @ExplicitNull public var tries: Int?
    /// Its attempts that ended lost without spending a try (as a job's `lost_attempts`).
    @ExplicitNull public var lostAttempts: Int?
    /// Why a `queued` task waits for a node (as a job's ``JobResource/reason``); absent when
    /// some node may take it, or the task is not queued. Computed when read, never replicated.
    public var reason: String? = nil

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, state
        case dependsOn = "depends_on"
        case attempt
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case runId = "run_id"
        case tries
        case lostAttempts = "lost_attempts"
        case reason
    }
}

/// A dead-letter queue item.
public struct DeadLetterResource: Codable, Hashable, Sendable {
    /// The dead run.
    public var runId: String
    /// Its job, or null (a one-off DAG's task).
    @ExplicitNull public var jobId: String?
    /// Its DAG run, or null.
    @ExplicitNull public var dagId: String?
    /// Its DAG task id, or null.
    @ExplicitNull public var taskId: String?
    /// Attempts made.
    public var attempts: Int
    /// Of them, those counted against `max_attempts` in the run's last budget.
    @ExplicitNull public var tries: Int?
    /// Of them, those that ended lost without spending a try, in the run's last budget.
    @ExplicitNull public var lostAttempts: Int?
    /// The last error.
    public var error: String
    /// When it died.
    public var deadAt: APITimestamp

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case runId = "run_id"
        case jobId = "job_id"
        case dagId = "dag_id"
        case taskId = "task_id"
        case attempts, tries
        case lostAttempts = "lost_attempts"
        case error
        case deadAt = "dead_at"
    }
}

/// `GET /api/cluster`: the cluster as one node sees it.
public struct ClusterResource: Codable, Hashable, Sendable {
    /// The leader's node id, or null.
    @ExplicitNull public var leader: String?
    /// The node's current term.
    public var term: UInt64
    /// The node's commit index.
    public var commitIndex: UInt64
    /// Every member: as the leader sees them when ``source`` is `leader` (match and applied
    /// index, lag, busy slots), else as this node does.
    public var nodes: [ClusterNodeResource]
    /// The answering node's id.
    public var node: String?
    /// The answering node's applied index.
    public var appliedIndex: UInt64?
    /// Whose view ``nodes`` is: ``Source/local`` (this node's: on the leader, or when the
    /// leader's could not be had) or ``Source/leader`` (fetched from the leader by a follower).
    public var source: Source?
    /// How old ``nodes`` is, in milliseconds: 0 for this node's own view; for the leader's, the
    /// time since the leader answered (a follower keeps the leader's view up to a second, and
    /// up to 30 s while the leader does not answer).
    public var viewAgeMs: Int64?
    /// The answering node's cluster id (32 hex digits; docs/operations.md, "Cluster identity"):
    /// every node of one cluster answers the same. Always the answering node's own, also when
    /// ``nodes`` is the leader's view. Absent while a node started with `--join` has not adopted
    /// one yet, and from builds before this field.
    public var clusterID: String?

    /// Whose view the members are.
    public enum Source: String, Codable, Hashable, Sendable {
        /// The answering node's own.
        case local
        /// The leader's, fetched by this follower.
        case leader
    }

    /// A cluster view.
    public init(leader: String?, term: UInt64, commitIndex: UInt64, nodes: [ClusterNodeResource], node: String? = nil,
                appliedIndex: UInt64? = nil, source: Source? = nil, viewAgeMs: Int64? = nil, clusterID: String? = nil) {
        self.clusterID = clusterID
        self.leader = leader
        self.term = term
        self.commitIndex = commitIndex
        self.nodes = nodes
        self.node = node
        self.appliedIndex = appliedIndex
        self.source = source
        self.viewAgeMs = viewAgeMs
    }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case leader, term
        case commitIndex = "commit_index"
        case nodes, node
        case appliedIndex = "applied_index"
        case source
        case viewAgeMs = "view_age_ms"
        case clusterID = "cluster_id"
    }
}

/// One member in ``ClusterResource``.
public struct ClusterNodeResource: Codable, Hashable, Sendable {
    /// The node id (`n1`).
    public var id: String
    /// `leader`, `follower`, `candidate` or `learner`.
    public var role: String
    /// Its API address.
    public var api: String
    /// Its Raft address.
    public var raft: String
    /// Whether this node hears from it.
    public var reachable: Bool
    /// Its replicated log index as the leader knows it.
    public var matchIndex: UInt64
    /// Executor slots.
    public var slots: Int
    /// Busy slots.
    public var busy: Int
    /// Its data-directory incarnation as the answering node's configuration records it, as
    /// `0x…` hex; absent while unrecorded (docs/raft.md, "Incarnations").
    public var incarnation: String?
    /// Its process incarnation (`0x…` hex, new at every start): the answering node's own; on the
    /// leader's view, the one the leader learned from the member's latest lease probe that proved
    /// a round trip and names in its assignments. Absent when unknown — a member whose process the
    /// leader does not know gets no work (docs/node.md, "Executors, leases and fencing") — on a
    /// follower's view for the others, and from older builds.
    public var process: String?
    /// Its applied index: on the leader's view, as it last reported it (its lease probe, every
    /// few hundred milliseconds); the answering node's own always; absent when unknown.
    public var appliedIndex: UInt64?
    /// The leader's commit index minus ``appliedIndex``: committed entries it has yet to apply
    /// (the leader's view only; absent when unknown).
    public var lag: UInt64?
    /// Whether it votes (a learner does not); absent from builds before membership changes.
    public var voter: Bool?
    /// Its labels from the replicated member directory; absent from builds before membership changes.
    public var labels: [String: String]?
    /// The command format version its build reported (the leader's view; the answering node's own
    /// build always); absent when unknown (not heard from this term) and from older builds. A
    /// rolling upgrade is done when every member shows the new build's (docs/upgrades.md).
    public var formatVersion: UInt32?
    /// The leader's replica check of it; absent outside the leader's view, for the leader itself,
    /// with `[cluster] digest_interval_entries = 0`, and from older builds.
    public var replicaCheck: ReplicaCheckResource?
    /// Whether an operator drains it (no new attempts there); absent from builds before placement.
    public var draining: Bool?

    /// A member.
    public init(id: String, role: String, api: String, raft: String, reachable: Bool, matchIndex: UInt64,
                slots: Int, busy: Int, incarnation: String? = nil, process: String? = nil, appliedIndex: UInt64? = nil, lag: UInt64? = nil,
                voter: Bool? = nil, labels: [String: String]? = nil, formatVersion: UInt32? = nil,
                replicaCheck: ReplicaCheckResource? = nil, draining: Bool? = nil) {
        self.formatVersion = formatVersion
        self.replicaCheck = replicaCheck
        self.draining = draining
        self.appliedIndex = appliedIndex
        self.lag = lag
        self.voter = voter
        self.labels = labels
        self.id = id
        self.role = role
        self.api = api
        self.raft = raft
        self.reachable = reachable
        self.matchIndex = matchIndex
        self.slots = slots
        self.busy = busy
        self.incarnation = incarnation
        self.process = process
    }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, role, api, raft, reachable
        case matchIndex = "match_index"
        case slots, busy, incarnation, process
        case appliedIndex = "applied_index"
        case lag, voter, labels, draining
        case formatVersion = "format_version"
        case replicaCheck = "replica_check"
    }
}

/// The leader's replica check of one member in ``ClusterNodeResource`` (docs/guarantees.md,
/// "Replica checks"): its state digest compared with the leader's at the same applied index.
public struct ReplicaCheckResource: Codable, Hashable, Sendable {
    /// `ok` (no disagreement; see ``verifiedIndex``) or `diverged` (no work is dispatched to it
    /// until an operator clears it: `POST /api/cluster/nodes/{id}/clear-divergence`).
    public var state: String
    /// The latest checkpoint index its digest was compared at; absent before the first this term.
    public var verifiedIndex: UInt64?
    /// While `diverged`: the index of the first disagreement.
    public var mismatchIndex: UInt64?
    /// While `diverged`: the leader's digest there (16 hex digits).
    public var leaderDigest: String?
    /// While `diverged`: the member's digest there (16 hex digits).
    public var memberDigest: String?
    /// `true` while it gets no work because the leader has not yet compared its digest since it
    /// took office (no lease probe of it arrived yet this term, or its report is ahead of the
    /// leader's newest digest); absent otherwise
    /// (docs/operations.md, "Divergence holds across a leader change").
    public var awaitingCheck: Bool?

    /// A check's state.
    public init(state: String, verifiedIndex: UInt64? = nil, mismatchIndex: UInt64? = nil, leaderDigest: String? = nil,
                memberDigest: String? = nil, awaitingCheck: Bool? = nil) {
        self.awaitingCheck = awaitingCheck
        self.state = state
        self.verifiedIndex = verifiedIndex
        self.mismatchIndex = mismatchIndex
        self.leaderDigest = leaderDigest
        self.memberDigest = memberDigest
    }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case state
        case verifiedIndex = "verified_index"
        case mismatchIndex = "mismatch_index"
        case leaderDigest = "leader_digest"
        case memberDigest = "member_digest"
        case awaitingCheck = "awaiting_check"
    }
}

/// The error body: `{"error": {"code", "message", "field"}}`.
public struct ErrorEnvelope: Codable, Hashable, Sendable {
    /// The error.
    public var error: ErrorDetail
    /// An envelope.
    public init(error: ErrorDetail) { self.error = error }
}

/// The inside of ``ErrorEnvelope``.
public struct ErrorDetail: Codable, Hashable, Sendable {
    /// The code (`invalid`, `not_found`, …).
    public var code: String
    /// What is wrong and what to do.
    public var message: String
    /// The offending field, or null.
    @ExplicitNull public var field: String?

    /// A detail.
    public init(code: String, message: String, field: String?) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey { case code, message, field }
}
