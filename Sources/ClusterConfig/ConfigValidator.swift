import EgressPolicy

/// Semantic checks on a parsed `ClusterConfig`: what TOML's types cannot say.
///
/// `validate` throws the first error (a node must not start on a config with any) and returns the
/// warnings, which an operator should fix but which do not stop a node.
public enum ConfigValidator {
    /// The smallest allowed ratio of the election timeout to the heartbeat interval. Below it, a
    /// follower may start an election while a healthy leader's heartbeat is merely delayed by a
    /// scheduling hiccup (etcd enforces the same factor of 5).
    public static let minimumElectionToHeartbeatRatio = 5

    /// Checks `config` and returns its warnings, or throws the first error found.
    public static func validate(_ config: ClusterConfig, file: String) throws(ConfigError) -> [ConfigWarning] {
        var warnings: [ConfigWarning] = []
        func fail(_ key: String, _ reason: String) -> ConfigError {
            ConfigError(file: file, key: key, reason: reason)
        }

        if config.cluster.name.isEmpty { throw fail("cluster.name", "must not be empty") }
        if config.cluster.dataDir.isEmpty { throw fail("cluster.data_dir", "must not be empty") }
        let digestInterval = config.cluster.digestIntervalEntries
        let minimumDigestInterval = ClusterConfig.Defaults.minimumDigestIntervalEntries
        if digestInterval != 0 && !(minimumDigestInterval...1_000_000_000).contains(digestInterval) {
            throw fail("cluster.digest_interval_entries", "is \(digestInterval); use 0 (no replica check) or "
                + "\(minimumDigestInterval)–1000000000 applied entries between digests (the default is "
                + "\(ClusterConfig.Defaults.digestIntervalEntries))")
        }
        if config.nodes.count > 1 && !config.cluster.dataDir.contains("{id}") {
            warnings.append(
                ConfigWarning(
                    file: file, key: "cluster.data_dir",
                    reason: "has no {id}: nodes on the same machine would share one data directory"))
        }

        let heartbeat = config.raft.heartbeatMilliseconds
        let election = config.raft.electionTimeoutMilliseconds
        guard (1...60_000).contains(heartbeat) else {
            throw fail("raft.heartbeat_ms", "\(heartbeat) is out of range 1-60000")
        }
        guard election.lowerBound >= heartbeat * minimumElectionToHeartbeatRatio else {
            throw fail(
                "raft.election_timeout_ms",
                "the minimum \(election.lowerBound) ms must be at least \(minimumElectionToHeartbeatRatio)× the heartbeat (\(heartbeat * minimumElectionToHeartbeatRatio) ms); raise it or lower raft.heartbeat_ms"
            )
        }
        if election.lowerBound == election.upperBound {
            warnings.append(
                ConfigWarning(
                    file: file, key: "raft.election_timeout_ms",
                    reason: "MIN equals MAX: without a random spread, candidates split votes more often"))
        }
        guard election.upperBound <= 600_000 else {
            throw fail("raft.election_timeout_ms", "the maximum \(election.upperBound) ms is above 600000")
        }

        let maxEntry = config.raft.maxEntryBytes
        let largestEntry = ClusterConfig.Limits.peerFrameBytes - ClusterConfig.Limits.entryEnvelopeBytes
        guard maxEntry >= ClusterConfig.Limits.minimumMaxEntryBytes else {
            throw fail("raft.max_entry_bytes", "\(maxEntry) is below \(ClusterConfig.Limits.minimumMaxEntryBytes) (1 MiB): "
                + "a single job of the largest single request must fit in one entry")
        }
        guard maxEntry <= largestEntry else {
            throw fail("raft.max_entry_bytes", "\(maxEntry) plus the \(ClusterConfig.Limits.entryEnvelopeBytes)-byte message "
                + "envelope is above the \(ClusterConfig.Limits.peerFrameBytes)-byte peer frame limit: such an entry could "
                + "never be sent to a follower; use at most \(largestEntry) (the default is \(ClusterConfig.Defaults.maxEntryBytes))")
        }

        for (key, template) in [("tls.ca", config.tls.ca), ("tls.cert", config.tls.cert), ("tls.key", config.tls.key)]
        where template.isEmpty {
            throw fail(key, "must not be empty")
        }
        if config.nodes.count > 1 {
            for (key, template) in [("tls.cert", config.tls.cert), ("tls.key", config.tls.key)] where !template.contains("{id}") {
                throw fail(key, "must contain {id}: every node has its own certificate and key")
            }
        }

        let retention = ClusterConfig.Limits.retentionSeconds
        guard retention.contains(config.scheduler.retentionSeconds) else {
            throw fail("scheduler.retention_seconds", "\(config.scheduler.retentionSeconds) is out of range "
                + "\(retention.lowerBound)-\(retention.upperBound) seconds (one minute to ten years)")
        }
        guard ClusterConfig.Limits.historyLimit.contains(config.scheduler.historyLimit) else {
            throw fail("scheduler.history_limit", "\(config.scheduler.historyLimit) is out of range 1-1000 finished runs per job")
        }
        if let problem = EventsValidator.problem(config.events) { throw fail(problem.key, problem.reason) }
        if let problem = NotifyValidator.problem(config.notify) { throw fail(problem.key, problem.reason) }
        let connections = config.api.limits[.maxConnections]
        guard config.events.maxStreams < connections else {
            throw fail("events.max_streams", "\(config.events.maxStreams) must be below api.limits.max_connections (\(connections)), "
                + "or event streams alone could take every connection and the node would stop answering requests")
        }
        if let problem = QuotasValidator.problem(config.quotas) { throw fail(problem.key, problem.reason) }
        guard (0...1024).contains(config.executor.slots) else {
            throw fail("executor.slots", "\(config.executor.slots) is out of range 0-1024")
        }
        guard (0...1024).contains(config.executor.prefetch) else {
            throw fail("executor.prefetch", "\(config.executor.prefetch) is out of range 0-1024 held assignments per executor")
        }
        let heldPerSlot = ClusterConfig.Limits.prefetchPerSlot
        guard config.executor.prefetch <= heldPerSlot * config.executor.slots else {
            // Each held round of slots ahead of an assignment adds to the deadline the leader
            // stamps for it (docs/node.md, "Held assignments").
            throw fail("executor.prefetch", "\(config.executor.prefetch) is more than \(heldPerSlot * config.executor.slots) "
                + "(executor.slots × \(heldPerSlot): an executor holds at most \(heldPerSlot) per slot); lower prefetch or raise slots")
        }
        guard (500...600_000).contains(config.executor.leaseMilliseconds) else {
            throw fail("executor.lease_ms", "\(config.executor.leaseMilliseconds) is out of range 500-600000")
        }
        guard config.executor.leaseMilliseconds >= 5 * config.raft.heartbeatMilliseconds else {
            throw fail("executor.lease_ms", "\(config.executor.leaseMilliseconds) must be at least 5 × raft.heartbeat_ms "
                + "(\(5 * config.raft.heartbeatMilliseconds)), or a busy network fences executors needlessly")
        }
        guard (0...3_600_000).contains(config.executor.shutdownGraceMilliseconds) else {
            throw fail("executor.shutdown_grace_ms", "\(config.executor.shutdownGraceMilliseconds) is out of range 0-3600000")
        }
        guard (0...600_000).contains(config.executor.killGraceMilliseconds) else {
            throw fail("executor.kill_grace_ms", "\(config.executor.killGraceMilliseconds) is out of range 0-600000")
        }
        try ShellSettingsValidator.validate(config.executor, fail: fail)
        let outputFiles = ClusterConfig.Limits.outputFiles
        guard outputFiles.contains(config.executor.outputFiles) else {
            throw fail("executor.output_files", "\(config.executor.outputFiles) is out of range "
                + "\(outputFiles.lowerBound)-\(outputFiles.upperBound) stored output tails")
        }
        let outputBytes = ClusterConfig.Limits.outputBytes
        guard outputBytes.contains(config.executor.outputBytes) else {
            throw fail("executor.output_bytes", "\(config.executor.outputBytes) is out of range "
                + "\(outputBytes.lowerBound)-\(outputBytes.upperBound) bytes (64 KiB, one full tail, to 64 GiB)")
        }
        if let margin = config.executor.leaseMarginMilliseconds {
            let electionMax = config.raft.electionTimeoutMilliseconds.upperBound
            let least = config.executor.minimumFencingMarginMilliseconds(electionTimeoutMaxMilliseconds: electionMax)
            guard margin >= least, margin <= 3_600_000 else {
                throw fail("executor.lease_margin_ms", "\(margin) must be between kill_grace_ms + the largest election timeout "
                    + "(\(config.executor.killGraceMilliseconds) + \(electionMax) = \(least)) and 3600000: with less, a cut-off "
                    + "executor's task may still be running when the leader retries it elsewhere; raise it or remove it to "
                    + "use the derived margin")
            }
        }

        var firstUseOfID: [String: Int] = [:]
        var firstUseOfAddress: [NodeAddress: String] = [:]
        for (offset, node) in config.nodes.enumerated() {
            let prefix = "nodes[\(offset)]"
            guard NodeIDRules.isValid(node.id) else {
                throw fail("\(prefix).id", "\"\(node.id)\" is not a valid node id: \(NodeIDRules.description)")
            }
            if let first = firstUseOfID[node.id] {
                throw fail("\(prefix).id", "\"\(node.id)\" is already the id of nodes[\(first)]; ids must be unique")
            }
            firstUseOfID[node.id] = offset
            for (kind, address) in [("raft", node.raft), ("api", node.api)] {
                if let first = firstUseOfAddress[address] {
                    throw fail("\(prefix).\(kind)", "\"\(address)\" is already used by \(first); every address must be unique")
                }
                firstUseOfAddress[address] = "\(prefix).\(kind)"
            }
        }

        let denyRules = config.executor.httpAddressPolicy.deny
        for (index, entry) in config.executor.httpAllow.enumerated() where !denyRules.contains(where: { $0.network.overlaps(entry) }) {
            warnings.append(
                ConfigWarning(
                    file: file, key: "executor.http_allow[\(index)]",
                    reason: "\(entry) is in no denied range (built-in or http_deny), so allowing it changes nothing; remove it"))
        }

        let voterCount = config.voters.count
        guard voterCount > 0 else {
            throw fail("nodes", "no node is a voter; at least one needs voter = true")
        }
        if voterCount % 2 == 0 {
            warnings.append(
                ConfigWarning(
                    file: file, key: "nodes",
                    reason: "\(voterCount) voters: an even number tolerates no more failures than \(voterCount - 1) and needs a larger quorum; use an odd number"
                ))
        }
        return warnings
    }
}

/// What a node id may look like. Ids go into TLS certificates and file names, so they are
/// restricted to a DNS label: lowercase letters, digits and inner hyphens, at most 63 characters.
public enum NodeIDRules {
    /// A sentence for error messages.
    public static let description = "use 1-63 lowercase letters, digits or '-', starting and ending with a letter or digit"

    /// Whether `id` follows the rules.
    public static func isValid(_ id: String) -> Bool {
        let scalars = Array(id.unicodeScalars)
        guard (1...63).contains(scalars.count) else { return false }
        func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
        }
        guard let first = scalars.first, let last = scalars.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return false
        }
        return scalars.allSatisfy { isAlphanumeric($0) || $0 == "-" }
    }
}
