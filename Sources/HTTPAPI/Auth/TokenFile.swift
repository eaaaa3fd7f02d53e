import Crypto
import Foundation

/// The tokens file (`[api] tokens_file`): one token per line, `NAME ROLE SHA256-HEX`, with `#`
/// comments and blank lines allowed. It holds the SHA-256 of each token, never the token, so a
/// copy of the file (a backup, a config repository) lets no one in.
///
/// ```
/// # name      role    sha256 of the token
/// ci-deploy   submit  9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
/// ```
public struct TokenFile: Sendable, Hashable {
    /// One line of the file.
    public struct Entry: Sendable, Hashable {
        /// A unique label (letters, digits, `-`, `_`, `.`; 1–64 bytes): what logs and `list` show.
        public var name: String
        /// What the token may do.
        public var role: APIRole
        /// SHA-256 of the token's UTF-8 bytes.
        public var digest: [UInt8]

        /// An entry.
        public init(name: String, role: APIRole, digest: [UInt8]) {
            self.name = name
            self.role = role
            self.digest = digest
        }
    }

    /// A line that is not `NAME ROLE SHA256-HEX`, or a repeated name.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// 1-based line number.
        public var line: Int
        /// What is wrong and what to do.
        public var reason: String
        public var description: String { "tokens file line \(line): \(reason)" }
    }

    /// The entries, in file order.
    public var entries: [Entry]

    /// A file of `entries`.
    public init(entries: [Entry] = []) { self.entries = entries }

    /// Parses the file's text; every problem names its line.
    public init(parsing text: String) throws(ParseError) {
        var entries: [Entry] = []
        var names: Set<String> = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            let number = index + 1
            guard fields.count == 3 else {
                throw ParseError(line: number, reason: "expected NAME ROLE SHA256-HEX (3 fields), found \(fields.count)")
            }
            let name = String(fields[0])
            guard Self.isValidName(name) else {
                throw ParseError(line: number, reason: "name '\(name.prefix(64))' must be 1-64 letters, digits, '-', '_' or '.'")
            }
            guard names.insert(name).inserted else {
                throw ParseError(line: number, reason: "name '\(name)' appears twice; names must be unique")
            }
            guard let role = APIRole(rawValue: String(fields[1])) else {
                throw ParseError(line: number, reason: "role '\(fields[1].prefix(32))' is not read, submit or admin")
            }
            guard let digest = Self.bytes(hex: fields[2]), digest.count == 32 else {
                throw ParseError(line: number, reason: "the third field must be the token's SHA-256 as 64 hex digits")
            }
            entries.append(Entry(name: name, role: role, digest: digest))
        }
        self.entries = entries
    }

    /// The file's text (a header comment, then one line per entry).
    public var text: String {
        var lines = ["# Quorum API tokens: NAME ROLE SHA256-OF-TOKEN (managed by `quorum tokens`)"]
        for entry in entries {
            lines.append("\(entry.name) \(entry.role.rawValue) \(entry.digest.map { Self.hexDigit($0) }.joined())")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Whether `name` is a valid token name.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// The SHA-256 of `token`'s UTF-8 bytes.
    public static func digest(of token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// A new token: 256 random bits from the system's CSPRNG, as `qt_` and 64 hex digits.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "qt_" + bytes.map { hexDigit($0) }.joined()
    }

    private static func hexDigit(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }

    private static func bytes(hex: Substring) -> [UInt8]? {
        guard hex.utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = nibble(high), let l = nibble(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
