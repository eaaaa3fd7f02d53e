/// Sends one test notification to a configured `[notify]` channel (`POST /api/notifications/test`).
/// The node implements it with the Notify module; the API only routes to it.
public protocol NotificationTester: Sendable {
    /// Sends a test to `channel` (`webhook` or `email`: the cluster default in `[notify]`) and
    /// says how the one try ended. Throws 409 when that channel is not configured.
    func sendTest(channel: String) async throws(APIError) -> NotificationTestResult
}

/// `POST /api/notifications/test`'s body: which configured channel to try.
public struct NotificationTestRequest: Codable, Hashable, Sendable {
    /// `webhook` or `email`.
    public var channel: String
    /// A request.
    public init(channel: String) { self.channel = channel }
}

/// How the one try of a test notification ended; nothing is recorded in the log.
public struct NotificationTestResult: Codable, Hashable, Sendable {
    /// `webhook` or `email`.
    public var channel: String
    /// The webhook URL or the recipients, comma-separated.
    public var to: String
    /// The test's `event_id` (`test-…`: receivers can tell a test from a real event by it).
    public var eventId: String
    /// Whether the receiver took it.
    public var delivered: Bool
    /// `delivered`, or why not (`retryable: …`, `permanent failure: …`).
    public var outcome: String

    /// A result.
    public init(channel: String, to: String, eventId: String, delivered: Bool, outcome: String) {
        self.channel = channel
        self.to = to
        self.eventId = eventId
        self.delivered = delivered
        self.outcome = outcome
    }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case channel, to
        case eventId = "event_id"
        case delivered, outcome
    }
}
