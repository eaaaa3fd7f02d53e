import Logging
import NodeCore
import SchedulerCore

/// Sends one notification once and says what the leader is to record: `delivered`, `failed`
/// after N tries, or `retry` at a time (the `quorum` executable implements it with the Notify
/// module's webhook sender, SMTP client and retry schedule; NodeRuntime stays free of them).
/// The `Timestamp` is the leader's stamp clock now, from which `next_attempt_at` is measured.
public typealias NotificationSender = @Sendable (NotificationDelivery, Timestamp) async -> NotificationOutcome

/// The leader's delivery shell: tries the notifications a duty round hands it, each at most once
/// at a time, and proposes what happened as one ``SchedulerCore/Command/notificationOutcomes(_:)``
/// entry per flush — outcomes, not each try; the outcomes that arrive while one entry is being
/// proposed go into the next.
///
/// A key stays in flight until its outcome's entry was applied (the table then no longer offers
/// it as due) or could not be proposed (this node lost office: the next leader offers it again,
/// which is the at-least-once duplicate window of docs/notifications.md).
actor NotificationCourier {
    private let send: NotificationSender
    private let propose: @Sendable ([NotificationOutcome]) async -> Bool
    private let clock: @Sendable () -> Timestamp
    private let onOutcome: @Sendable (NotificationOutcome, NotificationDestination) -> Void
    private let logger: Logger
    private var inFlight: Set<NotificationKey> = []
    private var ready: [NotificationOutcome] = []
    private var proposing = false

    /// A courier sending with `send` and recording through `propose` (true once applied).
    init(send: @escaping NotificationSender, propose: @escaping @Sendable ([NotificationOutcome]) async -> Bool,
         clock: @escaping @Sendable () -> Timestamp, logger: Logger,
         onOutcome: @escaping @Sendable (NotificationOutcome, NotificationDestination) -> Void = { _, _ in }) {
        self.send = send
        self.propose = propose
        self.clock = clock
        self.logger = logger
        self.onOutcome = onOutcome
    }

    /// The notifications being tried now (a duty round leaves them out).
    func keysInFlight() -> Set<NotificationKey> { inFlight }

    /// Starts a try of each delivery not already in flight; returns at once.
    func start(_ deliveries: [NotificationDelivery]) {
        for delivery in deliveries where inFlight.insert(delivery.record.key).inserted {
            let send = self.send
            let now = clock()
            Task {
                let outcome = await send(delivery, now)
                await self.finished(outcome, destination: delivery.record.destination)
            }
        }
    }

    private func finished(_ outcome: NotificationOutcome, destination: NotificationDestination) async {
        onOutcome(outcome, destination)
        ready.append(outcome)
        guard !proposing else { return }  // the loop below takes it into its next entry
        proposing = true
        while !ready.isEmpty {
            let batch = ready
            ready = []
            if !(await propose(batch)) {
                logger.info("notification outcomes not recorded (no longer leading?); the leader will try them again",
                            metadata: ["count": "\(batch.count)"])
            }
            for outcome in batch { inFlight.remove(outcome.key) }
        }
        proposing = false
    }
}
