/// `--config`: a running cluster the user started, which `quorum chaos` drives instead of
/// generating its own. Without the link proxies, the clock preload or the data directories that a
/// generated cluster has, only process faults can be made, and only with a way to reach the
/// processes: their pid files (`--pid-file`, for `stop`, `kill` and `restart-all`) and a command
/// that starts a node again (`--start-command`, for `kill` and `restart-all`).
public struct ExistingCluster: Sendable, Equatable {
    /// The member ids, in the config's order.
    public var ids: [String]
    /// Each member's API base URL (`http://HOST:PORT`, loopback only).
    public var apiURLs: [String: String]
    /// The config file (its directory is where a start command runs).
    public var configPath: String
    /// A path template with `{id}` naming the file that holds each node's pid.
    public var pidFile: String?
    /// A shell command template with `{id}` that starts node `{id}` in the foreground (run as
    /// `/bin/sh -c 'exec COMMAND'` in the config's directory, so its pid is the node's).
    public var startCommand: String?

    /// An existing cluster of `ids` reached at `apiURLs`.
    public init(ids: [String], apiURLs: [String: String], configPath: String, pidFile: String? = nil, startCommand: String? = nil) {
        self.ids = ids
        self.apiURLs = apiURLs
        self.configPath = configPath
        self.pidFile = pidFile
        self.startCommand = startCommand
    }

    /// What a nemesis needs from an existing cluster, or why it cannot run against one at all.
    public static func requirement(of kind: NemesisKind) -> (pidFile: Bool, startCommand: Bool, refusal: String?) {
        switch kind {
        case .stop: return (true, false, nil)
        case .kill, .restartAll: return (true, true, nil)
        case .partition, .oneWay, .bridge:
            return (false, false, "needs every peer link to pass through the tool's proxies, which only a cluster it generates has")
        case .clock: return (false, false, "needs the nodes started with the tool's wall-clock preload, which only a cluster it generates has")
        case .wipe: return (false, false, "deletes a node's data directory, which the tool does only to a cluster it generated")
        }
    }

    /// Throws naming the first nemesis that cannot run against this cluster with the options given.
    public func validate(nemeses: [NemesisKind]) throws(ChaosError) {
        guard !ids.isEmpty else { throw .invalid("--config \(configPath) lists no [[nodes]]") }
        for kind in nemeses {
            let need = Self.requirement(of: kind)
            if let refusal = need.refusal {
                throw .invalid("--config: nemesis \(kind.rawValue) cannot run against an existing cluster (it \(refusal)); "
                    + "use kill, stop or restart-all, or drop --config")
            }
            if need.pidFile, pidFile?.contains("{id}") != true {
                throw .invalid("--config: nemesis \(kind.rawValue) needs --pid-file PATH with {id} (the file holding each node's pid)")
            }
            if need.startCommand, startCommand?.contains("{id}") != true {
                throw .invalid("--config: nemesis \(kind.rawValue) needs --start-command 'COMMAND' with {id} "
                    + "(how to start node {id} again in the foreground, e.g. 'quorum node --config cluster.toml --id {id}')")
            }
        }
    }
}
