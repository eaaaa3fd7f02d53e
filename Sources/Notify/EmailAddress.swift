/// A mailbox (`ops@example.com`) checked to be safe on an SMTP command line and in a header.
///
/// Deliberately narrow: one `@`, a non-empty local part and domain, printable ASCII only, none
/// of the characters that would end or extend a command or header (`<`, `>`, `,`, `;`, quotes,
/// spaces, CR, LF). Internationalised addresses (SMTPUTF8) are not supported.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The part before the `@`.
    public let localPart: String
    /// The part after the `@`, lowercased.
    public let domain: String

    /// Parses `text`; `field` names where it came from in the error.
    public init(_ text: String, field: String) throws(NotifyConfigurationError) {
        let forbidden: Set<UInt8> = Set("<>()[]\\,;:\"' ".utf8)
        guard !text.isEmpty, text.utf8.count <= 254,
              text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !forbidden.contains($0) })
        else {
            throw NotifyConfigurationError(field: field, reason: "\"\(Self.printable(text))\" is not a plain address like ops@example.com "
                                           + "(printable ASCII, no spaces, brackets, quotes, commas or line breaks)")
        }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64, !parts[1].isEmpty,
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !parts[1].contains("..")
        else {
            throw NotifyConfigurationError(field: field, reason: "\"\(text)\" is not an address like ops@example.com (one @, a name and a domain)")
        }
        localPart = String(parts[0])
        domain = parts[1].lowercased()
    }

    /// `local@domain`.
    public var description: String { "\(localPart)@\(domain)" }

    /// Whether the domain is one of `allowed` (lowercase, exact: `example.com` does not allow
    /// `mail.example.com`); every domain when `allowed` is empty.
    public func isAllowed(in allowed: [String]) -> Bool {
        allowed.isEmpty || allowed.contains(domain)
    }

    /// `text` with control characters shown as `\u{…}`, so an error never carries a raw line break.
    static func printable(_ text: String) -> String {
        text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }
}
