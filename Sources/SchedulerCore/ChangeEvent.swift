/// One change a client of `GET /api/events` sees: derived from the applied log
/// (``ChangeEvents/derive(from:index:at:state:)``) or, for `leader` and `node`, from this node's
/// own view (no ``id``, never replayed).
public struct ChangeEvent: Hashable, Sendable {
    /// What changed: the SSE `event:` name and the `type` data key.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// A job was created, changed (cron state) or removed.
        case job
        /// A run changed state or an attempt finished.
        case run
        /// A DAG run was created or changed state.
        case dag
        /// This node saw a new leader (or lost it).
        case leader
        /// A member's health or membership changed.
        case node
    }

    /// `log index × 1,000,000 + position in the entry`: the same event has the same id on
    /// every node, so a client can resume on another node. `nil` for `leader` and `node`.
    public var id: UInt64?
    /// What changed.
    public var kind: Kind
    /// The entry's stamp (the leader's clock when it proposed it), the same on every node;
    /// for `leader`/`node`, when this node saw it.
    public var at: Timestamp
    /// The job, when there is one.
    public var jobID: String?
    /// The run, when there is one.
    public var runID: String?
    /// The DAG run, when there is one.
    public var dagID: String?
    /// The run's attempt, for `run` events.
    public var attempt: Int?
    /// The new state (`queued`, `running`, a DAG's `succeeded`, a job's fine state, `removed`;
    /// for `leader`, the leader's node id or `none`; for `node`, `reachable`, `unreachable`,
    /// `lease_lost` or `lease_renewed`).
    public var state: String?
    /// How an attempt ended (`succeeded`, `failed`, `timed_out`, `cancelled`, `lost`).
    public var outcome: String?
    /// For `node` events, the member the news is about (a peer, or this node for its lease).
    public var node: String?
    /// The labels of the job or DAG the event is about, for `?label=k:v` (not sent).
    public var labels: [KeyValue]

    /// An event.
    public init(id: UInt64?, kind: Kind, at: Timestamp, jobID: String? = nil, runID: String? = nil, dagID: String? = nil,
                attempt: Int? = nil, state: String? = nil, outcome: String? = nil, labels: [KeyValue] = [], node: String? = nil) {
        self.id = id
        self.kind = kind
        self.at = at
        self.jobID = jobID
        self.runID = runID
        self.dagID = dagID
        self.attempt = attempt
        self.state = state
        self.outcome = outcome
        self.node = node
        self.labels = labels
    }

    /// How many events one entry may produce before ids would collide with the next entry's.
    public static let idsPerEntry: UInt64 = 1_000_000

    /// The id of the event at `position` of the entry at log index `index`; `nil` past
    /// ``idsPerEntry`` events in one entry (such events are not numbered, so never replayed)
    /// or for an index too large to multiply.
    public static func id(index: UInt64, position: Int) -> UInt64? {
        guard position >= 0, UInt64(position) < idsPerEntry else { return nil }
        let (base, overflow) = index.multipliedReportingOverflow(by: idsPerEntry)
        guard !overflow else { return nil }
        return base + UInt64(position)
    }
}
