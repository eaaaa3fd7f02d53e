import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cluster `quorum chaos` starts for itself: `n1`…`nN` on free loopback ports, one config
/// per node (each peer dialled through that link's ``LinkProxy``), dev certificates from
/// `quorum certs init`, data and logs under one directory — or, with `--config`, an existing
/// cluster it attached to (``attach(_:directory:)``): no proxies, no clock, its nodes left running.
final class LocalCluster: Sendable {
    /// The node ids in order.
    let ids: [String]
    /// The directory holding configs, certs, data and logs.
    let directory: String
    /// Each node's API base URL (`http://127.0.0.1:PORT`).
    let apiURLs: [String: String]
    /// The ledger file shell tasks append to (absolute).
    let ledgerPath: String
    private let nodes: [String: NodeProcess]
    private let proxies: [LinkProxy]
    /// The nodes' faked wall clocks, when the clock nemesis is on.
    private let clock: FakeClock?
    /// Whether the tool started this cluster (its nodes are killed at the end) or attached to the user's (left running).
    let owned: Bool

    private init(ids: [String], directory: String, apiURLs: [String: String], ledgerPath: String, nodes: [String: NodeProcess],
                 proxies: [LinkProxy], clock: FakeClock?, owned: Bool = true) {
        self.clock = clock
        self.owned = owned
        self.ids = ids
        self.directory = directory
        self.apiURLs = apiURLs
        self.ledgerPath = ledgerPath
        self.nodes = nodes
        self.proxies = proxies
    }

    /// Writes the configs and certificates for `count` nodes under `directory` and starts the
    /// link proxies (not the nodes: ``startAll()``).
    static func create(count: Int, directory: String, binary: String, linkQuality: LinkQuality = LinkQuality(),
                       fakeClock: Bool = false, prefetch: Int = 0, group: any EventLoopGroup) async throws -> LocalCluster {
        let ids = (1...count).map { "n\($0)" }
        let clock = fakeClock ? try FakeClock.prepare(directory: directory + "/clock", ids: ids) : nil
        try FileManager.default.createDirectory(atPath: directory + "/logs", withIntermediateDirectories: true)
        let ports = try freePorts(2 * count)
        var raft: [String: Int] = [:]
        var api: [String: Int] = [:]
        for (index, id) in ids.enumerated() {
            raft[id] = ports[2 * index]
            api[id] = ports[2 * index + 1]
        }
        var proxies: [LinkProxy] = []
        var proxyPort: [String: Int] = [:]
        for from in ids {
            for to in ids where to != from {
                let proxy = try await LinkProxy.start(from: from, to: to, targetPort: raft[to] ?? 0, quality: linkQuality, group: group)
                proxies.append(proxy)
                proxyPort["\(from)>\(to)"] = proxy.port
            }
        }
        let ledgerPath = directory + "/ledger.txt"
        _ = FileManager.default.createFile(atPath: ledgerPath, contents: nil)
        // The base config (real addresses) is what certificates are made from; each node's own
        // config differs only in the peers' Raft addresses.
        try config(ids: ids, raft: { raft[$0] ?? 0 }, api: api, prefetch: prefetch).write(toFile: directory + "/cluster.toml", atomically: true, encoding: .utf8)
        for id in ids {
            let text = config(ids: ids, raft: { peer in peer == id ? raft[peer] ?? 0 : proxyPort["\(id)>\(peer)"] ?? 0 }, api: api,
                              prefetch: prefetch)
            try text.write(toFile: directory + "/\(id).toml", atomically: true, encoding: .utf8)
        }
        let certs = try NodeProcess.run([binary, "certs", "init", "--config", "cluster.toml", "--out", "certs"], in: directory)
        guard certs.code == 0 else { throw ChaosError.setup("quorum certs init exited \(certs.code): \(certs.output)") }
        var nodes: [String: NodeProcess] = [:]
        var urls: [String: String] = [:]
        for id in ids {
            nodes[id] = NodeProcess(id: id, executable: binary, arguments: ["node", "--config", "\(id).toml", "--id", id],
                                    directory: directory, logPath: directory + "/logs/\(id).log",
                                    extraEnvironment: clock?.environment(for: id) ?? [:])
            urls[id] = "http://127.0.0.1:\(api[id] ?? 0)"
        }
        return LocalCluster(ids: ids, directory: directory, apiURLs: urls, ledgerPath: ledgerPath, nodes: nodes, proxies: proxies,
                            clock: clock)
    }

