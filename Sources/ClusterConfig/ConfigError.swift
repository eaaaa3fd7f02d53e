/// A configuration problem that stops a node from starting: which file, which key, and why.
///
/// Rendered on one line, e.g. `cluster/local-3.toml: nodes[1].api: "127.0.0.1:8080" is already
/// used by nodes[0].api`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The config file as the user named it.
    public var file: String
    /// The dotted key path (`raft.election_timeout_ms`, `nodes[2].id`); empty for the whole file.
    public var key: String
    /// What is wrong and, where it helps, what to do.
    public var reason: String

    public init(file: String, key: String, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        key.isEmpty ? "\(file): \(reason)" : "\(file): \(key): \(reason)"
    }
}

/// A configuration finding that does not stop a node but that an operator should fix.
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var key: String
    public var reason: String

    public init(file: String, key: String, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        key.isEmpty ? "\(file): warning: \(reason)" : "\(file): warning: \(key): \(reason)"
    }
}
