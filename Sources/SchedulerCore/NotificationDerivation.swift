/// Turns the ``SchedulerEvent``s of one applied entry into the notifications they trigger.
///
/// Pure: read against the state *after* the entry, every replica derives the same records with
/// the same keys (``NotificationKey/event`` is ``ChangeEvent/id(index:position:)`` of the
/// entry's index and the triggering event's position among the entry's triggering events).
public enum NotificationDerivation {
    /// Who an event is about, for finding its rules.
    public struct Subject: Hashable, Sendable {
        /// The job (a once or cron job, or the cron job that started a DAG run).
        public var jobID: JobID?
        /// The DAG run, for DAG events and DAG task runs.
        public var dagRunID: DAGRunID?
        /// A subject.
        public init(jobID: JobID? = nil, dagRunID: DAGRunID? = nil) {
            self.jobID = jobID
            self.dagRunID = dagRunID
        }
    }

    /// The notifications the events of the entry at `index` stamped `at` trigger: for each
    /// triggering event, every destination of `settings.defaults` and of the subject's own
    /// `rules` that asks for it, each destination once.
    public static func derive(from events: [SchedulerEvent], index: UInt64, at: Timestamp, state: SchedulerState,
                              settings: NotificationSettings,
                              rules: (Subject) -> [NotificationRule]) -> [NotificationRecord] {
        var records: [NotificationRecord] = []
        var position = 0
        for event in events {
            guard let (trigger, subject, runID, attempt) = trigger(for: event, in: events, state: state) else { continue }
            defer { position += 1 }
            guard let eventNumber = ChangeEvent.id(index: index, position: position) else { continue }
            var destinations: [NotificationDestination] = []
            for rule in [settings.defaults] + rules(subject) {
                for destination in rule.destinations(for: trigger) where !destinations.contains(destination) {
                    destinations.append(destination)
                }
            }
            let missedFires: MissedFires? = if case .firesFolded(_, let folded) = event { folded } else { nil }
            for (number, destination) in destinations.enumerated() {
                var record = NotificationRecord(
                    key: NotificationKey(event: eventNumber, destination: number), trigger: trigger, destination: destination,
                    at: at, jobID: subject.jobID, runID: runID, dagRunID: subject.dagRunID, attempt: attempt)
                record.missedFires = missedFires
                records.append(record)
            }
        }
        return records
    }

    /// The trigger `event` is, with its subject, or `nil` for an event no one is notified of.
    /// A failed attempt that made its run dead in the same entry is `dead` only (not `failed`
    /// too): `failed` means "will be retried".
    static func trigger(for event: SchedulerEvent, in events: [SchedulerEvent], state: SchedulerState)
        -> (NotificationTrigger, Subject, RunID?, Int?)? {
        switch event {
        case .runChanged(let id, .succeeded, let attempt):
            return (.succeeded, subject(ofRun: id, state: state), id, attempt)
        case .runChanged(let id, .dead, let attempt):
            return (.dead, subject(ofRun: id, state: state), id, attempt)
        case .attemptFinished(let id, let attempt, let outcome):
            let trigger: NotificationTrigger
            switch outcome {
            case .failed:
                let diedHere = events.contains { if case .runChanged(id, .dead, _) = $0 { true } else { false } }
                guard !diedHere else { return nil }
                trigger = .failed
            case .timedOut: trigger = .timedOut
            case .lost: trigger = .lost
            case .succeeded, .cancelled: return nil
            }
            return (trigger, subject(ofRun: id, state: state), id, attempt)
        case .dagChanged(let id, .succeeded):
            return (.dagSucceeded, Subject(jobID: state.dagRun(id)?.jobID, dagRunID: id), nil, nil)
        case .dagChanged(let id, .failed):
            return (.dagFailed, Subject(jobID: state.dagRun(id)?.jobID, dagRunID: id), nil, nil)
        case .fireSkipped(let job, _, let reason):
            return (reason == .missed ? .missed : .overlapSkipped, Subject(jobID: job), nil, nil)
        case .firesFolded(let job, _):
            return (.missed, Subject(jobID: job), nil, nil)
        case .runChanged, .dagChanged, .jobSubmitted, .dagSubmitted, .duplicateSubmit, .jobChanged, .startAttempt, .stopAttempt,
             .staleReport, .removed, .rejected:
            return nil
        }
    }

    private static func subject(ofRun id: RunID, state: SchedulerState) -> Subject {
        let run = state.run(id)
        let dagRunID = run?.dagTask?.dagRunID
        return Subject(jobID: run?.jobID ?? dagRunID.flatMap { state.dagRun($0)?.jobID }, dagRunID: dagRunID)
    }
}
