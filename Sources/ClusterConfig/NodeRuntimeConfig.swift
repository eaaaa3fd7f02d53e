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
            tokensFile: config.api.tokensFile.map(path))
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
