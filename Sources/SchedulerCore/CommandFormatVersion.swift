/// Command format versions: which builds can apply which commands.
///
/// A build reports ``CommandCodec/buildFormatVersion`` in every lease probe; the leader proposes
/// a command only when every member reported at least the command's
/// ``Command/minimumFormatVersion`` (`NodeCore.FormatGate`). A new command kind gets the next
/// version as its minimum, so a cluster in the middle of a rolling upgrade never commits an entry
/// that an older member cannot decode (which would stop that member: see `docs/node.md`).
///
/// The entry header byte (``CommandCodec/version``) is a different thing: it names the binary
/// layout and is still 1.
extension CommandCodec {
    /// The format version every build knows: what a member that never said otherwise (an older
    /// build's legacy pings, or a member not heard from yet) is assumed to run.
    public static let baselineFormatVersion: UInt32 = 1

    /// This build's format version.
    /// - 2 adds no command kind: it marks builds that decode version-2 lease echoes and take
    ///   unstamped forwards, which a leader offers only to executors that report at least 2.
    /// - 3: the commands that create DAG runs with URL-safe task run ids
    ///   (``TaskRunIDStyle/dot``, entry tags 16–18; ``urlSafeTaskRunIDs``).
    /// - 4: job and DAG submits whose retry policies carry `max_lost_attempts` (entry tag 19;
    ///   ``lostAttemptCaps``), under which a lost attempt does not spend `max_attempts`.
    /// - 5: job submits whose specs carry `history_limit` (entry tag 20; ``historyLimits``), and
    ///   leaders that stamp the cluster's defaults (`[scheduler] retention_seconds`,
    ///   `history_limit`) into forwarded submits that left them out (``leaderStampedDefaults``;
    ///   a follower forwarding to an older leader stamps its own).
    /// - 6: ``Command/editJob(_:)`` (entry tag 21) and idempotent trigger/requeue
    ///   (``Command/idempotent(_:_:)``, entry tag 22); ``jobEdits``.
    /// - 7 adds no command kind: it marks builds that read member directories (Raft
    ///   configuration format 4: every member's addresses and labels in the log) and serve the
    ///   membership-change API; a leader writes a directory only when every member reports at
    ///   least 7 (``memberDirectories``), since an older build would ignore the entry.
    /// - 9: submits and edits whose specs carry a ``Placement`` (entry tag 23; ``placement``),
    ///   and member directories that mark draining members (directory format 2).
    /// - 10: notifications (``notifications``): job submits and edits whose specs carry `notify`
    ///   rules (entry tags 24 and 25; ``notifyRules``), the leader's notification settings and
    ///   delivery outcomes (entry tags 26 and 27).
    /// - 11: one-off DAG submits whose runs carry `notify` rules (entry tag 28;
    ///   ``dagNotifyRules``), and the leader's records of members' formats (entry tag 29;
    ///   ``memberFormatRecords``).
    /// - 12: assignments that name the executor's data directory incarnation (entry tag 28;
    ///   ``assignmentIncarnations``): a wiped node never starts what its predecessor was given.
    /// - 13: cron fires that carry the due times a late leader folded into them (entry tag 31;
    ///   ``missedFireNotices``), from which apply derives one `missed` notification.
    /// - 14 adds no command kind: it marks builds whose executors hold assignments beyond their
    ///   slots until a slot frees (``heldAssignments``); a leader prefetches onto an executor
    ///   only once it reports at least 14, since an older one would run them all at once.
    /// - 15 adds no command kind: it marks builds whose executors send their **process
    ///   incarnation** in lease probes and start an assignment naming it (``assignmentProcesses``).
    ///   Once every member heard from reports at least 15 the leader names the executor's process
    ///   in an assignment's incarnation field (entry tag 30) instead of its data directory, so a
    ///   restarted process never starts what was given to the one before it.
    /// - 16 adds no command kind: it marks builds that decode version-3 lease echoes, which carry
    ///   the leader's stamp (``leaderStampedEchoes``). An executor whose lease comes back on such
    ///   an echo judges what was assigned before the lapse against the leader's stamp, not its
    ///   own wall clock.
    /// (8 is skipped: notifications were developed as 8 beside placement's 9 and became 10 when
    /// both landed; no build ever reported 8.)
    /// See `docs/node.md`, "Upgrades and the format gate".
    public static let buildFormatVersion: UInt32 = leaderStampedEchoes

    /// The first format version whose builds decode placements (``JobSpec/placement``,
    /// ``DAGTaskSpec/placement``: entry tag 23) and read draining marks in the member directory.
    /// No downgrade exists: during an upgrade the gate refuses such a write (503), and the leader
    /// refuses a drain (409) until every member reports at least this.
    public static let placement: UInt32 = 9

    /// The first format version whose builds read member directories (Raft configuration
    /// format 4). Below it a member would skip the configuration entry that carries one and keep
    /// its older member list, so the leader neither records the seed directory nor adds a member
    /// with addresses until every member reports at least this.
    public static let memberDirectories: UInt32 = 7

