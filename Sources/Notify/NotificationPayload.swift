/// The JSON body of a webhook: one object, keys always present and always in this order.
///
/// ```
/// payload_version, event_id, type, at, job_id, job_name, run_id, dag_id, dag_name, dag_run_id,
/// attempt, max_attempts, outcome, error, output_tail, dashboard_url, missed_count, missed_from,
/// missed_until
/// ```
///
/// Written by hand rather than by `JSONEncoder`, so the bytes are the same on every platform and
/// version: the signature covers them, and receivers (and golden tests) may compare them. A field
/// that does not apply is `null`; strings are escaped as RFC 8259 requires (`"`, `\`, control
/// characters), everything else is written as UTF-8; `at` is RFC 3339 in UTC with milliseconds.
public enum NotificationPayload {
    /// The payload format's version; a change that is not purely additive bumps it.
    public static let version = 1

    /// Most bytes of ``NotificationEvent/outputTail`` a payload carries: its last bytes, cut at a
    /// character boundary, so a webhook stays small whatever the job printed.
    public static let outputTailLimit = 2048

    /// The body's bytes.
    public static func encode(_ event: NotificationEvent) -> [UInt8] {
        Array(json(event).utf8)
    }

    /// The body as text.
    public static func json(_ event: NotificationEvent) -> String {
        let fields: [(String, String)] = [
            ("payload_version", String(version)),
            ("event_id", string(event.eventID)),
            ("type", string(event.type.rawValue)),
            ("at", string(CivilTime.rfc3339(unixMilliseconds: event.atUnixMilliseconds))),
            ("job_id", string(event.jobID)),
            ("job_name", string(event.jobName)),
            ("run_id", string(event.runID)),
            ("dag_id", string(event.dagID)),
            ("dag_name", string(event.dagName)),
            ("dag_run_id", string(event.dagRunID)),
            ("attempt", number(event.attempt)),
            ("max_attempts", number(event.maxAttempts)),
            ("outcome", string(event.outcome)),
            ("error", string(event.error)),
            ("output_tail", string(event.outputTail.map { tail($0, limit: outputTailLimit) })),
            ("dashboard_url", string(event.dashboardURL)),
            ("missed_count", number(event.missedCount)),
            ("missed_from", string(event.missedFromUnixMilliseconds.map { CivilTime.rfc3339(unixMilliseconds: $0) })),
            ("missed_until", string(event.missedUntilUnixMilliseconds.map { CivilTime.rfc3339(unixMilliseconds: $0) })),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The last at most `limit` UTF-8 bytes of `text`, starting at a character boundary.
    static func tail(_ text: String, limit: Int) -> String {
        let utf8 = text.utf8
        guard utf8.count > limit else { return text }
        var start = utf8.index(utf8.endIndex, offsetBy: -limit)
        // Continuation bytes (10xxxxxx) are not a boundary; skip forward to one.
        while start < utf8.endIndex, utf8[start] & 0xC0 == 0x80 { start = utf8.index(after: start) }
        return String(decoding: utf8[start...], as: UTF8.self)
    }

    private static func number(_ value: Int?) -> String {
        value.map { String($0) } ?? "null"
    }

    private static func string(_ value: String?) -> String {
        guard let value else { return "null" }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                // Other control characters, and the two separators JavaScript source cannot hold.
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
