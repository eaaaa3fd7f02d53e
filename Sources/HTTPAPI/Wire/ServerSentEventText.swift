import SchedulerCore

/// The text of `GET /api/events` on the wire (the `text/event-stream` format of the HTML
/// standard): one block per event, ended by a blank line.
public enum ServerSentEventText {
    /// `id:` (when the event has one), `event:` and `data:` with the JSON object of the
    /// contract: keys `type`, `at`, `job_id`, `run_id`, `dag_id`, `attempt`, `state`,
    /// `outcome` and `node` (the member of a `node` event), always all of them, `null` where
    /// they do not apply.
    public static func block(_ event: ChangeEvent) -> String {
        var text = ""
        if let id = event.id { text += "id: \(id)\n" }
        text += "event: \(event.kind.rawValue)\ndata: \(json(event))\n\n"
        return text
    }

    /// The reset notice: the client's `Last-Event-ID` cannot be resumed here with no gap; it
    /// must list again and follow from here.
    public static let reset = "event: reset\ndata: {\"type\":\"reset\"}\n\n"

    /// The heartbeat comment line.
    public static let heartbeat = ": hb\n\n"

    /// The data object of `event`.
    public static func json(_ event: ChangeEvent) -> String {
        "{\"type\":\(quoted(event.kind.rawValue)),\"at\":\(quoted(RFC3339.format(event.at))),"
            + "\"job_id\":\(quoted(event.jobID)),\"run_id\":\(quoted(event.runID)),\"dag_id\":\(quoted(event.dagID)),"
            + "\"attempt\":\(event.attempt.map { String($0) } ?? "null"),\"state\":\(quoted(event.state)),"
            + "\"outcome\":\(quoted(event.outcome)),\"node\":\(quoted(event.node))}"
    }

    /// A JSON string literal (or `null`): quotes, backslashes and every control character
    /// escaped, so an id can never break the line-based format.
    static func quoted(_ text: String?) -> String {
        guard let text else { return "null" }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20 || c.value == 0x2028 || c.value == 0x2029:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
