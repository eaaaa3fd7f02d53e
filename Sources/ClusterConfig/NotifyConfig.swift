extension ClusterConfig {
    /// `[notify]` and `[notify.smtp]` (docs/notifications.md, "Configuration"), as plain values.
    ///
    /// ClusterConfig stays free of the Notify module (it would pull SwiftNIO into every tool that
    /// reads the file, see docs/architecture.md), so this mirrors `Notify.NotifyConfiguration`
    /// field for field; the `quorum` executable maps it across and runs Notify's own checks too
    /// (`NotifyConfiguration.validate()`), which know about addresses and the secret's length.
    /// `on`, `webhook` and `email` are the cluster-wide defaults the leader stamps into commands;
    /// apply never reads this value.
    public struct Notify: Sendable, Equatable {
        /// Where the webhook secret comes from.
        public enum Secret: Sendable, Equatable {
            /// `webhook_secret = "…"`.
            case value(String)
            /// `webhook_secret_file = "/path"` (read by the node that delivers).
            case file(String)
        }

        /// `[notify.smtp]`.
        public struct SMTP: Sendable, Equatable {
            /// `host` (required).
            public var host: String
            /// `port` (default 587).
            public var port: Int
            /// `from` (required).
            public var from: String
            /// `starttls` (default true).
            public var startTLS: Bool
            /// `username`: AUTH only when set.
            public var username: String?
            /// `password_file`: required with `username`.
            public var passwordFile: String?
            /// `allowed_domains` (default: any).
            public var allowedDomains: [String]

            /// A `[notify.smtp]` table.
            public init(host: String, port: Int = 587, from: String, startTLS: Bool = true, username: String? = nil,
                        passwordFile: String? = nil, allowedDomains: [String] = []) {
                self.host = host
                self.port = port
                self.from = from
                self.startTLS = startTLS
                self.username = username
                self.passwordFile = passwordFile
                self.allowedDomains = allowedDomains
            }
        }

        /// `on`: event type names every job and DAG notifies about by default (default: none).
        public var on: [String]
        /// `webhook`: the default webhook URL.
        public var webhook: String?
        /// `webhook_secret` or `webhook_secret_file`.
        public var webhookSecret: Secret?
        /// `email`: the default recipients.
        public var email: [String]
        /// `max_pending`: most notifications waiting for delivery (``Limits/notifyMaxPending``).
        public var maxPending: Int
        /// `retry_base_ms`: the first retry's backoff bound, doubling per try up to 10 minutes
        /// (``Limits/notifyRetryBaseMs``; docs/notifications.md, "Delivery outcomes and retries").
        public var retryBaseMs = Defaults.notifyRetryBaseMs
        /// `[notify.smtp]`.
        public var smtp: SMTP?

        /// Everything off: no event notifies unless a job asks.
        public init(on: [String] = [], webhook: String? = nil, webhookSecret: Secret? = nil, email: [String] = [],
                    maxPending: Int = Defaults.notifyMaxPending, smtp: SMTP? = nil) {
            self.on = on
            self.webhook = webhook
            self.webhookSecret = webhookSecret
            self.email = email
            self.maxPending = maxPending
            self.smtp = smtp
        }

        /// The event type names `on` accepts (the same as `Notify.NotificationEventType`; a test
        /// in the quorum tests keeps the two lists equal).
        public static let eventNames = ["succeeded", "failed", "dead", "timed_out", "lost", "dag_succeeded", "dag_failed",
                                        "missed", "overlap_skipped"]
    }
}

extension ClusterConfig.Limits {
    /// `[notify] max_pending`: 1 to a million notifications waiting for delivery.
    public static let notifyMaxPending: ClosedRange<Int> = 1...1_000_000
    /// `[notify] retry_base_ms`: 100 ms to 10 minutes.
    public static let notifyRetryBaseMs: ClosedRange<Int> = 100...600_000
}

extension ClusterConfig.Defaults {
    /// 10,000 notifications.
    public static let notifyMaxPending = 10_000
    /// 10 seconds.
    public static let notifyRetryBaseMs = 10_000
}

