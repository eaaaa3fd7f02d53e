import SchedulerCore

/// One entry of a submission's `notify`: `{"on": ["dead"], "webhook": "https://…"}` or
/// `{"on": ["dead"], "email": ["ops@example.com"]}` (docs/notifications.md). Decoding checks the
/// shape only; ``NotifyRulePlanner`` checks the values and names the field in a 422.
public struct NotifyRuleBody: Codable, Hashable, Sendable {
    /// Event type names (`dead`, `dag_failed`, …).
    public var on: [String]?
    /// A webhook URL.
    public var webhook: String?
    /// Email recipients.
    public var email: [String]?

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case on, webhook, email
    }

    /// A rule body (every field optional, as in JSON).
    public init(on: [String]? = nil, webhook: String? = nil, email: [String]? = nil) {
        self.on = on
        self.webhook = webhook
        self.email = email
    }

    /// The body that shows a stored rule.
    public init(rule: NotificationRule) {
        self.init(on: rule.on.map(\.description), webhook: rule.webhook, email: rule.email.isEmpty ? nil : rule.email)
    }

    /// Decodes strictly: unknown fields are rejected.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        on = try c.decodeIfPresent([String].self, forKey: .on)
        webhook = try c.decodeIfPresent(String.self, forKey: .webhook)
        email = try c.decodeIfPresent([String].self, forKey: .email)
    }
}
