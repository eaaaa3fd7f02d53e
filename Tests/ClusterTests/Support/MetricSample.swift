/// One sample read from a node's `/metrics` (the Prometheus text exposition), for tests that
/// watch a counter or gauge move.
enum MetricSample {
    /// The value of the sample written exactly as `series` — the name with its labels, as the
    /// exposition prints them (`quorum_quota_refusals_total{quota="pending_runs"}`) — or nil when
    /// the text has no such sample or its value is not a number.
    static func value(of series: String, in text: String) -> Double? {
        let prefix = series + " "
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            // A sample line may end in a timestamp after the value; Quorum's do not, but a
            // second field must not turn a present sample into "absent".
            let value = line.dropFirst(prefix.count).split(separator: " ").first ?? ""
            return Double(value)
        }
        return nil
    }
}

extension APIClient {
    /// The sample `series` (name and labels) of this node's `/metrics`; nil when absent.
    func metric(_ series: String) async throws -> Double? {
        MetricSample.value(of: series, in: try await get("/metrics").text)
    }
}