extension ConfigLoader {
    /// `[notify]` and its `[notify.smtp]`; `nil` tables mean the defaults.
    static func readNotify(_ root: inout StrictTable) throws(ConfigError) -> ClusterConfig.Notify {
        var notify = ClusterConfig.Notify()
        guard var table = try root.table("notify") else { return notify }
        if let on = try table.stringArray("on") { notify.on = on }
        notify.webhook = try table.string("webhook")
        let secret = try table.string("webhook_secret")
        let secretFile = try table.string("webhook_secret_file")
        switch (secret, secretFile) {
        case (let value?, nil): notify.webhookSecret = .value(value)
        case (nil, let path?): notify.webhookSecret = .file(path)
        case (.some, .some):
            throw table.error("webhook_secret", "give webhook_secret or webhook_secret_file, not both (prefer the file)")
        case (nil, nil): break
        }
        if let email = try table.stringArray("email") { notify.email = email }
        if let maxPending = try table.int("max_pending") { notify.maxPending = maxPending }
        if let base = try table.int("retry_base_ms") { notify.retryBaseMs = base }
        if var smtpTable = try table.table("smtp") {
            guard let host = try smtpTable.string("host") else {
                throw smtpTable.error("host", "missing; name the SMTP server, e.g. \"smtp.example.com\"")
            }
            guard let from = try smtpTable.string("from") else {
                throw smtpTable.error("from", "missing; give the sender address, e.g. \"quorum@example.com\"")
            }
            var smtp = ClusterConfig.Notify.SMTP(host: host, from: from)
            if let port = try smtpTable.int("port") { smtp.port = port }
            if let startTLS = try smtpTable.bool("starttls") { smtp.startTLS = startTLS }
            smtp.username = try smtpTable.string("username")
            smtp.passwordFile = try smtpTable.string("password_file")
            if let domains = try smtpTable.stringArray("allowed_domains") { smtp.allowedDomains = domains }
            try smtpTable.finish()
            notify.smtp = smtp
        }
        try table.finish()
        return notify
    }
}

/// Checks `[notify]` for what needs no I/O and no Notify module; the `quorum` executable adds
/// Notify's own checks (addresses, the secret's length) when it starts a node.
enum NotifyValidator {
    /// The first problem of `notify`, as (key, reason).
    static func problem(_ notify: ClusterConfig.Notify) -> (key: String, reason: String)? {
        for (index, name) in notify.on.enumerated() where !ClusterConfig.Notify.eventNames.contains(name) {
            return ("notify.on[\(index)]", "\"\(name)\" is not an event type; use some of: "
                + ClusterConfig.Notify.eventNames.joined(separator: ", "))
        }
        let range = ClusterConfig.Limits.notifyMaxPending
        guard range.contains(notify.maxPending) else {
            return ("notify.max_pending", "\(notify.maxPending) is out of range \(range.lowerBound)-\(range.upperBound) notifications")
        }
        let bases = ClusterConfig.Limits.notifyRetryBaseMs
        guard bases.contains(notify.retryBaseMs) else {
            return ("notify.retry_base_ms", "\(notify.retryBaseMs) is out of range \(bases.lowerBound)-\(bases.upperBound) milliseconds")
        }
        if let webhook = notify.webhook {
            let lower = webhook.lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://"),
                  !webhook.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
                return ("notify.webhook", "\"\(webhook)\" is not an http:// or https:// URL")
            }
        }
        if case .value(let secret) = notify.webhookSecret, secret.utf8.count < 16 {
            return ("notify.webhook_secret", "is \(secret.utf8.count) bytes; use at least 16 (e.g. `openssl rand -hex 32`)")
        }
        for (index, address) in notify.email.enumerated() where !isPlainMailbox(address) {
            return ("notify.email[\(index)]", "\"\(address)\" is not a plain address name@domain")
        }
        if !notify.email.isEmpty, notify.smtp == nil {
            return ("notify.email", "needs a [notify.smtp] table with host and from to send mail")
        }
        if let smtp = notify.smtp {
            guard (1...65_535).contains(smtp.port) else {
                return ("notify.smtp.port", "\(smtp.port) is out of range 1-65535")
            }
            guard isPlainMailbox(smtp.from) else {
                return ("notify.smtp.from", "\"\(smtp.from)\" is not a plain address name@domain")
            }
            if smtp.username != nil, smtp.passwordFile == nil {
                return ("notify.smtp.password_file", "missing; a username needs a password file")
            }
            if smtp.username == nil, smtp.passwordFile != nil {
                return ("notify.smtp.username", "missing; password_file is used only with a username")
            }
        }
        return nil
    }

    /// `name@domain`, printable ASCII, no spaces, one `@`, both sides non-empty.
    private static func isPlainMailbox(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" }
    }
}
