import EgressPolicy

/// A cluster's configuration: one TOML file shared by every node (see `docs/configuration.md`).
///
/// Paths here are templates as written in the file (`data/{id}`); `NodeRuntimeConfig` resolves
/// them for one node.
public struct ClusterConfig: Sendable, Equatable {
    /// `[cluster]`: the cluster's name and where nodes keep their data.
    public struct Cluster: Sendable, Equatable {
        /// A label for logs and metrics; not used for membership.
        public var name: String
        /// Data directory template; `{id}` is replaced by the node id.
        public var dataDir: String
        /// `digest_interval_entries`: every member digests its scheduler state at applied indexes
        /// that are multiples of this, and the leader compares them (the replica check); 0 = off.
        /// Every member must use the same value (the file is the cluster's).
        public var digestIntervalEntries: Int
        /// `cpu_scheduling`: the Linux scheduling policy the node's threads run under.
        public var cpuScheduling: CPUScheduling

        public init(name: String, dataDir: String = Defaults.dataDir, digestIntervalEntries: Int = Defaults.digestIntervalEntries,
                    cpuScheduling: CPUScheduling = Defaults.cpuScheduling) {
            self.name = name
            self.dataDir = dataDir
            self.digestIntervalEntries = digestIntervalEntries
            self.cpuScheduling = cpuScheduling
        }
    }

    /// `[cluster] cpu_scheduling`: how a node's threads are scheduled on Linux.
    ///
    /// A node is many short bursts handed between threads (event loops, the task pool, the log
    /// writer): under the normal policy every wake-up may preempt the thread running. Without
    /// those preemptions a busy node switches a third less often. `SCHED_BATCH` keeps the
    /// same priority and fair share but lets a woken thread wait for the running one's slice
    /// instead (docs/benchmarks.md, "CPU scheduling: SCHED_BATCH": +15–24 % submissions per second,
    /// a better p99, failover as fast).
    public enum CPUScheduling: String, Sendable, Equatable, CaseIterable {
        /// The node switches its threads that run under the normal time-sharing policy
        /// (`SCHED_OTHER`) to `SCHED_BATCH`; a thread started under another policy is left alone.
        case batch
        /// The node leaves its threads' policy as it was started (`chrt`, systemd's
        /// `CPUSchedulingPolicy=`).
        case inherit
    }

    /// `[raft]`: consensus timing. The election timeout is drawn at random from the range on every
    /// election so that candidates rarely collide (Raft §5.2).
    public struct Raft: Sendable, Equatable {
        /// How often a leader sends heartbeats, in milliseconds.
        public var heartbeatMilliseconds: Int
        /// The election timeout range in milliseconds, inclusive.
        public var electionTimeoutMilliseconds: ClosedRange<Int>
        /// `max_entry_bytes`: the largest encoded command one log entry may hold; a write over it
        /// is refused (413) before it is proposed, and the leader splits its own batches to fit.
        /// Every entry must travel in one peer frame (see ``Limits``).
        public var maxEntryBytes: Int

        public init(
            heartbeatMilliseconds: Int = Defaults.heartbeatMilliseconds,
            electionTimeoutMilliseconds: ClosedRange<Int> = Defaults.electionTimeoutMilliseconds,
            maxEntryBytes: Int = Defaults.maxEntryBytes
        ) {
            self.heartbeatMilliseconds = heartbeatMilliseconds
            self.electionTimeoutMilliseconds = electionTimeoutMilliseconds
            self.maxEntryBytes = maxEntryBytes
        }
    }

    /// `[tls]`: the cluster CA and each node's certificate and key (templates with `{id}`).
    public struct TLS: Sendable, Equatable {
        public var ca: String
        public var cert: String
        public var key: String

        public init(ca: String = Defaults.tlsCA, cert: String = Defaults.tlsCert, key: String = Defaults.tlsKey) {
            self.ca = ca
            self.cert = cert
            self.key = key
        }
    }

