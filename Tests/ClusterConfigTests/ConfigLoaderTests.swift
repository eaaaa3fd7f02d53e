import Testing

@testable import ClusterConfig

/// A minimal valid config to mutate in tests.
let validConfig = """
    [cluster]
    name = "t"
    data_dir = "data/{id}"

    [raft]
    heartbeat_ms = 50
    election_timeout_ms = [300, 600]

    [executor]
    slots = 2
    allow_shell = false

    [[nodes]]
    id = "n1"
    raft = "127.0.0.1:7001"
    api = "127.0.0.1:8080"

    [[nodes]]
    id = "n2"
    raft = "127.0.0.1:7002"
    api = "127.0.0.1:8081"

    [[nodes]]
    id = "n3"
    raft = "127.0.0.1:7003"
    api = "127.0.0.1:8082"
    voter = false
    """

/// Parses and validates, returning the first error, or nil when the text is a valid config.
func configError(_ text: String) -> ConfigError? {
    do {
        let config = try ConfigLoader.parse(text, file: "c.toml")
        _ = try ConfigValidator.validate(config, file: "c.toml")
        return nil
    } catch {
        return error
    }
}

@Suite("Config loading")
struct ConfigLoaderTests {
    @Test("a valid config parses into typed values with defaults")
    func parsesValidConfig() throws {
        let config = try ConfigLoader.parse(validConfig, file: "c.toml")
        #expect(config.cluster.name == "t")
        #expect(config.raft.heartbeatMilliseconds == 50)
        #expect(config.raft.electionTimeoutMilliseconds == 300...600)
        #expect(config.tls == ClusterConfig.TLS())
        #expect(config.executor == ClusterConfig.Executor(slots: 2, allowShell: false))
        #expect(config.nodes.map(\.id) == ["n1", "n2", "n3"])
        #expect(config.nodes[0].raft == NodeAddress(host: "127.0.0.1", port: 7001))
        #expect(config.nodes[2].voter == false)
        #expect(config.voters.map(\.id) == ["n1", "n2"])
    }

    @Test("optional sections take their defaults")
    func defaults() throws {
        let config = try ConfigLoader.parse(
            """
            [cluster]
            name = "solo"
            [[nodes]]
            id = "n1"
            raft = "127.0.0.1:7001"
            api = "127.0.0.1:8080"
            """, file: "c.toml")
        #expect(config.cluster.dataDir == "data/{id}")
        #expect(config.raft == ClusterConfig.Raft())
        #expect(config.raft.maxEntryBytes == 4 << 20)
        #expect(config.executor.slots == 4)
        #expect(config.executor.allowShell == false)
        #expect(config.executor.leaseMilliseconds == 5_000)
        #expect(config.executor.shutdownGraceMilliseconds == 10_000)
        #expect(config.executor.killGraceMilliseconds == 5_000)
        #expect(config.api == ClusterConfig.API(tokensFile: nil, metricsPublic: false))
        #expect(try ConfigValidator.validate(config, file: "c.toml").isEmpty)
    }

    @Test("a node whose API listens beyond loopback needs tokens and TLS, or [api] insecure = true (then a warning)")
    func safeByDefault() throws {
        func node(api: String, extra: String) throws -> NodeRuntimeConfig {
            let config = try ConfigLoader.parse("""
                [cluster]
                name = "solo"
                [api]
                \(extra)
                [[nodes]]
                id = "n1"
                raft = "127.0.0.1:7001"
                api = "\(api)"
                """, file: "c.toml")
            return try NodeRuntimeConfig.resolve(config, id: "n1", file: "c.toml", environment: [:], workingDirectory: "/q")
        }
        #expect(try node(api: "127.0.0.1:8080", extra: "").unsafeAPIRefusal == nil)
        #expect(try node(api: "localhost:8080", extra: "").unsafeAPIRefusal == nil)
        let open = try node(api: "0.0.0.0:8080", extra: "")
        #expect(open.unsafeAPIRefusal?.contains("without tokens or TLS") == true)
        #expect(try node(api: "10.0.0.5:8080", extra: #"tokens_file = "t""#).unsafeAPIRefusal?.contains("without TLS") == true)
        let protected = try node(api: "10.0.0.5:8080", extra: "tokens_file = \"t\"\ntls_cert = \"c\"\ntls_key = \"k\"")
        #expect(protected.unsafeAPIRefusal == nil && protected.insecureAPIWarning == nil)
        let insecure = try node(api: "0.0.0.0:8080", extra: "insecure = true")
        #expect(insecure.unsafeAPIRefusal == nil)
        #expect(insecure.insecureAPIWarning == "[api] insecure = true: the API on 0.0.0.0:8080 is served without tokens or TLS")
    }

