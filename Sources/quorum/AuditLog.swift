import HTTPAPI
import Logging

/// The node's audit log: one `quorum.audit` line per mutating API request (token name, route,
/// id, status), at notice level so it survives `--log-level notice` and is easy to route apart.
enum AuditLog {
    static let logger = Logger(label: "quorum.audit")

    static func write(_ record: AuditRecord) {
        logger.notice("api write", metadata: [
            "token": "\(record.caller ?? "-")", "route": "\(record.route)", "id": "\(record.id ?? "-")", "status": "\(record.status)",
        ])
    }
}