    /// The first format version whose builds decode ``TaskRunIDStyle/dot`` commands.
    public static let urlSafeTaskRunIDs: UInt32 = 3

    /// The first format version whose builds decode and apply lost caps
    /// (``RetryPolicy/maxLostAttempts``).
    public static let lostAttemptCaps: UInt32 = 4

    /// The first format version whose leaders replace ``JobSpec/clusterDefaultRetentionMs`` in a
    /// forwarded command with their cluster default.
    public static let leaderStampedDefaults: UInt32 = 5

    /// The first format version whose builds decode and apply history limits
    /// (``JobSpec/historyLimit``).
    public static let historyLimits: UInt32 = 5

    /// The first format version whose builds decode and apply job edits and idempotent
    /// trigger/requeue. No downgrade exists for them: during an upgrade the gate refuses them
    /// (503 "upgrade in progress").
    public static let jobEdits: UInt32 = 6

    /// The first format version whose builds decode job specs with `notify` rules
    /// (``JobSpec/notify``). No downgrade exists: dropping a team's rules would silently stop
    /// its notifications, so during an upgrade the gate refuses such writes (503).
    public static let notifyRules: UInt32 = notifications

    /// The first format version whose builds decode assignments naming the executor's data
    /// directory incarnation (``AssignAttempt/executorIncarnation``, entry tag 30). Below it the
    /// leader writes them without (tag 4: the executor falls back to the clock cut-off for a node
    /// that started without a log). The one place its number is written.
    public static let assignmentIncarnations: UInt32 = 12

    /// The first format version whose builds decode cron fires carrying their folded due times
    /// (``FireCron/missedRange``, entry tag 31) and derive a `missed` notification from them.
    /// Below it the leader writes the fire without the range (tags 3 and 17) and the folded
    /// fires notify nothing, so replicas of different builds never derive different tables.
    /// The one place its number is written.
    public static let missedFireNotices: UInt32 = 13

    /// The first format version whose executors hold assignments beyond their slots (`[executor]
    /// prefetch`) and start each when a slot frees; an older build starts every assignment at
    /// once, so a leader gives one nothing beyond its slots.
    public static let heldAssignments: UInt32 = 14

    /// The first format version whose executors report a process incarnation in their lease
    /// probes (``NodeCore``'s `LeaseProbe.processIncarnation`, probe version 3) and start an
    /// assignment whose incarnation field (``AssignAttempt/executorIncarnation``, entry tag 30,
    /// unchanged) names that process. An older executor compares the field with its data
    /// directory's incarnation and would start nothing, so a leader names processes only once
    /// every member heard from reports at least this. The one place its number is written.
    public static let assignmentProcesses: UInt32 = 15

    /// The first format version whose builds decode version-3 lease echoes (``NodeCore``'s
    /// `LeaseEcho.leaderStamp`): a leader sends one only to an executor whose probe reports at
    /// least this, since an older build drops an echo it cannot decode (and fences). The one
    /// place its number is written.
    public static let leaderStampedEchoes: UInt32 = 16

    /// The command format of notifications (issue #17): rules in specs, settings and delivery
    /// outcomes. The one place its number is written; ``notifyRules`` follows it.
    public static let notifications: UInt32 = 10

    /// The first format version whose builds decode one-off DAG submits with `notify` rules
    /// (``SubmitDAG/notify``, entry tag 28) and derive their runs' notifications from them. No
    /// downgrade exists (dropping the rules would silently send nothing): during an upgrade the
    /// gate refuses such a submit (503). The one place its number is written.
    public static let dagNotifyRules: UInt32 = 11

    /// The first format version whose builds decode the leader's records of members' formats
    /// (``Command/recordMemberFormats(_:)``, entry tag 29): the leader writes one only once every
    /// member reported at least this. Same number as ``dagNotifyRules`` (one change).
    public static let memberFormatRecords: UInt32 = dagNotifyRules
}

extension Command {
    /// The lowest build format version that can apply this command; a batch needs the highest of
    /// its commands'. A DAG run created with ``TaskRunIDStyle/dot`` ids needs
    /// ``CommandCodec/urlSafeTaskRunIDs``; a submit carrying a lost cap
    /// ``CommandCodec/lostAttemptCaps``; everything else ``CommandCodec/baselineFormatVersion``.
    public var minimumFormatVersion: UInt32 {
        if carriesDAGNotifyRules { return CommandCodec.dagNotifyRules }
        if carriesNotifyRules { return CommandCodec.notifyRules }
        if carriesMissedRange { return CommandCodec.missedFireNotices }
        if namesExecutorIncarnation { return CommandCodec.assignmentIncarnations }
        if carriesPlacement { return CommandCodec.placement }
        if carriesHistoryLimit { return CommandCodec.historyLimits }
        if carriesLostAttemptCaps { return CommandCodec.lostAttemptCaps }
        return switch self {
        case .batch(let commands):
            commands.reduce(CommandCodec.baselineFormatVersion) { max($0, $1.minimumFormatVersion) }
        case .submitDAG(let submit): Self.version(for: submit.taskRunIDStyle)
        case .fireCron(let fire): Self.version(for: fire.taskRunIDStyle)
        case .trigger(let trigger): Self.version(for: trigger.taskRunIDStyle)
        case .editJob, .idempotent: CommandCodec.jobEdits
        case .notificationSettings, .notificationOutcomes: CommandCodec.notifications
        case .recordMemberFormats: CommandCodec.memberFormatRecords
        case .submitJob, .assignAttempt, .finishAttempt, .expireAttempt, .cancelJob, .cancelDAG,
             .pause, .resume, .requeue, .purge, .tick:
            CommandCodec.baselineFormatVersion
        }
    }

