import SchedulerCore

/// The cluster's values for what a client may leave out of a submit (`[scheduler]` in the
/// config). The leader stamps them into the command it proposes
/// (``UnstampedCommand/resolved(at:defaults:)``), so every replica applies the same value and
/// apply never reads a config file.
public struct SubmissionDefaults: Hashable, Sendable {
    /// `[scheduler] retention_seconds`, in milliseconds: how long a finished job or DAG run is
    /// kept when its submit did not say.
    public var retentionMs: Int64
    /// `[scheduler] history_limit`: how many finished runs a job keeps when its submit did not say.
    public var historyLimit: Int

    /// Defaults.
    public init(retentionMs: Int64 = JobSpec.defaultRetentionMs, historyLimit: Int = JobSpec.defaultHistoryLimit) {
        self.retentionMs = retentionMs
        self.historyLimit = historyLimit
    }

    /// The built-in values (7 days, 20 runs), for a node without a `[scheduler]` table and for tests.
    public static let builtIn = SubmissionDefaults()
}

extension Command {
    /// This command with every "cluster default" placeholder (``JobSpec/clusterDefaultRetentionMs``,
    /// ``JobSpec/clusterDefaultHistoryLimit``) in its submits replaced by `defaults`; explicit
    /// values are kept. Batches included.
    public func withDefaults(_ defaults: SubmissionDefaults) -> Command {
        switch self {
        case .submitJob(var submit) where submit.spec.retentionMs == JobSpec.clusterDefaultRetentionMs
            || submit.spec.historyLimit == JobSpec.clusterDefaultHistoryLimit:
            submit.spec = submit.spec.replacingDefaults(defaults)
            return .submitJob(submit)
        case .submitDAG(var submit) where submit.retentionMs == JobSpec.clusterDefaultRetentionMs:
            submit.retentionMs = defaults.retentionMs
            return .submitDAG(submit)
        case .batch(let commands):
            return .batch(commands.map { $0.withDefaults(defaults) })
        default:
            return self
        }
    }
}

extension UnstampedCommand {
    /// This command with its "cluster default" placeholders replaced (``Command/withDefaults(_:)``):
    /// what a follower forwards to a leader too old to stamp them
    /// (before ``SchedulerCore/CommandCodec/leaderStampedDefaults``).
    public func withDefaults(_ defaults: SubmissionDefaults) -> UnstampedCommand {
        UnstampedCommand(template: template.withDefaults(defaults), times: times)
    }
}

extension JobSpec {
    /// This spec with its "cluster default" placeholders replaced by `defaults` (a spec is
    /// immutable and shared by reference).
    public func replacingDefaults(_ defaults: SubmissionDefaults) -> JobSpec {
        JobSpec(name: name, schedule: schedule, runAt: runAt, priority: priority, task: task, dag: dag, retry: retry,
                timeoutMs: timeoutMs, concurrency: concurrency, misfire: misfire, startingDeadlineMs: startingDeadlineMs,
                labels: labels,
                retentionMs: retentionMs == JobSpec.clusterDefaultRetentionMs ? defaults.retentionMs : retentionMs,
                historyLimit: historyLimit == JobSpec.clusterDefaultHistoryLimit ? defaults.historyLimit : historyLimit,
                placement: placement, notify: notify)
    }
}
