/// The address an http(s) URL's host names literally, as the API sees it at submission.
///
/// Besides the usual forms (`10.0.0.1`, `[::1]`) this reads the numeric forms resolvers accept
/// as IPv4 (`2130706433`, `0x7f.1`, `0177.0.0.1`: what `inet_aton` and WHATWG URL parsers take),
/// which are a classic way around a check that only knows dotted quads. Names give `nil`: they
/// are checked by the executor after resolution.
public enum URLHostLiteral {
    /// The literal address of `url`'s host, or `nil` if the host is a name (or the URL has none).
    public static func address(in url: String) -> IPAddress? {
        guard let host = host(of: url) else { return nil }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]") else { return nil }
            var inner = host.dropFirst().dropLast()
            // A zone (`%25eth0`) does not change which address is meant.
            if let percent = inner.firstIndex(of: "%") { inner = inner[..<percent] }
            return IPAddress.parse(inner)
        }
        if let strict = IPAddress.parse(host) { return strict }
        return numericIPv4(host).map(IPAddress.v4)
    }

    /// The host part of `scheme://[userinfo@]host[:port][/…]`, lowercased; `nil` without `://`.
    static func host(of url: String) -> Substring? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        // WHATWG URL parsers end the authority at a backslash too.
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" && $0 != "\\" }
        let hostAndPort = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        if hostAndPort.hasPrefix("[") {
            guard let close = hostAndPort.firstIndex(of: "]") else { return nil }
            return Substring(hostAndPort[...close].lowercased())
        }
        let host = hostAndPort.prefix { $0 != ":" }
        // WHATWG URL parsers percent-decode the host (`127.0.0.%31` is 127.0.0.1).
        return host.isEmpty ? nil : Substring(percentDecoded(host).lowercased())
    }

    /// `%XX` sequences decoded; anything else (a lone `%`, a non-ASCII result) left as it was.
    static func percentDecoded(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"),
               let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex), high < utf8.endIndex,
               let low = utf8.index(index, offsetBy: 2, limitedBy: utf8.endIndex), low < utf8.endIndex,
               let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index = utf8.index(after: low)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `inet_aton`'s IPv4 forms: one to four parts of decimal, `0x` hex or `0` octal, the last
    /// filling the remaining bytes; one trailing dot allowed. `nil` unless every part is numeric.
    static func numericIPv4(_ host: Substring) -> UInt32? {
        var parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = numericPart(part) else { return nil }
            values.append(value)
        }
        var result: UInt64 = 0
        for (index, value) in values.enumerated() {
            if index < values.count - 1 {
                guard value <= 255 else { return nil }
                result |= value << UInt64(8 * (3 - index))
            } else {
                let remainingBytes = 4 - index
                guard value < (UInt64(1) << UInt64(8 * remainingBytes)) else { return nil }
                result |= value
            }
        }
        return UInt32(truncatingIfNeeded: result)
    }

    private static func numericPart(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.utf8.count <= 40 else { return nil }
        var digits = part
        var radix = 10
        if part.hasPrefix("0x") {
            digits = part.dropFirst(2)
            radix = 16
            if digits.isEmpty { return 0 }
        } else if part.count > 1, part.hasPrefix("0") {
            digits = part.dropFirst()
            radix = 8
        }
        var value: UInt64 = 0
        for character in digits {
            guard let digit = character.hexDigitValue, digit < radix else { return nil }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: UInt64(radix))
            guard !overflow, shifted <= UInt64(UInt32.max) else { return nil }
            value = shifted + UInt64(digit)
        }
        return value <= UInt64(UInt32.max) ? value : nil
    }
}