    /// `[executor]`: how many attempts a node runs at once and whether shell tasks are allowed.
    public struct Executor: Sendable, Equatable {
        public var slots: Int
        /// `prefetch`: how many assignments beyond its slots the leader may give an executor
        /// whose slots are all busy; the executor holds them and starts each the moment a slot
        /// frees, so a stream of short jobs does not wait a replication round trip between one
        /// attempt and the next. 0 (the default): off; at most ``Limits/prefetchPerSlot`` × `slots`.
        public var prefetch: Int = Defaults.executorPrefetch
        /// Shell tasks run arbitrary programs, so they are off unless the operator opts in.
        public var allowShell: Bool
        /// `shell_allow`: absolute fnmatch(3) patterns of the programs shell tasks may run
        /// (`"/usr/bin/*"`), matched against canonical paths. Required with `allow_shell = true`.
        public var shellAllow: [String] = []
        /// `workdir_root`: shell tasks run inside this directory (a template like the TLS paths).
        public var workdirRoot: String?
        /// `run_as`: the unprivileged user shell tasks run as; the node must run as root.
        public var runAs: String?
        /// `lease_ms`: an executor cut off from the leader this long stops its attempts; the
        /// leader expires them (to retry elsewhere) only after this plus a margin.
        public var leaseMilliseconds: Int
        /// `shutdown_grace_ms`: on SIGTERM, how long running attempts may finish before they stop.
        public var shutdownGraceMilliseconds: Int
        /// `kill_grace_ms`: a stopped shell task's process group has this long between SIGTERM
        /// and SIGKILL.
        public var killGraceMilliseconds: Int
        /// `output_files` and `output_bytes`: how many full output tails (≤ 64 KiB each) of the
        /// attempts this node ran it keeps under `data/<id>/outputs/`, and their total size;
        /// oldest evicted first (``Limits/outputFiles``, ``Limits/outputBytes``).
        public var outputFiles: Int = Defaults.outputFiles
        public var outputBytes: Int = Defaults.outputBytes
        /// `lease_margin_ms`: how long the leader waits beyond `lease_ms` before it expires a
        /// silent executor's attempts. `nil` derives it (``fencingMarginMilliseconds(electionTimeoutMaxMilliseconds:)``).
        public var leaseMarginMilliseconds: Int?
        /// `http_deny`: blocks http tasks may not connect to, on top of the built-in list
        /// (``AddressPolicy/builtInDeny``: loopback, link-local incl. cloud metadata, private, …).
        public var httpDeny: [IPNetwork] = []
        /// `http_allow`: exceptions to every deny rule, built-in or listed; an address in both
        /// lists is allowed.
        public var httpAllow: [IPNetwork] = []

        /// The policy the API (literal hosts, at submission) and the executor (resolved
        /// addresses, at run time) judge http tasks' targets with.
        public var httpAddressPolicy: AddressPolicy {
            AddressPolicy(extraDeny: httpDeny, allow: httpAllow)
        }

        public init(slots: Int = Defaults.executorSlots, allowShell: Bool = false,
                    leaseMilliseconds: Int = Defaults.executorLeaseMilliseconds,
                    shutdownGraceMilliseconds: Int = Defaults.shutdownGraceMilliseconds,
                    killGraceMilliseconds: Int = Defaults.killGraceMilliseconds,
                    leaseMarginMilliseconds: Int? = nil) {
            self.slots = slots
            self.allowShell = allowShell
            self.leaseMilliseconds = leaseMilliseconds
            self.shutdownGraceMilliseconds = shutdownGraceMilliseconds
            self.killGraceMilliseconds = killGraceMilliseconds
            self.leaseMarginMilliseconds = leaseMarginMilliseconds
        }

        /// The least margin that keeps a fenced attempt from overlapping its retry: a cut-off
        /// executor stops its attempts at `lease_ms` after its last round trip with a leader,
        /// and the process is dead at most `kill_grace_ms` later; a newly elected leader may
        /// take office up to an election timeout after the old one last heard the executor.
        public func minimumFencingMarginMilliseconds(electionTimeoutMaxMilliseconds: Int) -> Int {
            killGraceMilliseconds + electionTimeoutMaxMilliseconds
        }

        /// The margin in force: `lease_margin_ms` if set, else the minimum plus a quarter of the
        /// lease (at least 500 ms) for clock-rate drift and scheduling delays.
        public func fencingMarginMilliseconds(electionTimeoutMaxMilliseconds: Int) -> Int {
            leaseMarginMilliseconds
                ?? minimumFencingMarginMilliseconds(electionTimeoutMaxMilliseconds: electionTimeoutMaxMilliseconds)
                + max(500, leaseMilliseconds / 4)
        }
    }

