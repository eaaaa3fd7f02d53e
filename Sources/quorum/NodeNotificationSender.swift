import ClusterConfig
import Foundation
import Logging
import NodeCore
import NodeRuntime
import Notify
import SchedulerCore

/// The node's ``NodeRuntime/NotificationSender``: one try of one notification with the Notify
/// module — a signed webhook under the http tasks' egress rules, or one email over SMTP — turned
/// into the outcome the leader records, with `next_attempt_at` from ``Notify/RetrySchedule``
/// seeded by the `event_id` (so every leader computes the same schedule).
enum NodeNotificationSender {
    /// Longest error text recorded in the log per outcome (the rest is cut).
    static let errorLimit = 512

    /// What a node sends with: the webhook sender under the egress rules and its secret, the
    /// SMTP client when `[notify.smtp]` is set, the cluster's name (for `Message-ID`s).
    struct Channels: Sendable {
        var webhooks: WebhookSender
        var secret: WebhookSecret?
        var smtp: SMTPClient?
        var cluster: String

        /// The channels of `config`. The webhook secret and the SMTP password are read here, at
        /// node start, so a missing file stops the node with an error naming the key instead of
        /// failing every delivery later.
        init(_ config: NodeRuntimeConfig) throws {
            let notify = config.cluster.notify.notifyConfiguration
            secret = switch notify.webhookSecret {
            case .value(let text): try WebhookSecret(text)
            case .file(let path): try WebhookSecret.load(file: path)
            case nil: nil
            }
            if let table = notify.smtp {
                let password = try table.passwordFile.map { path in
                    do {
                        return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .newlines)
                    } catch {
                        throw NotifyConfigurationError(field: "[notify.smtp] password_file", reason: "\(path) cannot be read: \(error)")
                    }
                }
                smtp = SMTPClient(settings: try notify.smtpSettings(password: password))
            }
            webhooks = WebhookSender(settings: WebhookSender.Settings(policy: config.cluster.executor.httpAddressPolicy))
            cluster = config.cluster.cluster.name
        }

        /// One try of `event` to `destination`.
        func send(_ event: NotificationEvent, to destination: NotificationDestination, now: Timestamp) async -> DeliveryOutcome {
            switch destination {
            case .webhook(let url):
                return await webhooks.send(event, to: url, secret: secret)
            case .email(let to):
                guard let smtp else { return .permanent(reason: "no [notify.smtp] table in the cluster file: add one to send email") }
                do {
                    let recipients = try to.map { address throws(NotifyConfigurationError) in try EmailAddress(address, field: "notify email") }
                    return await smtp.send(event, to: recipients, cluster: cluster, unixMilliseconds: now.milliseconds)
                } catch {
                    return .permanent(reason: "\(error)")
                }
            }
        }
    }

    /// The sender for `config` (see ``Channels/init(_:)`` for what is read at start).
    static func make(_ config: NodeRuntimeConfig, logger: Logger) throws -> NotificationSender {
        let channels = try Channels(config)
        let schedule = RetrySchedule(base: .milliseconds(config.cluster.notify.retryBaseMs))
        return { delivery, now in
            let record = delivery.record
            let event = self.event(for: delivery)
            let result = await channels.send(event, to: record.destination, now: now)
            let outcome = self.outcome(of: result, record: record, now: now, schedule: schedule)
            if case .delivered = outcome {
                logger.debug("notification delivered", metadata: ["key": "\(record.key)", "to": "\(record.destination.channel)"])
            } else {
                logger.info("notification not delivered", metadata: ["key": "\(record.key)", "outcome": "\(result)"])
            }
            return outcome
        }
    }

    /// What the leader records after try number `record.tries + 1` ended in `result`.
    static func outcome(of result: DeliveryOutcome, record: NotificationRecord, now: Timestamp,
                        schedule: RetrySchedule) -> NotificationOutcome {
        let tries = record.tries + 1
        switch result {
        case .delivered:
            return .delivered(record.key, tries: tries)
        case .permanent(let reason):
            return .failed(record.key, tries: tries, error: cut(reason))
        case .retryable(let reason, let retryAfter):
            guard let wait = schedule.delay(afterTries: tries, seed: RetrySchedule.seed(eventID: record.eventID), retryAfter: retryAfter)
            else {
                return .failed(record.key, tries: tries, error: cut("gave up after \(tries) tries: \(reason)"))
            }
            let waitMs = wait.components.seconds * 1_000 + wait.components.attoseconds / 1_000_000_000_000_000
            let (next, overflow) = now.milliseconds.addingReportingOverflow(waitMs)
            return .retry(record.key, tries: tries, nextAttemptAt: Timestamp(overflow ? Int64.max : next), error: cut(reason))
        }
    }

    /// `text` in at most ``errorLimit`` bytes, cut at a character boundary (a byte cut inside a
    /// character would decode to a replacement character and grow past the limit).
    static func cut(_ text: String) -> String {
        guard text.utf8.count > errorLimit else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: errorLimit)
        while end > text.utf8.startIndex, text.utf8[end] & 0xC0 == 0x80 { end = text.utf8.index(before: end) }
        return String(text.utf8[..<end]) ?? ""
    }

    /// The payload's event from the replicated record and what the round read from the state.
    static func event(for delivery: NotificationDelivery) -> NotificationEvent {
        let record = delivery.record
        return NotificationEvent(
            eventID: record.eventID, type: NotificationEventType(name: record.trigger.description) ?? .dead,
            atUnixMilliseconds: record.at.milliseconds, jobID: record.jobID?.rawValue, jobName: delivery.jobName,
            runID: record.runID?.rawValue, dagID: delivery.dagID, dagName: delivery.dagName, dagRunID: record.dagRunID?.rawValue,
            attempt: record.attempt, maxAttempts: delivery.maxAttempts, outcome: delivery.outcome, error: delivery.error,
            outputTail: delivery.outputTail, missedCount: record.missedFires?.count,
            missedFromUnixMilliseconds: record.missedFires?.first.milliseconds,
            missedUntilUnixMilliseconds: record.missedFires?.last.milliseconds)
    }
}
