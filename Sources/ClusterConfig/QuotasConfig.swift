extension ClusterConfig {
    /// `[quotas]`: admission limits that refuse a flood before it exhausts a node (issue #19,
    /// docs/configuration.md). Checked before a creating request is proposed — by the node that
    /// receives it and by the leader — never by apply: a replica applies whatever was committed,
    /// so nodes with different values still agree on the state.
    public struct Quotas: Sendable, Equatable {
        /// `max_pending_jobs`: how many runs may be waiting or running at once (pending, queued
        /// or running, cluster-wide). A creating request that would go past it is refused with
        /// 429 `quota_exceeded`; a batch counts each of its jobs.
        public var maxPendingJobs: Int
        /// `max_state_bytes`: the largest estimated scheduler state a node accepts creating
        /// requests under; above it they are refused with 507 `insufficient_storage`.
        public var maxStateBytes: Int
        /// `submissions_per_second_per_token`: creating requests (POST jobs, batch, DAGs,
        /// trigger, requeue) each token may make per second on one node, bursts of as many;
        /// `nil`, no limit. Separate from `[api] rate_limit_per_token`, which counts every request.
        public var submissionsPerSecondPerToken: Int?

        /// The defaults, or the given values (checked by the validator, not here).
        public init(maxPendingJobs: Int = Defaults.maxPendingJobs, maxStateBytes: Int = Defaults.maxStateBytes,
                    submissionsPerSecondPerToken: Int? = nil) {
            self.maxPendingJobs = maxPendingJobs
            self.maxStateBytes = maxStateBytes
            self.submissionsPerSecondPerToken = submissionsPerSecondPerToken
        }
    }
}

extension ClusterConfig.Limits {
    /// `[quotas] max_pending_jobs`: 1 to 100,000,000 runs.
    public static let maxPendingJobs: ClosedRange<Int> = 1...100_000_000
    /// `[quotas] max_state_bytes`: 1 MiB to 1 TiB.
    public static let maxStateBytes: ClosedRange<Int> = (1 << 20)...(1 << 40)
    /// `[quotas] submissions_per_second_per_token`: 1 to 1,000,000.
    public static let submissionsPerSecondPerToken: ClosedRange<Int> = 1...1_000_000
}

extension ClusterConfig.Defaults {
    /// 1,000,000 runs (about 850 MiB of state when all are pending: docs/benchmarks.md).
    public static let maxPendingJobs = 1_000_000
    /// 2 GiB.
    public static let maxStateBytes = 2 << 30
}

/// Checks `[quotas]`.
enum QuotasValidator {
    /// The first problem of `quotas`, as (key, reason).
    static func problem(_ quotas: ClusterConfig.Quotas) -> (key: String, reason: String)? {
        let pending = ClusterConfig.Limits.maxPendingJobs
        guard pending.contains(quotas.maxPendingJobs) else {
            return ("quotas.max_pending_jobs", "\(quotas.maxPendingJobs) is out of range \(pending.lowerBound)-\(pending.upperBound) runs")
        }
        let bytes = ClusterConfig.Limits.maxStateBytes
        guard bytes.contains(quotas.maxStateBytes) else {
            return ("quotas.max_state_bytes", "\(quotas.maxStateBytes) is out of range \(bytes.lowerBound)-\(bytes.upperBound) bytes (1 MiB-1 TiB)")
        }
        let rate = ClusterConfig.Limits.submissionsPerSecondPerToken
        if let perSecond = quotas.submissionsPerSecondPerToken, !rate.contains(perSecond) {
            return ("quotas.submissions_per_second_per_token", "\(perSecond) is out of range \(rate.lowerBound)-\(rate.upperBound) "
                + "submissions per second; remove the key for no limit")
        }
        return nil
    }
}
