import Testing

@testable import ClusterConfig

@Suite("Config: [quotas]")
struct QuotasConfigTests {
    @Test("1,000,000 pending jobs, 2 GiB of state and no submission rate by default; each key takes a value in range")
    func defaultsAndValues() throws {
        let defaults = try ConfigLoader.parse(validConfig, file: "c.toml").quotas
        #expect(defaults == ClusterConfig.Quotas(maxPendingJobs: 1_000_000, maxStateBytes: 2 << 30, submissionsPerSecondPerToken: nil))
        let text = validConfig + "\n[quotas]\nmax_pending_jobs = 5\nmax_state_bytes = 1048576\nsubmissions_per_second_per_token = 3\n"
        #expect(try ConfigLoader.parse(text, file: "c.toml").quotas
            == ClusterConfig.Quotas(maxPendingJobs: 5, maxStateBytes: 1 << 20, submissionsPerSecondPerToken: 3))
        #expect(configError(text) == nil)
    }

    @Test("out of range: an error naming the key and the range", arguments: [
        ("max_pending_jobs = 0", "quotas.max_pending_jobs", "1-100000000"),
        ("max_pending_jobs = 100000001", "quotas.max_pending_jobs", "1-100000000"),
        ("max_state_bytes = 1048575", "quotas.max_state_bytes", "1 MiB-1 TiB"),
        ("max_state_bytes = 1099511627777", "quotas.max_state_bytes", "1 MiB-1 TiB"),
        ("submissions_per_second_per_token = 0", "quotas.submissions_per_second_per_token", "1-1000000"),
        ("submissions_per_second_per_token = 1000001", "quotas.submissions_per_second_per_token", "remove the key"),
    ])
    func outOfRange(_ line: String, _ key: String, _ range: String) {
        let error = configError(validConfig + "\n[quotas]\n\(line)\n")
        #expect(error?.key == key)
        #expect(error?.reason.contains(range) == true, "\(String(describing: error?.reason))")
    }

    @Test("an unknown key in [quotas] is refused")
    func unknownKey() {
        #expect(configError(validConfig + "\n[quotas]\nmax_jobs = 5\n")?.key == "quotas.max_jobs")
    }
}
