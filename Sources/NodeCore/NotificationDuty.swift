import SchedulerCore

/// One notification the leader is to deliver now, with what its payload tells, read from the
/// applied state when the round was planned (the shell does not read the state again).
public struct NotificationDelivery: Hashable, Sendable {
    /// The replicated record: key, trigger, destination, tries so far.
    public var record: NotificationRecord
    /// The job's name, when there is a job.
    public var jobName: String?
    /// The run's attempt budget (`retry.max_attempts`), for run events.
    public var maxAttempts: Int?
    /// How the run's last attempt ended (`succeeded`, `failed`, `timed_out`, …), for run events.
    public var outcome: String?
    /// The run's last error.
    public var error: String?
    /// The end of the attempt's output, when the job's history still holds that attempt.
    public var outputTail: String?
    /// For an event of a DAG run: the scheduled DAG's cron job id, else the DAG run's own id (a
    /// one-off run is its own DAG).
    public var dagID: String?
    /// For an event of a DAG run: the DAG's name.
    public var dagName: String?

    /// A delivery.
    public init(record: NotificationRecord, jobName: String? = nil, maxAttempts: Int? = nil, outcome: String? = nil,
                error: String? = nil, outputTail: String? = nil) {
        self.record = record
        self.jobName = jobName
        self.maxAttempts = maxAttempts
        self.outcome = outcome
        self.error = error
        self.outputTail = outputTail
    }
}

/// The leader's notification duty for one round, decided on the applied state (pure): stamp the
/// `[notify]` settings of its file when the replicated ones differ, and deliver the pending
/// notifications that are due and not already being tried.
///
/// Nothing of it survives a leader change, and nothing needs to: the table holds every
/// notification not yet settled with its `tries` and `next_attempt_at`, so a new leader's first
/// round offers exactly what the old one had not finished (docs/notifications.md, "Duplicates").
public struct NotificationDuty: Hashable, Sendable {
    /// The settings command to propose first, when the state's differ from the leader's.
    public var settings: Command?
    /// The notifications to deliver now, earliest due first.
    public var deliveries: [NotificationDelivery]

    /// Most notifications one round starts.
    public static let defaultLimit = 32

    /// The duty at `now` on `state` for a leader whose file says `desired`, when every member
    /// reported command format `format`; `inFlight` are being tried already (by this leader).
    ///
    /// Settings and outcome entries need ``SchedulerCore/CommandCodec/notifications``. Either
    /// every member reported it, or the state itself proves it: its notification part is changed
    /// only by format-10 entries (a settings entry, or records derived from one or from rules),
    /// which the gate admitted only once every member ran format 10, and a build that could not
    /// decode them could not have replayed this log or installed its snapshot either (there is
    /// no downgrade). The second way matters after a failover: a new leader forgets what members
    /// reported, and a member that is down reports nothing, yet its pending notifications must
    /// still go out. Otherwise nothing happens.
    public static func plan(state: SchedulerState, desired: NotificationSettings, format: UInt32, now: Timestamp,
                            inFlight: Set<NotificationKey>, limit: Int = defaultLimit) -> NotificationDuty {
        guard format >= CommandCodec.notifications || state.hasNotificationState else {
            return NotificationDuty(settings: nil, deliveries: [])
        }
        let settings: Command? = state.notificationSettings == desired ? nil : .notificationSettings(desired)
        var deliveries: [NotificationDelivery] = []
        // Asks for more than `limit` so that in-flight ones do not starve the rest.
        for record in state.notifications.due(at: now, limit: limit + inFlight.count) where !inFlight.contains(record.key) {
            guard deliveries.count < limit else { break }
            deliveries.append(delivery(of: record, in: state))
        }
        return NotificationDuty(settings: settings, deliveries: deliveries)
    }

    /// What the payload tells about `record`, from the state.
    static func delivery(of record: NotificationRecord, in state: SchedulerState) -> NotificationDelivery {
        var delivery = NotificationDelivery(record: record)
        let job = record.jobID.flatMap { state.job($0) }
        delivery.jobName = job?.spec.name
        if let dagRunID = record.dagRunID, let dag = state.dagRun(dagRunID) {
            delivery.dagID = dag.jobID?.rawValue ?? dag.id.rawValue
            delivery.dagName = dag.spec.name
        }
        guard let runID = record.runID else { return delivery }
        let run = state.run(runID)
        delivery.maxAttempts = job?.spec.retry.maxAttempts
        delivery.outcome = run?.lastOutcome.map { "\($0)" }
        delivery.error = run?.lastError
        if let jobID = record.jobID, let attempt = record.attempt {
            delivery.outputTail = state.attempts(ofJob: jobID).first { $0.runID == runID && $0.attempt == attempt }?.outputTail
        }
        return delivery
    }
}

extension DutyRound {
    /// This round's notification duty (``NotificationDuty/plan(state:desired:format:now:inFlight:limit:)``)
    /// with the leader's `[notify]` settings (``NodeCore/Settings/notificationSettings``).
    public func notifications(state: SchedulerState, stamp: Timestamp, inFlight: Set<NotificationKey>,
                              limit: Int = NotificationDuty.defaultLimit) -> NotificationDuty {
        NotificationDuty.plan(state: state, desired: settings.notificationSettings, format: format, now: stamp,
                              inFlight: inFlight, limit: limit)
    }
}
