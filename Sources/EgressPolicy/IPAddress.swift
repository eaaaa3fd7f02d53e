/// An IPv4 or IPv6 address as a number, parsed strictly from its usual text.
///
/// Pure: no resolver, no `inet_pton` (whose accepted forms differ between platforms), so the
/// same text is judged the same everywhere.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 address, most significant byte first (`127.0.0.1` is `0x7F00_0001`).
    case v4(UInt32)
    /// An IPv6 address, most significant byte first.
    case v6(UInt128)

    /// Parses dotted-quad IPv4 (`192.0.2.1`: four decimal parts 0–255, no leading zeros, which
    /// some parsers read as octal) or RFC 4291 IPv6 text (`2001:db8::1`, `::ffff:192.0.2.1`;
    /// no brackets, no zone). `nil` for anything else.
    public static func parse<S: StringProtocol>(_ text: S) -> IPAddress? {
        let text = Substring(text)
        if let value = parseIPv4(text) { return .v4(value) }
        if let value = parseIPv6(text) { return .v6(value) }
        return nil
    }

    /// The IPv4 address an IPv6 address stands for, if it embeds one the network delivers to
    /// that IPv4 address: IPv4-mapped (`::ffff:0:0/96`, what a dual-stack socket uses for IPv4
    /// peers) and the NAT64 well-known prefix (`64:ff9b::/96`, which a NAT64 gateway forwards).
    /// Every other address is itself. Policies judge this address, so `::ffff:127.0.0.1` is
    /// loopback.
    public var effective: IPAddress {
        guard case .v6(let value) = self else { return self }
        let high = value >> 32
        if high == 0xFFFF || high == (0x64 << 80 | 0xFF9B << 64) {
            return .v4(UInt32(truncatingIfNeeded: value))
        }
        return self
    }

    /// Dotted-quad IPv4, or RFC 5952 IPv6 (lowercase, the longest run of zero groups as `::`,
    /// IPv4-mapped addresses as `::ffff:a.b.c.d`).
    public var description: String {
        switch self {
        case .v4(let value):
            return Self.dottedQuad(value)
        case .v6(let value):
            if value >> 32 == 0xFFFF {
                return "::ffff:" + Self.dottedQuad(UInt32(truncatingIfNeeded: value))
            }
            let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> (112 - 16 * $0)) }
            // The longest run of two or more zero groups (the first of equals) becomes `::`.
            var best: Range<Int>?
            var start: Int?
            for index in 0...8 {
                if index < 8, groups[index] == 0 {
                    if start == nil { start = index }
                } else if let runStart = start {
                    if index - runStart >= 2, index - runStart > (best?.count ?? 0) { best = runStart..<index }
                    start = nil
                }
            }
            let hex = { (slice: ArraySlice<UInt16>) in slice.map { String($0, radix: 16) }.joined(separator: ":") }
            guard let best else { return hex(groups[...]) }
            return hex(groups[..<best.lowerBound]) + "::" + hex(groups[best.upperBound...])
        }
    }

    private static func dottedQuad(_ value: UInt32) -> String {
        (0..<4).map { String(UInt8(truncatingIfNeeded: value >> (24 - 8 * $0))) }.joined(separator: ".")
    }

    static func parseIPv4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  part.utf8.count == 1 || part.utf8.first != 0x30,
                  let byte = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func parseIPv6(_ text: Substring) -> UInt128? {
        // The longest valid text is 45 characters (`ffff:…:ffff:255.255.255.255`).
        guard text.utf8.count >= 2, text.utf8.count <= 45 else { return nil }
        let head: Substring
        let tail: Substring?
        if let gap = text.firstRange(of: "::") {
            head = text[..<gap.lowerBound]
            tail = text[gap.upperBound...]
            guard let tail, !tail.contains("::") else { return nil }
        } else {
            head = text
            tail = nil
        }
        guard let headGroups = groups(head, ipv4Tail: tail == nil) else { return nil }
        var tailGroups: [UInt16] = []
        if let tail {
            guard let parsed = groups(tail, ipv4Tail: true) else { return nil }
            tailGroups = parsed
            guard headGroups.count + tailGroups.count <= 7 else { return nil }
        } else {
            guard headGroups.count == 8 else { return nil }
        }
        let all = headGroups + Array(repeating: 0, count: 8 - headGroups.count - tailGroups.count) + tailGroups
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    /// Colon-separated groups of 1–4 hex digits; the last may be dotted-quad IPv4 (two groups).
    private static func groups(_ text: Substring, ipv4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
        var result: [UInt16] = []
        for (index, piece) in pieces.enumerated() {
            if ipv4Tail, index == pieces.count - 1, piece.contains(".") {
                guard let value = parseIPv4(piece) else { return nil }
                result.append(UInt16(truncatingIfNeeded: value >> 16))
                result.append(UInt16(truncatingIfNeeded: value))
                continue
            }
            guard (1...4).contains(piece.utf8.count), piece.utf8.allSatisfy(isHexDigit), let group = UInt16(piece, radix: 16)
            else { return nil }
            result.append(group)
        }
        return result
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }
}
