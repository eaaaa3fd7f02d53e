#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The email for a notification: RFC 5322 headers and a plain-text UTF-8 body.
///
/// Subject: `[quorum] dead: nightly-report (attempt 3/3)`. `Message-ID: <event_id@cluster>`, so
/// a duplicate delivery of one event is recognisable (and threads together) in any mail client.
/// Every header value is checked for CR, LF and NUL and the message refused if one has any: a
/// job named `x\r\nBcc: everyone@…` must not add a header. Non-ASCII subjects are written as
/// RFC 2047 encoded words.
public enum NotificationMail {
    /// Why a message could not be composed.
    public struct CompositionError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The header, e.g. `Subject`.
        public let header: String
        /// What is wrong.
        public let reason: String
        /// `Subject: contains a line break …`.
        public var description: String { "\(header): \(reason)" }
    }

    /// Longest job or DAG name shown in a subject, in characters; a longer one ends in `…`.
    public static let subjectNameLimit = 120

    /// `[quorum] dead: nightly-report (attempt 3/3)`; `(attempt 3)` without a maximum, nothing without an attempt.
    public static func subject(for event: NotificationEvent) -> String {
        var name = event.subjectName
        if name.count > subjectNameLimit { name = String(name.prefix(subjectNameLimit - 1)) + "…" }
        var subject = "[quorum] \(event.type.rawValue): \(name)"
        if let attempt = event.attempt {
            subject += event.maxAttempts.map { " (attempt \(attempt)/\($0))" } ?? " (attempt \(attempt))"
        }
        return subject
    }

    /// The plain-text body: what happened, the error, the output's end, the link and the event id.
    public static func body(for event: NotificationEvent) -> String {
        var lines: [String] = []
        lines.append("\(event.type.rawValue): \(event.subjectName)")
        lines.append("")
        lines.append("When:      \(CivilTime.rfc3339(unixMilliseconds: event.atUnixMilliseconds))")
        if let jobName = event.jobName { lines.append("Job:       \(jobName)" + (event.jobID.map { " (\($0))" } ?? "")) }
        else if let jobID = event.jobID { lines.append("Job:       \(jobID)") }
        if let runID = event.runID { lines.append("Run:       \(runID)") }
        if let dagName = event.dagName { lines.append("DAG:       \(dagName)" + (event.dagID.map { " (\($0))" } ?? "")) }
        else if let dagID = event.dagID { lines.append("DAG:       \(dagID)") }
        if let dagRunID = event.dagRunID { lines.append("DAG run:   \(dagRunID)") }
        if let attempt = event.attempt { lines.append("Attempt:   \(attempt)" + (event.maxAttempts.map { " of \($0)" } ?? "")) }
        if let outcome = event.outcome { lines.append("Outcome:   \(outcome)") }
        if let error = event.error { lines.append("Error:     \(error)") }
        if let count = event.missedCount {
            let range = event.missedFromUnixMilliseconds.flatMap { from in
                event.missedUntilUnixMilliseconds.map { until in
                    ", due from \(CivilTime.rfc3339(unixMilliseconds: from)) to \(CivilTime.rfc3339(unixMilliseconds: until))"
                }
            } ?? ""
            lines.append("Missed:    \(count) fire\(count == 1 ? "" : "s") folded into one" + range)
        }
        if let link = event.dashboardURL { lines.append("Dashboard: \(link)") }
        if let tail = event.outputTail, !tail.isEmpty {
            lines.append("")
            lines.append("Output (end):")
            lines.append(NotificationPayload.tail(tail, limit: NotificationPayload.outputTailLimit))
        }
        lines.append("")
        lines.append("Event id: \(event.eventID) (the same in every delivery of this event)")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// The whole message: headers, a blank line, the body (not yet dot-stuffed: ``SMTPData`` does that).
    ///
    /// `cluster` is the right-hand side of the `Message-ID`; `unixMilliseconds` the `Date`.
    public static func compose(_ event: NotificationEvent, from: EmailAddress, to: [EmailAddress], cluster: String,
                               unixMilliseconds: Int64) throws(CompositionError) -> String {
        guard !cluster.isEmpty, cluster.utf8.allSatisfy(isIDByte) else {
            throw CompositionError(header: "Message-ID", reason: "cluster name \"\(EmailAddress.printable(cluster))\" must be letters, digits, '.', '-' or '_'")
        }
        guard !event.eventID.isEmpty, event.eventID.utf8.allSatisfy(isIDByte) else {
            throw CompositionError(header: "Message-ID", reason: "event id \"\(EmailAddress.printable(event.eventID))\" must be letters, digits, '.', '-' or '_'")
        }
        let headers: [(String, String)] = [
            ("From", from.description),
            ("To", to.map(\.description).joined(separator: ", ")),
            ("Subject", Self.subject(for: event)),
            ("Date", CivilTime.rfc5322(unixMilliseconds: unixMilliseconds)),
            ("Message-ID", "<\(event.eventID)@\(cluster)>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "8bit"),
            ("Auto-Submitted", "auto-generated"),
            ("X-Quorum-Event-Id", event.eventID),
            ("X-Quorum-Event-Type", event.type.rawValue),
        ]
        var text = ""
        for (name, value) in headers {
            if let bad = value.unicodeScalars.first(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
                let what = bad == "\0" ? "NUL" : bad == "\r" ? "a carriage return" : "a line feed"
                throw CompositionError(header: name, reason: "the value contains \(what) (from a job or DAG name?); "
                                       + "rename it: a line break would start a new header")
            }
            text += "\(name): \(name == "Subject" ? encodedWords(value) : value)\r\n"
        }
        return text + "\r\n" + body(for: event)
    }

    /// `value` as is when it is printable ASCII, else RFC 2047 `=?UTF-8?B?…?=` words (each at
    /// most 75 characters, folded onto continuation lines), split at character boundaries.
    static func encodedWords(_ value: String) -> String {
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return value }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in value {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }
}
