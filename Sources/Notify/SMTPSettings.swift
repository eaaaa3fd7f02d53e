/// `[notify.smtp]`: the mail server notifications are sent through.
public struct SMTPSettings: Sendable, Hashable {
    /// The server's name or address.
    public var host: String
    /// Its submission port: 587 by default (STARTTLS).
    public var port: Int
    /// The envelope sender and `From:` header.
    public var from: EmailAddress
    /// Whether STARTTLS is required (default). Turning it off is allowed only for a loopback
    /// host (tests, a local relay), so credentials and mail never cross a network in clear.
    public var startTLS: Bool
    /// The AUTH user name, if the server wants AUTH; then ``password`` is required.
    public var username: String?
    /// The AUTH password, read from `password_file` (never written in the config itself).
    public var password: String?
    /// If not empty, the only recipient domains mail goes to (lowercase, exact).
    public var allowedDomains: [String]
    /// The name sent in EHLO; the node's name is a good choice.
    public var heloName: String
    /// Connecting, the whole conversation and QUIT must end within this.
    public var timeout: Duration

    /// Settings; ``validate()`` says whether they can be used.
    public init(host: String, port: Int = 587, from: EmailAddress, startTLS: Bool = true, username: String? = nil,
                password: String? = nil, allowedDomains: [String] = [], heloName: String = "quorum",
                timeout: Duration = .seconds(30)) {
        self.host = host
        self.port = port
        self.from = from
        self.startTLS = startTLS
        self.username = username
        self.password = password
        self.allowedDomains = allowedDomains.map { $0.lowercased() }
        self.heloName = heloName
        self.timeout = timeout
    }

    /// Hosts for which ``startTLS`` may be off.
    public static let loopbackHosts: Set<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]

    /// Whether the settings can be used; the error names the field.
    public func validate() throws(NotifyConfigurationError) {
        guard !host.isEmpty, !host.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw NotifyConfigurationError(field: "[notify.smtp] host", reason: "must be a host name or address without spaces")
        }
        guard (1...65_535).contains(port) else {
            throw NotifyConfigurationError(field: "[notify.smtp] port", reason: "\(port) is out of range; use 1–65535 (587 for submission)")
        }
        guard startTLS || Self.loopbackHosts.contains(host.lowercased()) else {
            throw NotifyConfigurationError(field: "[notify.smtp] starttls",
                                           reason: "may be false only for a loopback host (localhost, 127.0.0.1, ::1), not \(host): "
                                               + "mail and credentials would cross the network in clear")
        }
        if username != nil, password == nil {
            throw NotifyConfigurationError(field: "[notify.smtp] password_file", reason: "is required when username is set")
        }
        for text in [username, password].compactMap({ $0 }) where text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            throw NotifyConfigurationError(field: "[notify.smtp] username/password_file", reason: "must not contain CR, LF or NUL")
        }
        guard !heloName.isEmpty, heloName.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw NotifyConfigurationError(field: "EHLO name", reason: "must be printable ASCII without spaces")
        }
        for domain in allowedDomains where domain.isEmpty || domain.contains("@") || domain.utf8.contains(where: { $0 <= 0x20 }) {
            throw NotifyConfigurationError(field: "[notify.smtp] allowed_domains",
                                           reason: "entry \"\(EmailAddress.printable(domain))\" must be a bare domain like example.com")
        }
    }
}