    /// `[api]`: who may use the HTTP API.
    public struct API: Sendable, Equatable {
        /// `tokens_file`: the bearer tokens file (`quorum tokens`); unset, the API takes no
        /// tokens and every route is open (loopback development only; docs/security.md). A
        /// template like the TLS paths (`{id}` allowed).
        public var tokensFile: String?
        /// `metrics_public`: `/metrics` without a token (for a Prometheus that cannot send one).
        public var metricsPublic: Bool
        /// `cors_origins`: web origins (`https://ops.example.com`) whose pages may call the API
        /// from a browser; any other origin but the node's own is refused (403).
        public var corsOrigins: [String]
        /// `rate_limit_per_token`: requests per second each token may make on one node (bursts of
        /// as many); `nil`, no limit. Only with `tokens_file`.
        public var rateLimitPerToken: Int?
        /// `tls_cert` and `tls_key`: serve the API over TLS with this certificate and key
        /// (templates with `{id}`, re-read when they change); both or neither.
        public var tlsCert: String?
        public var tlsKey: String?
        /// `client_ca`: with TLS, also require clients to present a certificate from this CA (mTLS).
        public var clientCA: String?
        /// `insecure`: let a node whose API listens on a non-loopback address start without
        /// tokens or TLS (it logs a warning at every start). Off: such a node refuses to start.
        public var insecure: Bool = false
        /// `max_concurrent_reads`: list reads (`GET /api/jobs`, `/api/dags`, `/api/dlq`,
        /// `/api/notifications`) this node serves at once, on its low-priority reader thread;
        /// the others wait (docs/api.md, "Limits"). 1–1024; 1 by default: on the 2-core benchmark
        /// a second concurrent list doubled the writes' p99 under readers (docs/benchmarks.md).
        public var maxConcurrentReads: Int = Defaults.maxConcurrentReads
        /// `max_queued_reads`: list reads waiting for a place; one more is 429 `rate_limited`. 0–100000.
        public var maxQueuedReads: Int = Defaults.maxQueuedReads
        /// `max_read_cpu_percent`: the CPU list reads' walks, rendering and encoding may use on
        /// average, in percent of one core; over it the next list read waits (docs/api.md,
        /// "Reads and writes share a node"). 0 (no budget) or 1–100 (the reads run on one thread).
        public var maxReadCPUPercent: Int = Defaults.maxReadCPUPercent
        /// `[api.limits]`: request size and count limits (docs/api.md, "Limits").
        public var limits = APIRequestLimits()

        public init(tokensFile: String? = nil, metricsPublic: Bool = false, corsOrigins: [String] = [], rateLimitPerToken: Int? = nil,
                    tlsCert: String? = nil, tlsKey: String? = nil, clientCA: String? = nil) {
            self.tlsCert = tlsCert
            self.tlsKey = tlsKey
            self.clientCA = clientCA
            self.tokensFile = tokensFile
            self.metricsPublic = metricsPublic
            self.corsOrigins = corsOrigins
            self.rateLimitPerToken = rateLimitPerToken
        }
    }

    /// `[scheduler]`: the cluster's values for what a submit leaves out. The leader stamps them
    /// into the command it proposes, so every node should have the same values (a follower
    /// forwarding to a leader on an older build stamps its own).
    public struct Scheduler: Sendable, Equatable {
        /// `retention_seconds`: how long a finished job or DAG run is kept when its submit has no
        /// `retention_seconds` (``Limits/retentionSeconds``).
        public var retentionSeconds: Int
        /// `history_limit`: how many finished runs a job keeps when its submit has no
        /// `history_limit` (``Limits/historyLimit``).
        public var historyLimit: Int

        public init(retentionSeconds: Int = Defaults.retentionSeconds, historyLimit: Int = Defaults.historyLimit) {
            self.retentionSeconds = retentionSeconds
            self.historyLimit = historyLimit
        }
    }

    /// One `[[nodes]]` entry: a member of the cluster.
    public struct Node: Sendable, Equatable {
        /// The member id, also the identity in its TLS certificate. Never reused.
        public var id: String
        /// Where peers reach this node's Raft transport.
        public var raft: NodeAddress
        /// Where clients reach this node's HTTP API.
        public var api: NodeAddress
        /// `false` makes an executor-only learner: it replicates the log but does not vote.
        public var voter: Bool
        /// `labels = {zone = "a", gpu = "true"}`: what placement constraints match
        /// (``SchedulerCore/NodeLabelRules``). Only seed the member directory: once the log holds
        /// one, the log's labels win.
        public var labels: [String: String]

        public init(id: String, raft: NodeAddress, api: NodeAddress, voter: Bool = true, labels: [String: String] = [:]) {
            self.id = id
            self.raft = raft
            self.api = api
            self.voter = voter
            self.labels = labels
        }
    }

    public var cluster: Cluster
    public var raft: Raft
    public var tls: TLS
    public var executor: Executor
    public var api: API
    public var scheduler: Scheduler
    /// `[events]`: the event stream's window, client buffer and heartbeat.
    public var events: Events
    /// `[notify]`: notification defaults, delivery limits and SMTP (docs/notifications.md).
    public var notify: Notify
    /// `[quotas]`: admission limits on creating requests (QuotasConfig.swift).
    public var quotas = Quotas()
    public var nodes: [Node]

    public init(cluster: Cluster, raft: Raft = Raft(), tls: TLS = TLS(), executor: Executor = Executor(), api: API = API(),
                scheduler: Scheduler = Scheduler(), events: Events = Events(), notify: Notify = Notify(),
                nodes: [Node]) {
        self.cluster = cluster
        self.raft = raft
        self.tls = tls
        self.executor = executor
        self.api = api
        self.scheduler = scheduler
        self.events = events
        self.notify = notify
        self.nodes = nodes
    }

