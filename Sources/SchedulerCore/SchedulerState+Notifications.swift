// Notifications in the replicated state (issue #17, docs/notifications.md): each applied entry's
// triggering events become pending records keyed by the entry's log index, the leader's
// settings and outcome entries change the table, and every replica holds the same table.

extension SchedulerState {
    /// Applies the entry at log `index` — ``apply(_:at:into:)`` — and records the notifications
    /// its events trigger (``NotificationDerivation``), keyed by `index` and each triggering
    /// event's position, so every replica derives the same `event_id`s.
    ///
    /// Every replica must apply every entry through this method with the entry's log index (the
    /// node, the simulator's nodes and its oracle do); a caller without log indexes (the API's
    /// in-memory twin) passes its own increasing count.
    public mutating func apply(_ command: Command, at: Timestamp, index: UInt64, into events: inout [SchedulerEvent]) {
        let first = events.count
        apply(command, at: at, into: &events)
        recordNotifications(from: first == 0 ? events : Array(events[first...]), index: index)
    }

    /// Records what `events` (one entry's) trigger, under the stamped settings' cap; nothing to
    /// look up when no event triggers anything (the common case costs one pass over the events).
    mutating func recordNotifications(from events: [SchedulerEvent], index: UInt64) {
        guard events.contains(where: { NotificationDerivation.mayTrigger($0) }) else { return }
        let records = NotificationDerivation.derive(from: events, index: index, at: now, state: self,
                                                    settings: notificationSettings) { subject in
            // A scheduled DAG's runs have their cron job's rules; a one-off DAG run its own.
            (subject.jobID.flatMap { self.job($0)?.spec.notify } ?? []) + (subject.dagRunID.flatMap { self.dagRun($0)?.notify } ?? [])
        }
        guard !records.isEmpty else { return }
        notifications.record(records, maxPending: notificationSettings.maxPending)
    }

    /// The leader's stamped `[notify]` settings replace the replicated ones; a cap below 1 is
    /// refused (the leader's config check forbids it, so this is a damaged or hostile entry).
    mutating func applyNotificationSettings(_ settings: NotificationSettings, _ events: inout [SchedulerEvent]) {
        guard settings.maxPending >= 1 else {
            reject(.invalid, "notification max_pending \(settings.maxPending) is below 1", &events)
            return
        }
        notificationSettings = settings
    }

    /// Each outcome moves its pending notification; one for a notification no longer pending
    /// (settled by an earlier leader, or never recorded) changes nothing.
    mutating func applyNotificationOutcomes(_ outcomes: [NotificationOutcome]) {
        for outcome in outcomes { notifications.apply(outcome) }
    }

    /// Whether the notification part of the state differs from a fresh state's: such a state
    /// needs snapshot version 8 even when no job has rules, and its log holds a format-10 entry
    /// (only those change it), so every member decodes them.
    public var hasNotificationState: Bool {
        notificationSettings != NotificationSettings() || !notifications.isEmpty
    }
}

extension NotificationDerivation {
    /// Whether `event` is of a kind that can trigger a notification (a cheap filter before
    /// ``derive(from:index:at:state:settings:rules:)``).
    static func mayTrigger(_ event: SchedulerEvent) -> Bool {
        switch event {
        case .runChanged(_, .succeeded, _), .runChanged(_, .dead, _), .attemptFinished, .dagChanged(_, .succeeded),
             .dagChanged(_, .failed), .fireSkipped, .firesFolded:
            true
        default:
            false
        }
    }
}