    @Test("[api] takes tokens_file (a path template, resolved per node) and metrics_public; an unknown key is refused")
    func apiSection() throws {
        let text = """
            [cluster]
            name = "solo"
            [api]
            tokens_file = "secrets/{id}.tokens"
            metrics_public = true
            [[nodes]]
            id = "n1"
            raft = "127.0.0.1:7001"
            api = "127.0.0.1:8080"
            """
        let config = try ConfigLoader.parse(text, file: "c.toml")
        #expect(config.api == ClusterConfig.API(tokensFile: "secrets/{id}.tokens", metricsPublic: true))
        let node = try NodeRuntimeConfig.resolve(config, id: "n1", file: "c.toml", environment: [:], workingDirectory: "/srv/q")
        #expect(node.tokensFile == "/srv/q/secrets/n1.tokens")
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(text.replacingOccurrences(of: "metrics_public", with: "metrics_open"), file: "c.toml")
        }
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(text.replacingOccurrences(of: "\"secrets/{id}.tokens\"", with: "\"\""), file: "c.toml")
        }
        let limited = text.replacingOccurrences(of: "metrics_public = true", with: "rate_limit_per_token = 50")
        #expect(try ConfigLoader.parse(limited, file: "c.toml").api.rateLimitPerToken == 50)
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(text.replacingOccurrences(of: "metrics_public = true", with: "rate_limit_per_token = 0"), file: "c.toml")
        }
        #expect(config.api.maxConcurrentReads == 1 && config.api.maxQueuedReads == 64)
        let gated = text.replacingOccurrences(of: "metrics_public = true", with: "max_concurrent_reads = 4\nmax_queued_reads = 0")
        #expect(try ConfigLoader.parse(gated, file: "c.toml").api.maxConcurrentReads == 4)
        #expect(try ConfigLoader.parse(gated, file: "c.toml").api.maxQueuedReads == 0)
        #expect(config.api.maxReadCPUPercent == 25)
        let unbudgeted = text.replacingOccurrences(of: "metrics_public = true", with: "max_read_cpu_percent = 0")
        #expect(try ConfigLoader.parse(unbudgeted, file: "c.toml").api.maxReadCPUPercent == 0)
        do {
            _ = try ConfigLoader.parse(text.replacingOccurrences(of: "metrics_public = true", with: "max_read_cpu_percent = 101"), file: "c.toml")
            Issue.record("max_read_cpu_percent = 101 was accepted")
        } catch {
            #expect("\(error)".contains("max_read_cpu_percent") && "\(error)".contains("0-100"), "\(error)")
        }
        for bad in ["max_concurrent_reads = 0", "max_concurrent_reads = 1025", "max_queued_reads = -1", "max_queued_reads = 100001",
                    "max_read_cpu_percent = -1", "max_read_cpu_percent = 0.5"] {
            #expect(throws: ConfigError.self, "\(bad)") {
                try ConfigLoader.parse(text.replacingOccurrences(of: "metrics_public = true", with: bad), file: "c.toml")
            }
        }
        let withOrigins = text.replacingOccurrences(of: "metrics_public = true", with: #"cors_origins = ["https://ops.example.com", "http://localhost:3000"]"#)
        #expect(try ConfigLoader.parse(withOrigins, file: "c.toml").api.corsOrigins == ["https://ops.example.com", "http://localhost:3000"])
        for bad in ["https://ops.example.com/", "ops.example.com", "https://ops.example.com/app", "ftp://x", "https://"] {
            let config = text.replacingOccurrences(of: "metrics_public = true", with: "cors_origins = [\"\(bad)\"]")
            #expect(throws: ConfigError.self, "\(bad)") { try ConfigLoader.parse(config, file: "c.toml") }
        }
    }

    /// The leader used to expire a silent executor's attempts 2.5 s after its lease while the
    /// executor's SIGTERM→SIGKILL grace was 5 s: a slow-to-exit task could overlap its retry.
    @Test("the derived fencing margin covers the kill grace and an election timeout for any legal config",
          arguments: [(5_000, 0, 300...600), (5_000, 5_000, 300...600), (500, 60_000, 1_000...5_000), (600_000, 600_000, 300...600)])
    func fencingMargin(lease: Int, killGrace: Int, election: ClosedRange<Int>) {
        let executor = ClusterConfig.Executor(leaseMilliseconds: lease, killGraceMilliseconds: killGrace)
        let margin = executor.fencingMarginMilliseconds(electionTimeoutMaxMilliseconds: election.upperBound)
        #expect(margin >= killGrace + election.upperBound)
        #expect(margin >= executor.minimumFencingMarginMilliseconds(electionTimeoutMaxMilliseconds: election.upperBound))
        let chosen = ClusterConfig.Executor(leaseMilliseconds: lease, killGraceMilliseconds: killGrace, leaseMarginMilliseconds: 123_456)
        #expect(chosen.fencingMarginMilliseconds(electionTimeoutMaxMilliseconds: election.upperBound) == 123_456)
    }

    @Test(
        "each kind of broken config fails naming the key",
        arguments: [
            ("[raft]\nheartbeat_msec = 50", "raft.heartbeat_msec", "unknown key"),
            ("colour = \"blue\"", "colour", "unknown key"),
            ("[executor]\nslots = \"four\"", "executor.slots", "expected an integer, found string"),
            ("[executor]\nallow_shell = 1", "executor.allow_shell", "expected true or false"),
            ("[raft]\nelection_timeout_ms = [600]", "raft.election_timeout_ms", "two integers"),
            ("[raft]\nelection_timeout_ms = [600, 300]", "raft.election_timeout_ms", "above MAX"),
            ("[raft]\nelection_timeout_ms = [100, 200]", "raft.election_timeout_ms", "at least 5×"),
            ("[raft]\nheartbeat_ms = 0", "raft.heartbeat_ms", "out of range"),
            ("[executor]\nslots = -1", "executor.slots", "out of range"),
            ("[executor]\nlease_ms = 100", "executor.lease_ms", "out of range 500-600000"),
            ("[executor]\nshutdown_grace_ms = -5", "executor.shutdown_grace_ms", "out of range"),
            ("[executor]\nkill_grace_ms = -1", "executor.kill_grace_ms", "out of range 0-600000"),
            ("[executor]\nlease_margin_ms = 2500", "executor.lease_margin_ms", "kill_grace_ms + the largest election timeout"),
            ("[executor]\nkill_grace_ms = 20000\nlease_margin_ms = 10000", "executor.lease_margin_ms", "(20000 + 600 = 20600)"),
            ("[tls]\ncert = \"certs/node.pem\"", "tls.cert", "must contain {id}"),
            ("[raft]\nmax_entry_bytes = 50331648", "raft.max_entry_bytes", "above the 50331648-byte peer frame limit"),
            ("[raft]\nmax_entry_bytes = 50266113", "raft.max_entry_bytes", "use at most 50266112"),
            ("[raft]\nmax_entry_bytes = 1000", "raft.max_entry_bytes", "below 1048576"),
            ("[raft]\nmax_entry_bytes = \"4MiB\"", "raft.max_entry_bytes", "expected an integer"),
            ("[cluster]\nname = \"t\"\ndigest_interval_entries = 8", "cluster.digest_interval_entries", "use 0 (no replica check) or 16–1000000000"),
            ("[cluster]\nname = \"t\"\ndigest_interval_entries = -1", "cluster.digest_interval_entries", "is -1"),
            ("[cluster]\nname = \"t\"\ncpu_scheduling = \"fifo\"", "cluster.cpu_scheduling", "is \"fifo\"; use \"batch\""),
            ("[cluster]\nname = \"t\"\ncpu_scheduling = true", "cluster.cpu_scheduling", "expected a string"),
        ] as [(String, String, String)])
    func brokenSections(section: String, key: String, reason: String) throws {
        let text = replaceOrAppend(section, in: validConfig)
        let error = try #require(configError(text), "expected an error for \(section)")
        #expect(error.key == key)
        #expect(error.reason.contains(reason), "\(error.reason)")
        #expect(error.description.hasPrefix("c.toml: \(key): "))
    }

    @Test(
        "broken nodes fail naming the node's key",
        arguments: [
            ("id = \"n2\"", "id = \"n1\"", "nodes[1].id", "already the id of nodes[0]"),
            ("api = \"127.0.0.1:8081\"", "api = \"127.0.0.1:8080\"", "nodes[1].api", "already used by nodes[0].api"),
            ("raft = \"127.0.0.1:7002\"", "raft = \"127.0.0.1:8080\"", "nodes[1].raft", "already used by nodes[0].api"),
            ("raft = \"127.0.0.1:7002\"", "raft = \"127.0.0.1\"", "nodes[1].raft", "expected HOST:PORT"),
            ("raft = \"127.0.0.1:7002\"", "raft = \"127.0.0.1:70000\"", "nodes[1].raft", "not a number from 1 to 65535"),
            ("raft = \"127.0.0.1:7002\"", "raft = \"::1:7002\"", "nodes[1].raft", "brackets"),
            ("id = \"n2\"", "id = \"N 2\"", "nodes[1].id", "not a valid node id"),
            ("id = \"n2\"", "ide = \"n2\"", "nodes[1].id", "missing"),
            ("voter = false", "voter = \"no\"", "nodes[2].voter", "expected true or false"),
            ("voter = false", "votes = false", "nodes[2].votes", "unknown key"),
        ] as [(String, String, String, String)])
    func brokenNodes(original: String, replacement: String, key: String, reason: String) throws {
        let text = replaceFirst(original, with: replacement, afterNode: key, in: validConfig)
        let error = try #require(configError(text), "expected an error for \(replacement)")
        #expect(error.key == key)
        #expect(error.reason.contains(reason), "\(error.reason)")
    }

    @Test("max_entry_bytes parses, and the largest value that fits a peer frame with its envelope is accepted")
    func maxEntryBytes() throws {
        let largest = ClusterConfig.Limits.peerFrameBytes - ClusterConfig.Limits.entryEnvelopeBytes
        let text = replaceOrAppend("[raft]\nmax_entry_bytes = \(largest)", in: validConfig)
        let config = try ConfigLoader.parse(text, file: "c.toml")
        #expect(config.raft.maxEntryBytes == largest)
        #expect(configError(text) == nil)
        #expect(ClusterConfig.Defaults.maxEntryBytes + ClusterConfig.Limits.entryEnvelopeBytes <= ClusterConfig.Limits.peerFrameBytes)
    }

    @Test("digest_interval_entries: 10000 by default, 0 turns the replica check off, 16 is the smallest interval")
    func digestInterval() throws {
        #expect(try ConfigLoader.parse(validConfig, file: "c.toml").cluster.digestIntervalEntries == 10_000)
        for value in [0, 16, 1_000_000_000] {
            let text = replaceOrAppend("[cluster]\nname = \"t\"\ndigest_interval_entries = \(value)", in: validConfig)
            #expect(try ConfigLoader.parse(text, file: "c.toml").cluster.digestIntervalEntries == value)
            #expect(configError(text) == nil)
        }
    }

    @Test("cpu_scheduling: batch by default, inherit leaves the threads' policy alone")
    func cpuScheduling() throws {
        #expect(try ConfigLoader.parse(validConfig, file: "c.toml").cluster.cpuScheduling == .batch)
        for policy in ClusterConfig.CPUScheduling.allCases {
            let text = replaceOrAppend("[cluster]\nname = \"t\"\ncpu_scheduling = \"\(policy.rawValue)\"", in: validConfig)
            #expect(try ConfigLoader.parse(text, file: "c.toml").cluster.cpuScheduling == policy)
            #expect(configError(text) == nil)
        }
    }

    @Test("missing required parts are named")
    func missingParts() throws {
        #expect(configError("[[nodes]]\nid = \"n1\"\nraft = \"127.0.0.1:1\"\napi = \"127.0.0.1:2\"")?.key == "cluster")
        #expect(configError("[cluster]\nname = \"x\"")?.key == "nodes")
        #expect(configError("[cluster]\n[[nodes]]\nid = \"n1\"\nraft = \"127.0.0.1:1\"\napi = \"127.0.0.1:2\"")?.key == "cluster.name")
        let noVoters = """
            [cluster]
            name = "x"
            [[nodes]]
            id = "n1"
            raft = "127.0.0.1:1"
            api = "127.0.0.1:2"
            voter = false
            """
        #expect(configError(noVoters)?.key == "nodes")
    }

    @Test("invalid TOML reports the line")
    func invalidTOML() throws {
        let error = try #require(configError("[cluster]\nname = \"x\nfoo"))
        #expect(error.file.hasPrefix("c.toml:2:"))
        #expect(error.reason.contains("not valid TOML"))
    }

    @Test("an even number of voters is a warning, not an error")
    func evenVotersWarn() throws {
        let text = validConfig.replacingAll("voter = false", with: "voter = true")
            + "\n[[nodes]]\nid = \"n4\"\nraft = \"127.0.0.1:7004\"\napi = \"127.0.0.1:8083\"\n"
        let config = try ConfigLoader.parse(text, file: "c.toml")
        let warnings = try ConfigValidator.validate(config, file: "c.toml")
        #expect(warnings.map(\.key) == ["nodes"])
        #expect(warnings.first?.reason.contains("4 voters") == true)
    }

    @Test("node ids follow DNS-label rules")
    func nodeIDs() {
        for valid in ["n1", "a", "node-7", String(repeating: "a", count: 63)] { #expect(NodeIDRules.isValid(valid)) }
        for invalid in ["", "-n1", "n1-", "N1", "n_1", "n 1", "é", String(repeating: "a", count: 64)] {
            #expect(!NodeIDRules.isValid(invalid), "\(invalid)")
        }
    }
}

