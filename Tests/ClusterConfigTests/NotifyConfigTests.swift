import Testing

@testable import ClusterConfig

@Suite("Config: [notify]")
struct NotifyConfigTests {
    @Test("absent: everything off, max_pending 10,000")
    func defaults() throws {
        let notify = try ConfigLoader.parse(validConfig, file: "c.toml").notify
        #expect(notify == ClusterConfig.Notify())
        #expect(notify.on.isEmpty && notify.webhook == nil && notify.maxPending == 10_000)
    }

    @Test("every key parses into the mirror of Notify's configuration")
    func everyKey() throws {
        let text = validConfig + """

            [notify]
            on = ["dead", "dag_failed"]
            webhook = "https://hooks.example.com/quorum"
            webhook_secret_file = "/etc/quorum/webhook.secret"
            email = ["ops@example.com"]
            max_pending = 500

            [notify.smtp]
            host = "smtp.example.com"
            port = 2525
            from = "quorum@example.com"
            starttls = false
            username = "quorum"
            password_file = "/etc/quorum/smtp.password"
            allowed_domains = ["example.com"]
            """
        let notify = try ConfigLoader.parse(text, file: "c.toml").notify
        #expect(notify == ClusterConfig.Notify(
            on: ["dead", "dag_failed"], webhook: "https://hooks.example.com/quorum", webhookSecret: .file("/etc/quorum/webhook.secret"),
            email: ["ops@example.com"], maxPending: 500,
            smtp: .init(host: "smtp.example.com", port: 2525, from: "quorum@example.com", startTLS: false, username: "quorum",
                        passwordFile: "/etc/quorum/smtp.password", allowedDomains: ["example.com"])))
        #expect(configError(text) == nil)
    }

    @Test("a bad value: an error naming the key", arguments: [
        ("[notify]\non = [\"dead\", \"exploded\"]", "notify.on[1]", "not an event type"),
        ("[notify]\nmax_pending = 0", "notify.max_pending", "1-1000000"),
        ("[notify]\nmax_pending = 1000001", "notify.max_pending", "1-1000000"),
        ("[notify]\nwebhook = \"ftp://x\"", "notify.webhook", "http"),
        ("[notify]\nwebhook_secret = \"short\"", "notify.webhook_secret", "at least 16"),
        ("[notify]\nwebhook_secret = \"0123456789abcdef\"\nwebhook_secret_file = \"/s\"", "notify.webhook_secret", "not both"),
        ("[notify]\nemail = [\"ops\"]\n[notify.smtp]\nhost = \"h\"\nfrom = \"a@b\"", "notify.email[0]", "name@domain"),
        ("[notify]\nemail = [\"ops@example.com\"]", "notify.email", "[notify.smtp]"),
        ("[notify.smtp]\nfrom = \"a@b\"", "notify.smtp.host", "missing"),
        ("[notify.smtp]\nhost = \"h\"", "notify.smtp.from", "missing"),
        ("[notify.smtp]\nhost = \"h\"\nfrom = \"a@b\"\nport = 0", "notify.smtp.port", "1-65535"),
        ("[notify.smtp]\nhost = \"h\"\nfrom = \"a@b\"\nusername = \"u\"", "notify.smtp.password_file", "missing"),
        ("[notify.smtp]\nhost = \"h\"\nfrom = \"a@b\"\npassword_file = \"/p\"", "notify.smtp.username", "missing"),
        ("[notify]\nwebhook_url = \"https://x\"", "notify.webhook_url", "unknown key"),
        ("[notify.smtp]\nhost = \"h\"\nfrom = \"a@b\"\ntls = true", "notify.smtp.tls", "unknown key"),
        ("[notify]\non = \"dead\"", "notify.on", "array"),
    ])
    func badValue(_ tables: String, _ key: String, _ reason: String) {
        let error = configError(validConfig + "\n" + tables + "\n")
        #expect(error?.key == key, "\(String(describing: error))")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error?.reason))")
    }

    @Test("the event names are the notification types of docs/notifications.md")
    func eventNames() {
        #expect(ClusterConfig.Notify.eventNames == ["succeeded", "failed", "dead", "timed_out", "lost", "dag_succeeded", "dag_failed",
                                                    "missed", "overlap_skipped"])
    }
}
