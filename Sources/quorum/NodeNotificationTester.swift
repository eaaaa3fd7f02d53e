import ClusterConfig
import Foundation
import HTTPAPI
import Notify
import SchedulerCore

/// `POST /api/notifications/test` on a node: one try to the cluster's default webhook or email
/// (`[notify] webhook` / `email`), sent by the node that received the request, recorded nowhere.
/// The event is a `succeeded` event whose `event_id` starts with `test-` and whose job name says
/// it is a test, so a receiver's own checks (signature, parsing) are what is exercised.
struct NodeNotificationTester: NotificationTester {
    let channels: NodeNotificationSender.Channels
    let webhook: String?
    let email: [String]

    init(_ config: NodeRuntimeConfig) throws {
        channels = try NodeNotificationSender.Channels(config)
        webhook = config.cluster.notify.webhook
        email = config.cluster.notify.email
    }

    func sendTest(channel: String) async throws(APIError) -> NotificationTestResult {
        let destination: NotificationDestination
        switch channel {
        case "webhook":
            guard let webhook else { throw APIError.conflict("no [notify] webhook is configured; set one in the cluster file", field: "channel") }
            destination = .webhook(webhook)
        default:
            guard !email.isEmpty else { throw APIError.conflict("no [notify] email is configured; set recipients in the cluster file", field: "channel") }
            destination = .email(email)
        }
        let nowMs = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let eventID = "test-\(nowMs)"
        let event = NotificationEvent(eventID: eventID, type: .succeeded, atUnixMilliseconds: nowMs,
                                      jobName: "quorum test notification", outcome: "test")
        let outcome = await channels.send(event, to: destination, now: Timestamp(nowMs))
        let to = switch destination {
        case .webhook(let url): url
        case .email(let recipients): recipients.joined(separator: ",")
        }
        return NotificationTestResult(channel: channel, to: to, eventId: eventID, delivered: outcome.isDelivered, outcome: "\(outcome)")
    }
}
