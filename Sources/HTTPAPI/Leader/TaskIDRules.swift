/// What a DAG task id submitted over the API may look like.
///
/// A task's run id is `<DAG run id>.<task id>` and goes into URL paths
/// (`/api/dlq/{run_id}/requeue`), so task ids keep to RFC 3986's unreserved characters: the
/// run id then needs no escaping. Checked by the API only, never when the log replays, so
/// DAGs accepted before the rule keep working.
enum TaskIDRules {
    /// Longest task id, in bytes.
    static let maxBytes = 128

    /// A sentence for error messages.
    static let description = "use 1 to \(maxBytes) letters, digits, '-', '_', '.' or '~'"

    /// Whether `id` follows the rules.
    static func isValid(_ id: String) -> Bool {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= maxBytes else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                true
            default:
                false
            }
        }
    }
}
