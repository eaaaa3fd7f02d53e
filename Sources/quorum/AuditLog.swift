import HTTPAPI
import Logging

/// The node's audit log: one `quorum.audit` line per mutating API request (token name, route,
/// id, status, what a 201 created), at notice level so it survives `--log-level notice` and is
/// easy to route apart.
///
/// The fields are the message (``AuditRecord/line``), not logger metadata: the line reads as
/// docs/security.md shows it, and a write skips building, sorting and rendering a metadata
/// dictionary — that was about 1 % of a leader's CPU at 6,000 writes/s (docs/benchmarks.md).
enum AuditLog {
    static let logger = Logger(label: "quorum.audit")

    static func write(_ record: AuditRecord) {
        logger.notice(Logger.Message(stringLiteral: record.line))
    }
}
