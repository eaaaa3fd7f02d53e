#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The HMAC key webhooks are signed with (`[notify] webhook_secret` or `webhook_secret_file`).
///
/// Its description never shows the key, so a secret in a logged config or error stays out of logs.
public struct WebhookSecret: Sendable, Hashable, CustomStringConvertible {
    /// The key's bytes (the UTF-8 of the configured text).
    public let bytes: [UInt8]

    /// Shortest accepted secret: 16 bytes, so a guessable word is refused.
    public static let minimumLength = 16

    /// A secret from its text; fails if it is shorter than ``minimumLength`` bytes.
    public init(_ text: String, field: String = "[notify] webhook_secret") throws(NotifyConfigurationError) {
        let bytes = Array(text.utf8)
        guard bytes.count >= Self.minimumLength else {
            throw NotifyConfigurationError(field: field, reason: "is \(bytes.count) bytes long; use at least \(Self.minimumLength) "
                                           + "random bytes, e.g. the output of `openssl rand -hex 32`")
        }
        self.bytes = bytes
    }

    /// The secret in `path`, without one trailing newline (as `echo` or an editor leaves it).
    public static func load(file path: String) throws(NotifyConfigurationError) -> WebhookSecret {
        let field = "[notify] webhook_secret_file"
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw NotifyConfigurationError(field: field, reason: "cannot read \(path): \(error); check the path and its permissions")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw NotifyConfigurationError(field: field, reason: "\(path) is not UTF-8 text")
        }
        if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
        return try WebhookSecret(text, field: "\(field) (\(path))")
    }

    /// `WebhookSecret(<redacted, N bytes>)`.
    public var description: String { "WebhookSecret(<redacted, \(bytes.count) bytes>)" }
}