/// `validConfig` with the named section's body replaced (`[raft]\nkey = …`), or with extra
/// top-level lines prepended when the snippet has no section header.
func replaceOrAppend(_ snippet: String, in text: String) -> String {
    guard snippet.hasPrefix("["), let headerEnd = snippet.firstIndex(of: "\n") else { return snippet + "\n" + text }
    let header = String(snippet[..<headerEnd])
    var output: [String] = []
    var skipping = false
    var replaced = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("[") {
            skipping = line == header
            if skipping {
                output.append(snippet)
                replaced = true
            }
        }
        if !skipping { output.append(String(line)) }
    }
    if !replaced { output.insert(snippet, at: 0) }
    return output.joined(separator: "\n")
}

/// Replaces the first occurrence of `original` inside the node named by `key` (`nodes[1].…`).
func replaceFirst(_ original: String, with replacement: String, afterNode key: String, in text: String) -> String {
    let nodeIndex = Int(key.dropFirst("nodes[".count).prefix { $0.isNumber }) ?? 0
    var blocks = text.components(separatedBy: "[[nodes]]")
    let block = nodeIndex + 1
    if let range = blocks[block].range(of: original) {
        blocks[block].replaceSubrange(range, with: replacement)
    }
    return blocks.joined(separator: "[[nodes]]")
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