    /// The member with this id, if any.
    public func node(withID id: String) -> Node? {
        nodes.first { $0.id == id }
    }

    /// The voting members, in file order.
    public var voters: [Node] { nodes.filter(\.voter) }

    /// Fixed sizes the configurable ones must fit under.
    public enum Limits {
        /// `prefetch` is at most this many times `slots` (the leader's planner, which cannot see
        /// this module, holds the same number: `SchedulerPlanning.DutyPlanner.maxHeldPerSlot`).
        public static let prefetchPerSlot = 1
        /// The longest frame a node sends or accepts on the peer transport (48 MiB). The node
        /// passes this value to its transport, so the validator's check is the transport's.
        ///
        /// Far above the entries this build makes (`max_entry_bytes`, 4 MiB by default) on
        /// purpose: builds before the entry limit accepted batches up to 32 MiB (whose binary
        /// encoding can be a little larger than the JSON) as one entry, and with the old 16 MiB
        /// frame such an entry could never reach a follower — every later write waited behind
        /// it. At 48 MiB it replicates and commits like any other (docs/raft.md, "Entry size limit").
        public static let peerFrameBytes = 48 << 20
        /// Room reserved beside one entry in a peer frame: the frame header, the AppendEntries
        /// or forwarded-proposal fields and the entry's own header need far less than this.
        public static let entryEnvelopeBytes = 64 << 10
        /// The smallest allowed `max_entry_bytes`: one job of the largest single request (1 MiB
        /// body) and the leader's single commands must still fit in an entry.
        public static let minimumMaxEntryBytes = 1 << 20
        /// `retention_seconds`, in the config and on a submit: at least a minute (a job must stay
        /// readable after it finishes), at most ten years.
        public static let retentionSeconds: ClosedRange<Int> = 60...315_360_000
        /// `history_limit`, in the config and on a submit.
        public static let historyLimit: ClosedRange<Int> = 1...1_000
        /// `[executor] output_files`.
        public static let outputFiles: ClosedRange<Int> = 1...1_000_000
        /// `[executor] output_bytes`: at least one full tail (64 KiB), at most 64 GiB.
        public static let outputBytes: ClosedRange<Int> = (64 << 10)...(64 << 30)
        /// `[api] max_concurrent_reads`.
        public static let concurrentReads: ClosedRange<Int> = 1...1_024
        /// `[api] max_queued_reads`.
        public static let queuedReads: ClosedRange<Int> = 0...100_000
        /// `[api] max_read_cpu_percent` (0: no budget; 100: the reader thread may run flat out).
        public static let readCPUPercent: ClosedRange<Int> = 0...100
    }

    /// Default values of every optional key (documented in `docs/configuration.md`).
    public enum Defaults {
        public static let dataDir = "data/{id}"
        /// 1 list read at a time: on the 2-core benchmark two at once raised the writes' p99 under
        /// 4 looping readers 2.9–4.4×, one 1.8–2.4× (docs/benchmarks.md, "One list read at a time").
        public static let maxConcurrentReads = 1
        /// List reads use at most a quarter of one core on average (docs/benchmarks.md,
        /// "A CPU budget for list reads").
        public static let maxReadCPUPercent = 25
        /// 64 list reads waiting: a burst of dashboards and scripts, not an unbounded pile.
        public static let maxQueuedReads = 64
        /// The replica check every 10,000 applied entries (docs/guarantees.md, "Replica checks").
        public static let digestIntervalEntries = 10_000
        /// `cpu_scheduling`.
        public static let cpuScheduling = CPUScheduling.batch
        /// The smallest non-zero `digest_interval_entries`: below it the digests (each a full
        /// encoding of the state) would be taken more often than they can finish on a large state.
        public static let minimumDigestIntervalEntries = 16
        public static let heartbeatMilliseconds = 50
        public static let electionTimeoutMilliseconds = 300...600
        /// 4 MiB: a twelfth of the peer frame limit.
        public static let maxEntryBytes = 4 << 20
        public static let tlsCA = "certs/ca.pem"
        public static let tlsCert = "certs/{id}.pem"
        public static let tlsKey = "certs/{id}.key"
        public static let executorSlots = 4
        public static let executorLeaseMilliseconds = 5_000
        public static let shutdownGraceMilliseconds = 10_000
        public static let killGraceMilliseconds = 5_000
        public static let executorPrefetch = 0
        /// The last thousand attempts' full output tails…
        public static let outputFiles = 1_000
        /// …within 64 MiB.
        public static let outputBytes = 64 << 20
        /// 7 days.
        public static let retentionSeconds = 604_800
        /// 20 finished runs, as many attempts as a job's history kept before the limit existed.
        public static let historyLimit = 20
    }
}
