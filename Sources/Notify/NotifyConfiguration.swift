/// `[notify]` and `[notify.smtp]` of the cluster file, as plain values.
///
/// ClusterConfig parses the TOML into this at the integration step; here it is a value with a
/// ``validate()`` that names the field at fault. The cluster-wide defaults it describes (`on`,
/// `webhook`, `email`) are seeded into the replicated settings at bootstrap; secrets and the
/// SMTP password stay node-local (read from files on the node that delivers).
///
/// ```toml
/// [notify]
/// on = ["dead", "dag_failed"]
/// webhook = "https://hooks.example.com/quorum"
/// webhook_secret_file = "/etc/quorum/webhook.secret"   # or webhook_secret = "…"
/// email = ["ops@example.com"]
/// max_pending = 10000
///
/// [notify.smtp]
/// host = "smtp.example.com"
/// port = 587
/// from = "quorum@example.com"
/// starttls = true
/// username = "quorum"
/// password_file = "/etc/quorum/smtp.password"
/// allowed_domains = ["example.com"]
/// ```
public struct NotifyConfiguration: Sendable, Hashable {
    /// Where the webhook secret comes from.
    public enum SecretSource: Sendable, Hashable {
        /// `webhook_secret = "…"`.
        case value(String)
        /// `webhook_secret_file = "/path"`.
        case file(String)
    }

    /// `[notify.smtp]` before the password file is read.
    public struct SMTP: Sendable, Hashable {
        /// `host`.
        public var host: String
        /// `port` (default 587).
        public var port: Int
        /// `from`.
        public var from: String
        /// `starttls` (default true; false only for a loopback host).
        public var startTLS: Bool
        /// `username`.
        public var username: String?
        /// `password_file`.
        public var passwordFile: String?
        /// `allowed_domains` (default: any domain).
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

    /// `on`: the event types every job and DAG notifies about by default (default: none).
    public var on: [NotificationEventType]
    /// `webhook`: the default webhook URL.
    public var webhook: String?
    /// `webhook_secret` or `webhook_secret_file`.
    public var webhookSecret: SecretSource?
    /// `email`: the default recipients.
    public var email: [String]
    /// `max_pending`: most notifications waiting for delivery; more are dropped and counted.
    public var maxPending: Int
    /// `[notify.smtp]`, required when any email is configured.
    public var smtp: SMTP?

    /// The default `max_pending`.
    public static let defaultMaxPending = 10_000

    /// A `[notify]` table; everything off by default.
    public init(on: [NotificationEventType] = [], webhook: String? = nil, webhookSecret: SecretSource? = nil, email: [String] = [],
                maxPending: Int = defaultMaxPending, smtp: SMTP? = nil) {
        self.on = on
        self.webhook = webhook
        self.webhookSecret = webhookSecret
        self.email = email
        self.maxPending = maxPending
        self.smtp = smtp
    }

    /// Parses `on` as the config writes it; the error lists the valid names.
    public static func eventTypes(_ names: [String]) throws(NotifyConfigurationError) -> [NotificationEventType] {
        var types: [NotificationEventType] = []
        for name in names {
            guard let type = NotificationEventType(name: name) else {
                throw NotifyConfigurationError(field: "[notify] on", reason: "entry \"\(EmailAddress.printable(name))\" is not an event type; "
                                               + "use some of: \(NotificationEventType.allNames)")
            }
            if !types.contains(type) { types.append(type) }
        }
        return types
    }

    /// Checks every field that can be checked without I/O; the error names the field.
    public func validate() throws(NotifyConfigurationError) {
        guard (1...1_000_000).contains(maxPending) else {
            throw NotifyConfigurationError(field: "[notify] max_pending", reason: "\(maxPending) is out of range; use 1–1000000")
        }
        if let webhook {
            guard let scheme = webhook.split(separator: ":", maxSplits: 1).first?.lowercased(), scheme == "https" || scheme == "http",
                  webhook.contains("://"), !webhook.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F })
            else {
                throw NotifyConfigurationError(field: "[notify] webhook", reason: "\"\(EmailAddress.printable(webhook))\" is not an http:// or https:// URL")
            }
        }
        if case .value(let text) = webhookSecret {
            _ = try WebhookSecret(text)
        }
        for address in email {
            _ = try EmailAddress(address, field: "[notify] email")
        }
        if !email.isEmpty, smtp == nil {
            throw NotifyConfigurationError(field: "[notify] email", reason: "needs a [notify.smtp] table with host and from")
        }
        if let smtp {
            let settings = try smtpSettings(password: smtp.passwordFile == nil ? nil : "unread")
            try settings.validate()
            for address in email {
                let parsed = try EmailAddress(address, field: "[notify] email")
                guard parsed.isAllowed(in: settings.allowedDomains) else {
                    throw NotifyConfigurationError(field: "[notify] email", reason: "\(parsed) is outside [notify.smtp] allowed_domains")
                }
            }
        }
    }

    /// `[notify.smtp]` as the client takes it, with the password read from `password_file` by the caller.
    public func smtpSettings(password: String?) throws(NotifyConfigurationError) -> SMTPSettings {
        guard let smtp else { throw NotifyConfigurationError(field: "[notify.smtp]", reason: "is missing") }
        return SMTPSettings(host: smtp.host, port: smtp.port, from: try EmailAddress(smtp.from, field: "[notify.smtp] from"),
                            startTLS: smtp.startTLS, username: smtp.username, password: password,
                            allowedDomains: smtp.allowedDomains)
    }
}
