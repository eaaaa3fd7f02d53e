import EgressPolicy
import Foundation
import SchedulerCore
import TOMLKit

/// Turns a cluster TOML file into a `ClusterConfig`, rejecting unknown keys, wrong types and
/// impossible values with a `ConfigError` that names the file and the key.
public enum ConfigLoader {
    /// Reads and parses the file at `path` (relative paths resolve from the working directory).
    public static func load(path: String) throws(ConfigError) -> ClusterConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, key: "", reason: "cannot read the file (\(describe(error))); check the path")
        }
        return try parse(text, file: path)
    }

    /// Parses TOML text; `file` is only used in messages.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> ClusterConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let parseError as TOMLParseError {
            throw ConfigError(
                file: "\(file):\(parseError.source.begin.line):\(parseError.source.begin.column)", key: "",
                reason: "not valid TOML: \(parseError.description)")
        } catch {
            throw ConfigError(file: file, key: "", reason: "not valid TOML: \(error)")
        }
        var root = StrictTable(table, path: "", file: file)
        let config = try readRoot(&root, file: file)
        try root.finish()
        return config
    }

    private static func readRoot(_ root: inout StrictTable, file: String) throws(ConfigError) -> ClusterConfig {
        guard var clusterTable = try root.table("cluster") else {
            throw ConfigError(file: file, key: "cluster", reason: "missing; add a [cluster] table with a name")
        }
        guard let name = try clusterTable.string("name") else {
            throw clusterTable.error("name", "missing; give the cluster a name")
        }
        var cpuScheduling = ClusterConfig.Defaults.cpuScheduling
        if let text = try clusterTable.string("cpu_scheduling") {
            guard let policy = ClusterConfig.CPUScheduling(rawValue: text) else {
                throw clusterTable.error("cpu_scheduling", "is \"\(text)\"; use \"batch\" (the default: the node's threads run as "
                    + "SCHED_BATCH) or \"inherit\" (the policy the process was started with)")
            }
            cpuScheduling = policy
        }
        let cluster = ClusterConfig.Cluster(
            name: name, dataDir: try clusterTable.string("data_dir") ?? ClusterConfig.Defaults.dataDir,
            digestIntervalEntries: try clusterTable.int("digest_interval_entries") ?? ClusterConfig.Defaults.digestIntervalEntries,
            cpuScheduling: cpuScheduling)
        try clusterTable.finish()

        var raft = ClusterConfig.Raft()
        if var raftTable = try root.table("raft") {
            if let heartbeat = try raftTable.int("heartbeat_ms") { raft.heartbeatMilliseconds = heartbeat }
            if let range = try raftTable.intArray("election_timeout_ms") {
                guard range.count == 2 else {
                    throw raftTable.error("election_timeout_ms", "expected [MIN, MAX] (two integers), found \(range.count) values")
                }
                guard range[0] <= range[1] else {
                    throw raftTable.error("election_timeout_ms", "MIN \(range[0]) is above MAX \(range[1])")
                }
                raft.electionTimeoutMilliseconds = range[0]...range[1]
            }
            if let maxEntry = try raftTable.int("max_entry_bytes") { raft.maxEntryBytes = maxEntry }
            try raftTable.finish()
        }

        var tls = ClusterConfig.TLS()
        if var tlsTable = try root.table("tls") {
            if let ca = try tlsTable.string("ca") { tls.ca = ca }
            if let cert = try tlsTable.string("cert") { tls.cert = cert }
            if let key = try tlsTable.string("key") { tls.key = key }
            try tlsTable.finish()
        }

        var executor = ClusterConfig.Executor()
        if var executorTable = try root.table("executor") {
            if let slots = try executorTable.int("slots") { executor.slots = slots }
            if let prefetch = try executorTable.int("prefetch") { executor.prefetch = prefetch }
            if let allowShell = try executorTable.bool("allow_shell") { executor.allowShell = allowShell }
            if let patterns = try executorTable.stringArray("shell_allow") { executor.shellAllow = patterns }
            executor.workdirRoot = try executorTable.string("workdir_root")
            executor.runAs = try executorTable.string("run_as")
            if let lease = try executorTable.int("lease_ms") { executor.leaseMilliseconds = lease }
            if let grace = try executorTable.int("shutdown_grace_ms") { executor.shutdownGraceMilliseconds = grace }
            if let grace = try executorTable.int("kill_grace_ms") { executor.killGraceMilliseconds = grace }
            if let margin = try executorTable.int("lease_margin_ms") { executor.leaseMarginMilliseconds = margin }
            if let files = try executorTable.int("output_files") { executor.outputFiles = files }
            if let bytes = try executorTable.int("output_bytes") { executor.outputBytes = bytes }
            executor.httpDeny = try networks("http_deny", &executorTable)
            executor.httpAllow = try networks("http_allow", &executorTable)
            try executorTable.finish()
        }

        var api = ClusterConfig.API()
        if var apiTable = try root.table("api") {
            if let tokensFile = try apiTable.string("tokens_file") {
                guard !tokensFile.isEmpty else { throw apiTable.error("tokens_file", "empty; give a path, or remove the key") }
                api.tokensFile = tokensFile
            }
            if let metricsPublic = try apiTable.bool("metrics_public") { api.metricsPublic = metricsPublic }
            if let insecure = try apiTable.bool("insecure") { api.insecure = insecure }
            api.tlsCert = try apiTable.string("tls_cert")
            api.tlsKey = try apiTable.string("tls_key")
            api.clientCA = try apiTable.string("client_ca")
            if (api.tlsCert == nil) != (api.tlsKey == nil) {
                throw apiTable.error(api.tlsCert == nil ? "tls_cert" : "tls_key",
                                     "missing: give both tls_cert and tls_key to serve the API over TLS, or neither")
            }
            if api.clientCA != nil, api.tlsCert == nil {
                throw apiTable.error("client_ca", "client certificates need TLS: set tls_cert and tls_key too")
            }
            if let rate = try apiTable.int("rate_limit_per_token") {
                guard (1...1_000_000).contains(rate) else {
                    throw apiTable.error("rate_limit_per_token", "\(rate) is out of range 1-1000000 requests per second; remove the key for no limit")
                }
                api.rateLimitPerToken = rate
            }
            if let reads = try apiTable.int("max_concurrent_reads") {
                guard ClusterConfig.Limits.concurrentReads.contains(reads) else {
                    throw apiTable.error("max_concurrent_reads", "\(reads) is out of range 1-1024 list reads at once")
                }
                api.maxConcurrentReads = reads
            }
            if let reads = try apiTable.int("max_queued_reads") {
                guard ClusterConfig.Limits.queuedReads.contains(reads) else {
                    throw apiTable.error("max_queued_reads", "\(reads) is out of range 0-100000 waiting list reads")
                }
                api.maxQueuedReads = reads
            }
            if let percent = try apiTable.int("max_read_cpu_percent") {
                guard ClusterConfig.Limits.readCPUPercent.contains(percent) else {
                    throw apiTable.error("max_read_cpu_percent", "\(percent) is out of range 0-100 percent of one core "
                                         + "(list reads run on one thread; 0: no CPU budget for list reads)")
                }
                api.maxReadCPUPercent = percent
            }
            if let origins = try apiTable.stringArray("cors_origins") {
                for origin in origins where !Self.isWebOrigin(origin) {
                    throw apiTable.error("cors_origins", "'\(origin)' is not a web origin: write scheme://host[:port], "
                                         + "e.g. \"https://ops.example.com\" (no path, no trailing slash)")
                }
                api.corsOrigins = origins
            }
            if var limitsTable = try apiTable.table("limits") {
                api.limits = try requestLimits(&limitsTable)
                try limitsTable.finish()
            }
            try apiTable.finish()
        }

        var scheduler = ClusterConfig.Scheduler()
        if var schedulerTable = try root.table("scheduler") {
            if let retention = try schedulerTable.int("retention_seconds") { scheduler.retentionSeconds = retention }
            if let limit = try schedulerTable.int("history_limit") { scheduler.historyLimit = limit }
            try schedulerTable.finish()
        }

        var events = ClusterConfig.Events()
        if var eventsTable = try root.table("events") {
            if let window = try eventsTable.int("window") { events.window = window }
            if let buffer = try eventsTable.int("buffer") { events.buffer = buffer }
            if let heartbeat = try eventsTable.int("heartbeat_seconds") { events.heartbeatSeconds = heartbeat }
            if let streams = try eventsTable.int("max_streams") { events.maxStreams = streams }
            if let streams = try eventsTable.int("max_streams_per_token") { events.maxStreamsPerToken = streams }
            try eventsTable.finish()
        }
        let notify = try readNotify(&root)

        var quotas = ClusterConfig.Quotas()
        if var quotasTable = try root.table("quotas") {
            if let pending = try quotasTable.int("max_pending_jobs") { quotas.maxPendingJobs = pending }
            if let bytes = try quotasTable.int("max_state_bytes") { quotas.maxStateBytes = bytes }
            if let rate = try quotasTable.int("submissions_per_second_per_token") { quotas.submissionsPerSecondPerToken = rate }
            try quotasTable.finish()
        }

        guard let nodeTables = try root.tableArray("nodes"), !nodeTables.isEmpty else {
            throw ConfigError(file: file, key: "nodes", reason: "missing; add one [[nodes]] table per member")
        }
        var nodes: [ClusterConfig.Node] = []
        for var nodeTable in nodeTables {
            nodes.append(try readNode(&nodeTable))
            try nodeTable.finish()
        }
        var config = ClusterConfig(cluster: cluster, raft: raft, tls: tls, executor: executor, api: api, scheduler: scheduler,
                                   events: events, notify: notify, nodes: nodes)
        config.quotas = quotas
        return config
    }

    /// `[api.limits]`: each key within its allowed range; `default_page_size` at most `max_page_size`.
    private static func requestLimits(_ table: inout StrictTable) throws(ConfigError) -> APIRequestLimits {
        var limits = APIRequestLimits()
        for limit in APIRequestLimit.allCases {
            guard let value = try table.int(limit.key) else { continue }
            guard limit.allowed.contains(value) else {
                throw table.error(limit.key, "\(value) is out of range \(limit.allowed.lowerBound)-\(limit.allowed.upperBound) "
                    + "(default \(limit.defaultValue)); remove the key for the default")
            }
            limits[limit] = value
        }
        guard limits[.defaultPageSize] <= limits[.maxPageSize] else {
            throw table.error(APIRequestLimit.defaultPageSize.key, "\(limits[.defaultPageSize]) is above max_page_size "
                + "(\(limits[.maxPageSize])): a page without `limit` must be a page the API allows")
        }
        return limits
    }

    /// A list of CIDRs; a bad entry is an error naming the key, its index and the entry.
    private static func networks(_ key: String, _ table: inout StrictTable) throws(ConfigError) -> [IPNetwork] {
        guard let entries = try table.stringArray(key) else { return [] }
        var result: [IPNetwork] = []
        for (index, entry) in entries.enumerated() {
            switch IPNetwork.parse(entry) {
            case .success(let network): result.append(network)
            case .failure(let failure): throw table.error("\(key)[\(index)]", "\"\(entry)\" is not a CIDR: \(failure.reason)")
            }
        }
        return result
    }

    /// `http(s)://host[:port]` with no path: what a browser sends as `Origin`.
    static func isWebOrigin(_ text: String) -> Bool {
        let lower = text.lowercased()
        guard let rest = ["http://", "https://"].first(where: lower.hasPrefix).map({ String(lower.dropFirst($0.count)) }) else {
            return false
        }
        return !rest.isEmpty && !rest.contains("/") && !rest.contains("?") && !rest.contains("#") && !rest.contains("@")
            && !rest.hasPrefix(":")
    }

    private static func readNode(_ table: inout StrictTable) throws(ConfigError) -> ClusterConfig.Node {
        guard let id = try table.string("id") else {
            throw table.error("id", "missing; every node needs an id such as \"n1\"")
        }
        func address(_ key: String, _ table: inout StrictTable) throws(ConfigError) -> NodeAddress {
            guard let text = try table.string(key) else {
                throw table.error(key, "missing; write it as \"HOST:PORT\", e.g. \"127.0.0.1:7001\"")
            }
            switch NodeAddress.parse(text) {
            case .success(let address): return address
            case .failure(let failure): throw table.error(key, "\"\(text)\" is not an address: \(failure.reason)")
            }
        }
        let raft = try address("raft", &table)
        let api = try address("api", &table)
        let voter = try table.bool("voter") ?? true
        let labels = try table.stringTable("labels") ?? [:]
        if let problem = NodeLabelRules.problem(labels: labels) {
            throw table.error(problem.key.map { "labels.\($0)" } ?? "labels", problem.message)
        }
        return ClusterConfig.Node(id: id, raft: raft, api: api, voter: voter, labels: labels)
    }

    private static func describe(_ error: any Error) -> String {
        let text = (error as NSError).localizedDescription
        return text.isEmpty ? String(describing: error) : text
    }
}
