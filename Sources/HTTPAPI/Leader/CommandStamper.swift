import SchedulerCore
import SchedulerPlanning

/// The leader's part between a validated request and the log: it stamps ids, first fire times
/// and idempotency data into commands. Batch submits spread the request's key over the jobs
/// (`key`, `key#1`, `key#2`, …) with the digest of the whole body, so a retry of the batch is
/// recognised job by job.
public struct CommandStamper: Sendable {
    /// The id source.
    public var ids: any IDGenerator

    /// A stamper.
    public init(ids: any IDGenerator = SequentialIDGenerator()) { self.ids = ids }

    /// A submit for a planned job.
    public mutating func submitJob(_ planned: SubmissionPlanner.PlannedJob, idempotency: IdempotencyKey?) -> SubmitJob {
        SubmitJob(jobID: JobID(ids.next(prefix: "j")), spec: planned.spec, runID: RunID(ids.next(prefix: "r")),
                  firstFireAt: planned.firstFireAt, idempotency: idempotency.map(stamp))
    }

    /// One batch command of submits, in order.
    public mutating func submitBatch(_ planned: [SubmissionPlanner.PlannedJob], idempotency: IdempotencyKey?) -> [SubmitJob] {
        planned.enumerated().map { index, job in
            let key = idempotency.map { IdempotencyKey(key: index == 0 ? $0.key : "\($0.key)#\(index)", bodyDigest: $0.bodyDigest) }
            return submitJob(job, idempotency: key)
        }
    }

    /// A DAG run submit with its own `notify` rules, kept `retentionMs` once finished (``SchedulerCore/JobSpec/clusterDefaultRetentionMs``
    /// until the leader stamps its default).
    public mutating func submitDAG(_ spec: DAGSpec, retentionMs: Int64 = JobSpec.clusterDefaultRetentionMs,
                                   notify: [NotificationRule] = [], idempotency: IdempotencyKey?) -> SubmitDAG {
        SubmitDAG(dagRunID: DAGRunID(ids.next(prefix: "d")), spec: spec, retentionMs: retentionMs,
                  idempotency: idempotency.map(stamp), notify: notify)
    }

    /// A trigger with a fresh run id.
    public mutating func trigger(_ jobID: JobID) -> TriggerJob {
        TriggerJob(jobID: jobID, runID: RunID(ids.next(prefix: "r")))
    }

    /// A fire of a due cron job at `now`.
    public mutating func fire(_ due: DueFire, now: Timestamp) -> FireCron {
        CronPlanner.fire(due, now: now, runID: RunID(ids.next(prefix: "r")))
    }

    func stamp(_ key: IdempotencyKey) -> IdempotencyStamp {
        IdempotencyStamp(key: key.key, bodyDigest: key.bodyDigest)
    }
}

/// FNV-1a over the request body: the digest an idempotency key is remembered with.
public enum BodyDigest {
    /// The 64-bit FNV-1a hash of `bytes`.
    public static func fnv1a64<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
