import Crypto

/// The `Quorum-Signature` header of a webhook, as Stripe and GitHub sign theirs:
/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
///
/// The timestamp is inside the signed bytes, so a receiver that checks it against its own clock
/// (``verify(header:body:secret:now:tolerance:)``) refuses an old request replayed by whoever
/// captured it; the signature proves the body came from someone holding the secret.
public enum WebhookSignature {
    /// The header's name.
    public static let headerName = "Quorum-Signature"

    /// A receiver's default tolerance between `t` and its clock: five minutes, as Stripe's.
    public static let defaultTolerance: Int64 = 300

    /// The header value for `body` sent at `timestamp` (Unix seconds).
    public static func header(body: [UInt8], timestamp: Int64, secret: WebhookSecret) -> String {
        "t=\(timestamp),v1=\(hex(mac(body: body, timestamp: timestamp, secret: secret)))"
    }

    /// Checks a received header: well formed, `t` within `tolerance` seconds of `now` (either
    /// way), and some `v1` equal to the HMAC of `"<t>.<body>"` — compared in constant time, so
    /// response timing does not reveal how much of a forged signature was right. Several `v1`
    /// entries are accepted (a sender may sign with an old and a new secret while rotating).
    public static func verify(header: String, body: [UInt8], secret: WebhookSecret, now: Int64,
                              tolerance: Int64 = defaultTolerance) -> Result<Void, VerificationFailure> {
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { return .failure(.malformed("'\(part)' is not key=value")) }
            let key = pair[0].trimmingSpaces, value = pair[1].trimmingSpaces
            switch key {
            case "t":
                guard timestamp == nil, let parsed = Int64(value) else {
                    return .failure(.malformed("t must appear once, as Unix seconds"))
                }
                timestamp = parsed
            case "v1":
                guard let bytes = unhex(value), bytes.count == SHA256.byteCount else {
                    return .failure(.malformed("v1 must be \(SHA256.byteCount * 2) hex digits"))
                }
                signatures.append(bytes)
            default:
                continue // Other schemes (a future v2) are for other verifiers.
            }
        }
        guard let timestamp else { return .failure(.malformed("no t=")) }
        guard !signatures.isEmpty else { return .failure(.malformed("no v1=")) }
        let (difference, overflow) = now.subtractingReportingOverflow(timestamp)
        guard !overflow, difference.magnitude <= tolerance.magnitude else {
            return .failure(.outsideTolerance(timestamp: timestamp, now: now, tolerance: tolerance))
        }
        let key = SymmetricKey(data: secret.bytes)
        let signed = Array("\(timestamp).".utf8) + body
        for signature in signatures where HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) {
            return .success(())
        }
        return .failure(.mismatch)
    }

    /// Why a header was not accepted.
    public enum VerificationFailure: Error, Sendable, Hashable, CustomStringConvertible {
        /// Not `t=…,v1=…`.
        case malformed(String)
        /// `t` is too far from the receiver's clock: a replay, or one of the clocks is wrong.
        case outsideTolerance(timestamp: Int64, now: Int64, tolerance: Int64)
        /// No `v1` matches: another secret, or the body or `t` changed on the way.
        case mismatch

        /// What is wrong, for the receiver's log.
        public var description: String {
            switch self {
            case .malformed(let why): "\(WebhookSignature.headerName) is malformed: \(why)"
            case .outsideTolerance(let timestamp, let now, let tolerance):
                "\(WebhookSignature.headerName) t=\(timestamp) is more than \(tolerance) s from now (\(now)); "
                    + "a replayed request, or a clock is wrong"
            case .mismatch:
                "\(WebhookSignature.headerName) does not match the body: another secret, or the body or t was changed"
            }
        }
    }

    private static func mac(body: [UInt8], timestamp: Int64, secret: WebhookSecret) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: secret.bytes))
        hmac.update(data: Array("\(timestamp).".utf8))
        hmac.update(data: body)
        return Array(hmac.finalize())
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func unhex(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count.isMultiple(of: 2) else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces.
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
