import SchedulerCore

/// Checks a submission's `notify` and turns it into ``SchedulerCore/NotificationRule``s, naming
/// the field of the first bad value (`jobs[2].notify[1].on[0]`). Pure. Only the shape of a
/// webhook URL is checked here; whether its host may be reached is the egress policy's call
/// when the notification is sent (a denied address makes the notification `failed`).
public enum NotifyRulePlanner {
    /// The rules `bodies` ask for; `nil` or `[]` is none.
    public static func rules(_ bodies: [NotifyRuleBody]?, fieldPrefix prefix: String = "") throws(APIError) -> [NotificationRule] {
        guard let bodies, !bodies.isEmpty else { return [] }
        guard bodies.count <= NotificationRule.maxRulesPerSpec else {
            throw .invalid(field: FieldPath.join(prefix, "notify"),
                           "has \(bodies.count) rules; at most \(NotificationRule.maxRulesPerSpec) (list several events in one rule's `on`)")
        }
        var rules: [NotificationRule] = []
        for (index, body) in bodies.enumerated() {
            rules.append(try rule(body, field: FieldPath.join(prefix, "notify[\(index)]")))
        }
        return rules
    }

    private static func rule(_ body: NotifyRuleBody, field: String) throws(APIError) -> NotificationRule {
        guard let names = body.on, !names.isEmpty else {
            throw .invalid(field: field + ".on", "required: list the events to send, e.g. [\"dead\"]; one of \(NotificationTrigger.allNames)")
        }
        var triggers: [NotificationTrigger] = []
        for (index, name) in names.enumerated() {
            guard let trigger = NotificationTrigger(name: name) else {
                throw .invalid(field: field + ".on[\(index)]",
                               "'\(FieldProblem.shortened(name))' is not an event type; use one of \(NotificationTrigger.allNames)")
            }
            triggers.append(trigger)
        }
        if let webhook = body.webhook {
            let lower = webhook.lowercased()
            let scheme = ["https://", "http://"].first { lower.hasPrefix($0) }
            guard let scheme, webhook.utf8.count > scheme.utf8.count else {
                throw .invalid(field: field + ".webhook", "'\(FieldProblem.shortened(webhook))' is not an http:// or https:// URL")
            }
            guard webhook.utf8.count <= NotificationRule.maxURLBytes else {
                throw .invalid(field: field + ".webhook", "is \(webhook.utf8.count) bytes; at most \(NotificationRule.maxURLBytes)")
            }
            guard !webhook.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
                throw .invalid(field: field + ".webhook", "contains a space or control character; percent-encode it")
            }
        }
        let email = body.email ?? []
        guard email.count <= NotificationRule.maxRecipientsPerRule else {
            throw .invalid(field: field + ".email", "has \(email.count) recipients; at most \(NotificationRule.maxRecipientsPerRule)")
        }
        for (index, address) in email.enumerated() where !isPlainMailbox(address) {
            throw .invalid(field: field + ".email[\(index)]",
                           "'\(FieldProblem.shortened(address))' is not a plain address name@domain (no display name, ASCII only)")
        }
        guard body.webhook != nil || !email.isEmpty else {
            throw .invalid(field: field, "names no destination: give a webhook URL, email recipients, or both")
        }
        return NotificationRule(on: triggers, webhook: body.webhook, email: email)
    }

    /// `name@domain`: one `@`, both sides non-empty, printable ASCII without spaces or angle
    /// brackets, at most 254 bytes (RFC 5321's path limit).
    static func isPlainMailbox(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && text.utf8.count <= 254
            && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" }
    }
}
