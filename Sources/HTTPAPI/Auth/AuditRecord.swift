/// One mutating API request, for the node's audit log: who (the token's name), what (the
/// route), on what (the id in the path) and how it ended (the status). The API builds it; the
/// node writes it (`quorum.audit` log lines), so this module stays free of logging.
public struct AuditRecord: Sendable, Hashable {
    /// The token's name, or `nil` on a node without tokens (or a request refused before one was
    /// proved: 401).
    public var caller: String?
    /// The route, as in the contract (`POST /api/jobs/{id}/trigger`).
    public var route: String
    /// The id the path names (job, DAG run or run), if any.
    public var id: String?
    /// The HTTP status answered.
    public var status: Int
    /// What a 201 created, as its `Location` names it (`/api/jobs/j7`), if it names one: the
    /// path id alone does not tell which job a `POST /api/jobs` made.
    public var created: String?

    /// A record.
    public init(caller: String?, route: String, id: String?, status: Int, created: String? = nil) {
        self.caller = caller
        self.route = route
        self.id = id
        self.status = status
        self.created = created
    }

    /// The audit line's text: `api write token=NAME route="POST /api/jobs/{id}/trigger" id=j7
    /// status=201` (`-` for what is absent; `created=/api/jobs/j8` after a 201 that names what it
    /// made). A value with anything but letters, digits and `-._:/{}` is quoted with its `"`, `\`
    /// and control characters escaped: the id comes from the request's path, and a newline in it
    /// must not start a forged line.
    public var line: String {
        var text = "api write token=" + Self.field(caller) + " route=" + Self.field(route) + " id=" + Self.field(id)
            + " status=" + String(status)
        if let created { text += " created=" + Self.field(created) }
        return text
    }

    private static func field(_ value: String?) -> String {
        guard let value, !value.isEmpty else { return "-" }
        if value.unicodeScalars.allSatisfy(isBare) { return value }
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            default:
                // C0 and C1 controls, and the Unicode line and paragraph separators.
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    quoted += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }

    private static func isBare(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", ".", "_", ":", "/", "{", "}": true
        default: false
        }
    }
}