    /// The user's running cluster (`--config`): nodes found through `existing.pidFile`, restarted with
    /// `existing.startCommand` (logging to `directory/logs/<id>.log`), the ledger in `directory`
    /// (the nodes must run on this machine and allow `/bin/sh` shell jobs for the ledger checks).
    static func attach(_ existing: ExistingCluster, directory: String) throws -> LocalCluster {
        let absolute = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        try FileManager.default.createDirectory(atPath: absolute + "/logs", withIntermediateDirectories: true)
        let ledgerPath = absolute + "/ledger.txt"
        _ = FileManager.default.createFile(atPath: ledgerPath, contents: nil)
        let configDirectory = (existing.configPath as NSString).deletingLastPathComponent
        var nodes: [String: NodeProcess] = [:]
        for id in existing.ids {
            // Without a start command the node cannot be started (an empty executable says so).
            let command = existing.startCommand.map { ["-c", "exec " + $0.replacingOccurrences(of: "{id}", with: id)] }
            nodes[id] = NodeProcess(id: id, executable: command == nil ? "" : "/bin/sh", arguments: command ?? [],
                                    directory: configDirectory.isEmpty ? "." : configDirectory, logPath: absolute + "/logs/\(id).log",
                                    pidFile: existing.pidFile?.replacingOccurrences(of: "{id}", with: id))
        }
        return LocalCluster(ids: existing.ids, directory: absolute, apiURLs: existing.apiURLs, ledgerPath: ledgerPath, nodes: nodes,
                            proxies: [], clock: nil, owned: false)
    }

    /// A config with the shipped Raft timing and short leases (lost attempts are noticed in
    /// about two seconds), shell tasks allowed for `/bin/*`, and replica-check checkpoints every
    /// 64 entries: a run's few thousand jobs then pace the digests (every 8th to 32nd checkpoint,
    /// docs/guarantees.md "Replica checks"), so the check's paced path meets the faults too.
    private static func config(ids: [String], raft: (String) -> Int, api: [String: Int], prefetch: Int) -> String {
        var text = """
            # Written by quorum chaos.
            [cluster]
            name = "chaos-\(ids.count)"
            data_dir = "data/{id}"
            digest_interval_entries = 64

            [raft]
            heartbeat_ms = 50
            election_timeout_ms = [300, 600]

            [tls]
            ca = "certs/ca.pem"
            cert = "certs/{id}.pem"
            key = "certs/{id}.key"

            [executor]
            slots = 4
            allow_shell = true
            shell_allow = ["/bin/*", "/usr/bin/*"]
            lease_ms = 1500
            shutdown_grace_ms = 200
            kill_grace_ms = 1000
            \(prefetch > 0 ? "prefetch = \(prefetch)\n" : "")
            """
        for id in ids {
            text += """

                [[nodes]]
                id = "\(id)"
                raft = "127.0.0.1:\(raft(id))"
                api = "127.0.0.1:\(api[id] ?? 0)"

                """
        }
        return text
    }

    private func node(_ id: String) -> NodeProcess? { nodes[id] }

    /// Starts every node that is not running; an attached cluster's nodes are only looked up
    /// (the user's cluster is not changed before the run: a node that is down stays down).
    func startAll() throws(ChaosError) {
        guard owned else {
            for id in ids { _ = isRunning(id) }
            return
        }
        for id in ids { try node(id)?.start() }
    }

    /// Starts node `id` (its data directory as it was left).
    func start(_ id: String) throws(ChaosError) { try node(id)?.start() }

    /// Sends `signal` to node `id`.
    func signal(_ id: String, _ signal: Int32) { node(id)?.send(signal) }

    /// SIGKILLs node `id` and waits until it is reaped.
    func kill(_ id: String) async { await node(id)?.killAndWait() }

    /// Deletes node `id`'s data directory (the node must be stopped).
    func wipe(_ id: String) {
        try? FileManager.default.removeItem(atPath: directory + "/data/\(id)")
    }

    /// Whether node `id` runs.
    func isRunning(_ id: String) -> Bool { node(id)?.isRunning ?? false }

    /// Every pid any node has had, one per line (what `scripts/check-chaos.sh` kills if this tool dies).
    func pidList() -> String {
        ids.flatMap { node($0)?.pids ?? [] }.map { String($0) }.joined(separator: "\n") + "\n"
    }

    /// The link proxy `from → to`.
    func link(_ from: String, _ to: String) -> LinkProxy? { proxies.first { $0.from == from && $0.to == to } }

    /// Sets node `id`'s wall clock to `spec` (FakeClock's syntax; nothing without the clock nemesis).
    func setClock(_ id: String, _ spec: String) { clock?.set(id, spec) }

    /// Every node's wall clock back to real time.
    func resetClocks() { for id in ids { clock?.set(id, FakeClock.realTime) } }

    /// Restores every link.
    func healLinks() { for proxy in proxies { proxy.heal() } }

    /// Kills every node (SIGCONT first) and closes the proxies; an attached cluster's nodes only
    /// get SIGCONT and keep running (those the tool restarted are left running too).
    func shutdown() async {
        guard owned else {
            for id in ids { signal(id, SIGCONT) }
            return
        }
        for id in ids { await node(id)?.killAndWait() }
        for proxy in proxies { await proxy.stop() }
    }

    /// `count` loopback ports that were free a moment ago (bound to port 0 together, then closed).
    private static func freePorts(_ count: Int) throws(ChaosError) -> [Int] {
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        var ports: [Int] = []
        for _ in 0..<count {
            #if canImport(Glibc)
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
            let socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard socket >= 0 else { throw ChaosError.setup("socket() failed: errno \(errno)") }
            sockets.append(socket)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
                }
            }
            guard bound else { throw ChaosError.setup("could not pick a free loopback port: errno \(errno)") }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }
}
