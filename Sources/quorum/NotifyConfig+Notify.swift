import Foundation
import ClusterConfig
import Notify

extension ClusterConfig.Notify {
    /// The same settings as the Notify module's value, for its senders and its own checks.
    /// `on` names were checked by ClusterConfig's validator; an unknown one (impossible after it)
    /// is dropped rather than trapped on.
    var notifyConfiguration: NotifyConfiguration {
        NotifyConfiguration(
            on: on.compactMap(NotificationEventType.init(name:)), webhook: webhook,
            webhookSecret: webhookSecret.map { secret in
                switch secret {
                case .value(let text): .value(text)
                case .file(let path): .file(path)
                }
            },
            email: email, maxPending: maxPending,
            smtp: smtp.map {
                NotifyConfiguration.SMTP(host: $0.host, port: $0.port, from: $0.from, startTLS: $0.startTLS, username: $0.username,
                                         passwordFile: $0.passwordFile, allowedDomains: $0.allowedDomains)
            })
    }

    /// Notify's checks (addresses, allowed domains, the secret, loopback-only plain SMTP) as a
    /// config error naming the key, after ClusterConfig's own.
    func validateForNotify(file: String) throws(ConfigError) {
        do {
            try notifyConfiguration.validate()
        } catch {
            throw ConfigError(file: file, key: Self.key(for: error.field), reason: error.reason)
        }
    }

    /// `[notify.smtp] from` → `notify.smtp.from`: the spelling every other config error uses.
    static func key(for field: String) -> String {
        let trimmed = field.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: "")
        return trimmed.split(separator: " ").joined(separator: ".")
    }
}
