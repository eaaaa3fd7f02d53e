import Testing

@testable import ClusterConfig

@Suite("Resolving a node's config")
struct NodeRuntimeConfigTests {
    let config: ClusterConfig

    init() throws {
        config = try ConfigLoader.parse(validConfig, file: "c.toml")
    }

    @Test("{id} is substituted and relative paths start at the working directory")
    func substitution() throws {
        let node = try NodeRuntimeConfig.resolve(config, id: "n2", file: "c.toml", environment: [:], workingDirectory: "/repo")
        #expect(node.dataDirectory == "/repo/data/n2")
        #expect(node.tlsCA == "/repo/certs/ca.pem")
        #expect(node.tlsCert == "/repo/certs/n2.pem")
        #expect(node.tlsKey == "/repo/certs/n2.key")
        #expect(node.peers.map(\.id) == ["n1", "n3"])
    }

    @Test("QUORUM_DATA_DIR overrides the data directory")
    func dataDirOverride() throws {
        let relative = try NodeRuntimeConfig.resolve(
            config, id: "n1", file: "c.toml", environment: ["QUORUM_DATA_DIR": "tmp/x"], workingDirectory: "/repo/")
        #expect(relative.dataDirectory == "/repo/tmp/x")
        let absolute = try NodeRuntimeConfig.resolve(
            config, id: "n1", file: "c.toml", environment: ["QUORUM_DATA_DIR": "/var/q"], workingDirectory: "/repo")
        #expect(absolute.dataDirectory == "/var/q")
    }

    @Test("an unknown --id names the known ids")
    func unknownID() {
        #expect {
            try NodeRuntimeConfig.resolve(config, id: "n9", file: "c.toml", environment: [:], workingDirectory: "/")
        } throws: { error in
            let configError = error as? ConfigError
            return configError?.key == "--id" && configError?.reason.contains("n1, n2, n3") == true
        }
    }

    @Test("missing TLS files are listed with their keys")
    func missingTLS() throws {
        let node = try NodeRuntimeConfig.resolve(config, id: "n1", file: "c.toml", environment: [:], workingDirectory: "/repo")
        let missing = node.missingTLSFiles { $0.hasSuffix("ca.pem") }
        #expect(missing.map(\.key) == ["tls.cert", "tls.key"])
    }
}

@Suite("Shipped cluster configs")
struct ShippedConfigTests {
    static let repoRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    @Test("cluster/local-3.toml and local-5.toml match the documented layout", arguments: [3, 5])
    func localClusters(size: Int) throws {
        let file = "\(Self.repoRoot)/cluster/local-\(size).toml"
        let config = try ConfigLoader.load(path: file)
        #expect(try ConfigValidator.validate(config, file: file).isEmpty)
        #expect(config.cluster.name == "local-\(size)")
        #expect(config.executor.allowShell)
        #expect(config.executor.shellAllow == ["/bin/*", "/usr/bin/*"])
        #expect(config.nodes.map(\.id) == (1...size).map { "n\($0)" })
        #expect(config.nodes.map(\.api.port) == (0..<size).map { 8080 + $0 })
        #expect(config.nodes.map(\.raft.port) == (1...size).map { 7000 + $0 })
        #expect(config.nodes.allSatisfy { $0.api.host == "127.0.0.1" && $0.raft.host == "127.0.0.1" && $0.voter })
    }
}