    private static func version(for style: TaskRunIDStyle) -> UInt32 {
        style == .dot ? CommandCodec.urlSafeTaskRunIDs : CommandCodec.baselineFormatVersion
    }

    /// This command as members of format `version` can apply it: below
    /// ``CommandCodec/urlSafeTaskRunIDs`` a new DAG run spells its task run ids the old way
    /// (``TaskRunIDStyle/slash``; the API still finds them, percent-encoded); below
    /// ``CommandCodec/lostAttemptCaps`` submits lose their lost caps (the job keeps the old rule,
    /// a lost attempt is a try, for its whole life); below ``CommandCodec/historyLimits`` job
    /// submits lose their history limit (the job keeps the old history rule). The leader applies this to everything it
    /// proposes during a rolling upgrade instead of refusing the write.
    ///
    /// Below ``CommandCodec/jobEdits`` a trigger or requeue loses its idempotency key (it runs
    /// unprotected, as before format 6, rather than fail during an upgrade); a job edit has no
    /// older spelling and stays as it is, for the gate to refuse.
    public func compatible(withFormat version: UInt32) -> Command {
        if version < CommandCodec.missedFireNotices, carriesMissedRange {
            return withoutMissedRanges().compatible(withFormat: version)
        }
        if version < CommandCodec.assignmentIncarnations, namesExecutorIncarnation {
            return withoutExecutorIncarnations().compatible(withFormat: version)
        }
        // Rules have no older spelling: left as they are, for the gate to refuse.
        if version < CommandCodec.notifyRules, containsNotifyRules { return self }
        if version < CommandCodec.jobEdits {
            switch self {
            case .idempotent(_, let inner): return inner.compatible(withFormat: version)
            case .batch(let commands) where commands.contains(where: { if case .idempotent = $0 { true } else { false } }):
                return .batch(commands.map { $0.compatible(withFormat: version) })
            default: break
            }
        }
        guard version < CommandCodec.historyLimits else { return self }
        let unlimited = withoutHistoryLimits()
        guard version < CommandCodec.lostAttemptCaps else { return unlimited }
        let uncapped = unlimited.withoutLostAttemptCaps()
        guard version < CommandCodec.urlSafeTaskRunIDs else { return uncapped }
        switch uncapped {
        case .batch(let commands): return .batch(commands.map { $0.compatible(withFormat: version) })
        case .submitDAG(var submit):
            submit.taskRunIDStyle = .slash
            return .submitDAG(submit)
        case .fireCron(var fire):
            fire.taskRunIDStyle = .slash
            return .fireCron(fire)
        case .trigger(var trigger):
            trigger.taskRunIDStyle = .slash
            return .trigger(trigger)
        default: return uncapped
        }
    }
}

extension Command {
    /// `true` for an assignment (or a batch holding one) that names its executor's incarnation.
    var namesExecutorIncarnation: Bool {
        switch self {
        case .assignAttempt(let a): a.executorIncarnation != 0
        case .batch(let commands): commands.contains { $0.namesExecutorIncarnation }
        default: false
        }
    }

    /// `true` for a cron fire (or a batch holding one) that carries its folded due times.
    var carriesMissedRange: Bool {
        switch self {
        case .fireCron(let f): f.missedRange != nil && f.missedBefore > 0
        case .batch(let commands): commands.contains { $0.carriesMissedRange }
        default: false
        }
    }

    /// This command with every fire's folded range left out (tags 3 and 17, the older spelling:
    /// the folded fires are still counted in `missed_fires`, and notify nothing).
    func withoutMissedRanges() -> Command {
        switch self {
        case .fireCron(var f):
            f.missedRange = nil
            return .fireCron(f)
        case .batch(let commands): return .batch(commands.map { $0.withoutMissedRanges() })
        default: return self
        }
    }

    /// This command with every assignment's incarnation left out (tag 4, the older spelling).
    func withoutExecutorIncarnations() -> Command {
        switch self {
        case .assignAttempt(var a):
            a.executorIncarnation = 0
            return .assignAttempt(a)
        case .batch(let commands): return .batch(commands.map { $0.withoutExecutorIncarnations() })
        default: return self
        }
    }
}
