import Foundation

/// The configuration one node runs with: the cluster config plus this node's identity and its
/// paths resolved (`{id}` replaced, relative paths made absolute from the working directory,
/// `QUORUM_DATA_DIR` applied).
public struct NodeRuntimeConfig: Sendable, Equatable {
    public var cluster: ClusterConfig
    /// This node's entry in `cluster.nodes`.
    public var node: ClusterConfig.Node
    /// Absolute path of this node's data directory.
    public var dataDirectory: String
    /// Absolute paths of the CA certificate, this node's certificate and its key.
    public var tlsCA: String
    public var tlsCert: String
    public var tlsKey: String
    /// Absolute path of `[api] tokens_file`, if set.
    public var tokensFile: String?
    /// Absolute paths of `[api] tls_cert`, `tls_key` and `client_ca`, if set.
    public var apiTLSCert: String?
    public var apiTLSKey: String?
    public var apiClientCA: String?
    /// Absolute path of `[executor] workdir_root`, if set.
    public var workdirRoot: String?

    /// The other members, in file order.
    public var peers: [ClusterConfig.Node] { cluster.nodes.filter { $0.id != node.id } }

    /// Resolves `config` for the node `id`.
    /// - Parameters:
    ///   - environment: `QUORUM_DATA_DIR` here overrides the data directory.
    ///   - workingDirectory: where relative paths start.
    public static func resolve(
        _ config: ClusterConfig, id: String, file: String,
        environment: [String: String], workingDirectory: String
    ) throws(ConfigError) -> NodeRuntimeConfig {
        guard let node = config.node(withID: id) else {
            let known = config.nodes.map(\.id).joined(separator: ", ")
            throw ConfigError(file: file, key: "--id", reason: "\"\(id)\" is not a node of this cluster (known: \(known))")
        }
        func path(_ template: String) -> String {
            absolute(template.replacingOccurrences(of: "{id}", with: id), from: workingDirectory)
        }
        let dataDirectory: String
        if let override = environment["QUORUM_DATA_DIR"], !override.isEmpty {
            dataDirectory = absolute(override, from: workingDirectory)
        } else {
            dataDirectory = path(config.cluster.dataDir)
        }
        return NodeRuntimeConfig(
            cluster: config, node: node, dataDirectory: dataDirectory,
            tlsCA: path(config.tls.ca), tlsCert: path(config.tls.cert), tlsKey: path(config.tls.key),
            tokensFile: config.api.tokensFile.map(path), apiTLSCert: config.api.tlsCert.map(path),
            apiTLSKey: config.api.tlsKey.map(path), apiClientCA: config.api.clientCA.map(path),
            workdirRoot: config.executor.workdirRoot.map(path))
    }

    /// Why this node must not start as configured: its API listens beyond loopback without
    /// tokens or without TLS, and `[api] insecure = true` does not say that is intended.
    /// `nil` when it may start. (With `insecure`, ``insecureAPIWarning`` says what is open.)
    public var unsafeAPIRefusal: String? {
        guard !node.api.isLoopback, !cluster.api.insecure, let missing = missingAPIProtection else { return nil }
        return "the API of \(node.id) listens on \(node.api), beyond this machine, without \(missing): anyone who can reach it could "
            + "run jobs. Set [api] tokens_file (quorum tokens create) and tls_cert/tls_key (quorum certs api), listen on 127.0.0.1, "
            + "or — on a network you trust — say [api] insecure = true"
    }

    /// The warning a node started with `[api] insecure = true` logs at every start, if it applies.
    public var insecureAPIWarning: String? {
        guard !node.api.isLoopback, cluster.api.insecure, let missing = missingAPIProtection else { return nil }
        return "[api] insecure = true: the API on \(node.api) is served without \(missing)"
    }

    private var missingAPIProtection: String? {
        switch (tokensFile == nil, apiTLSCert == nil) {
        case (true, true): "tokens or TLS"
        case (true, false): "tokens"
        case (false, true): "TLS"
        case (false, false): nil
        }
    }

    /// The TLS files that do not exist, as (key, path) pairs. `quorum node` refuses to start with
    /// any; `quorum config check` only warns, since certificates may not be made yet.
    public func missingTLSFiles(fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) })
        -> [(key: String, path: String)]
    {
        [("tls.ca", tlsCA), ("tls.cert", tlsCert), ("tls.key", tlsKey)].filter { !fileExists($0.1) }
    }

    static func absolute(_ path: String, from directory: String) -> String {
        if path.hasPrefix("/") { return path }
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        return path == "." ? base : "\(base)/\(path)"
    }
}
