import ClusterConfig
import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning

/// The runtime's timing knobs, derived from the cluster config, and the one clock they are
/// measured on.
public struct NodeSettings: Sendable {
    /// Where every part of the node reads time and sleeps (``NodeClock``): created once, with
    /// these settings, and passed to every loop and component.
    public var clock: NodeClock
    /// Raft's tick; heartbeat and election timeouts count in it.
    public var tick: Duration
    /// How long an API request waits for a leader (an election) before answering 503.
    public var leaderWait: Duration
    /// How often a waiting request looks again.
    public var leaderPoll: Duration
    /// How long a forwarded write waits for the leader's answer (then: outcome unknown).
    public var forwardTimeout: Duration
    /// An executor that has not heard from a leader for this long stops its attempts; a leader
    /// that has not heard from an executor for this long plus ``leaseMargin`` expires them.
    public var executorLease: Duration
    /// The extra time the leader waits beyond the lease, so the executor has fenced itself and
    /// its task is dead first: at least the kill grace plus an election timeout (see
    /// `ClusterConfig.Executor.fencingMarginMilliseconds`), plus drift allowance.
    public var leaseMargin: Duration
    /// SIGTERM → SIGKILL for a stopped shell task's process group.
    public var killGrace: Duration
    /// How often the leader's duties run when nothing wakes them earlier.
    public var dutyPeriod: Duration
    /// Most runs assigned in one log entry.
    public var maxAssignmentsPerEntry: Int
    /// Added to an attempt's timeout for the leader's deadline: the executor's own timeout, its
    /// kill grace period and the report should all fit before the leader expires it.
    public var deadlineSlackMilliseconds: Int64
    /// How far ahead of a majority of its peers' reported clocks the leader may stamp commands.
    public var clockTolerance: Duration
    /// How long running attempts may finish on SIGTERM before they are stopped.
    public var shutdownGrace: Duration
    /// The longest election timeout (`[raft] election_timeout_ms`'s upper bound): how long a
    /// removal must stand before a removed node exits, and the promotion rule's window.
    public var electionTimeout: Duration
    /// A snapshot is taken after this many applied entries…
    public var snapshotEntries: Int
    /// …or after applied entries holding this many bytes, whichever comes first.
    public var snapshotBytes: Int
    /// A snapshot due by `snapshotEntries` waits until the entries since the last one hold at
    /// least the last image's size over this (`Raft.Config.snapshotImageDivisor`). With 1, a
    /// state is encoded and written at most once per its own size in log, not every 10,000
    /// entries whatever it weighs, and a restart replays at most about one image's worth of log.
    public var snapshotImageDivisor: Int
    /// …but never more entries than this beyond the last snapshot (the log's entry count in
    /// memory; etcd's default `--snapshot-count`).
    public var snapshotMaxEntries: Int

    /// Settings for `config`, measured on `clock` (the system's clocks unless a test injects one).
    public init(config: ClusterConfig, clock: NodeClock = .system()) {
        self.clock = clock
        let heartbeat = max(1, config.raft.heartbeatMilliseconds)
        tick = .milliseconds(heartbeat)
        leaderWait = .milliseconds(max(2_000, 4 * config.raft.electionTimeoutMilliseconds.upperBound))
        leaderPoll = .milliseconds(max(5, heartbeat / 2))
        electionTimeout = .milliseconds(max(1, config.raft.electionTimeoutMilliseconds.upperBound))
        forwardTimeout = .seconds(5)
        executorLease = .milliseconds(config.executor.leaseMilliseconds)
        leaseMargin = .milliseconds(config.executor.fencingMarginMilliseconds(
            electionTimeoutMaxMilliseconds: config.raft.electionTimeoutMilliseconds.upperBound))
        killGrace = .milliseconds(config.executor.killGraceMilliseconds)
        dutyPeriod = .milliseconds(max(10, heartbeat))
        maxAssignmentsPerEntry = 1_024
        deadlineSlackMilliseconds = Int64(max(10_000, config.executor.killGraceMilliseconds + 5_000))
        shutdownGrace = .milliseconds(config.executor.shutdownGraceMilliseconds)
        clockTolerance = .seconds(1)
        snapshotEntries = 10_000
        snapshotBytes = 64 << 20
        snapshotImageDivisor = 1
        snapshotMaxEntries = 100_000
    }

    /// The settings of this node's decisions (``NodeCore/Settings``: the same type the scheduler
    /// simulator runs), from these knobs and `config`'s members and limits.
    func coreSettings(for config: ClusterConfig) -> NodeCore.Settings {
        var slots: [ExecutorID: Int] = [:]
        for node in config.nodes { slots[ExecutorID(node.id)] = config.executor.slots }
        var core = NodeCore.Settings(lease: executorLease, leaseMargin: leaseMargin,
                                     voters: Set(config.voters.map { Raft.NodeID($0.id) }), slots: slots)
        core.clockTolerance = clockTolerance
        core.maxAssignments = maxAssignmentsPerEntry
        core.deadlineSlackMs = deadlineSlackMilliseconds
        core.maxEntryBytes = config.raft.maxEntryBytes
        core.killGraceMs = Int64(config.executor.killGraceMilliseconds)
        core.prefetch = config.executor.prefetch
        core.digestInterval = UInt64(max(0, config.cluster.digestIntervalEntries))
        core.submissionDefaults = SubmissionDefaults(retentionMs: Int64(config.scheduler.retentionSeconds) * 1000,
                                                     historyLimit: config.scheduler.historyLimit)
        core.notificationSettings = Self.notificationSettings(config.notify)
        return core
    }

    /// `[notify] on/webhook/email/max_pending` as the settings a leader stamps into the state
    /// (the config check has already refused an unknown event name; one here would be skipped).
    static func notificationSettings(_ notify: ClusterConfig.Notify) -> NotificationSettings {
        NotificationSettings(defaults: NotificationRule(on: notify.on.compactMap { NotificationTrigger(name: $0) },
                                                        webhook: notify.webhook, email: notify.email),
                             maxPending: notify.maxPending)
    }
}
