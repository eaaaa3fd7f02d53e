import Foundation

/// A fresh temporary directory holding `c.toml` for one node, `n1`, on free loopback ports — for
/// the tests that start their own `quorum node` with settings ``TestCluster`` does not write
/// (API TLS, client CAs, tokens, peer TLS reloads).
struct OneNodeDirectory {
    /// The directory (the config, and the certificates and data the test makes there).
    let directory: String
    /// `[raft]` port and `[api]` port of `n1`, in that order.
    let ports: [Int]

    /// Writes `c.toml`: cluster `name`, `data_dir = "data/{id}"`, then `sections` (TOML tables
    /// such as `[api]`), then `n1`'s `[[nodes]]` entry.
    init(name: String, sections: String = "") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ports = try LoopbackPorts.free(2)
        let config = """
            [cluster]
            name = "\(name)"
            data_dir = "data/{id}"
            \(sections)
            [[nodes]]
            id = "n1"
            raft = "127.0.0.1:\(ports[0])"
            api = "127.0.0.1:\(ports[1])"
            """
        try config.write(toFile: "\(directory)/c.toml", atomically: true, encoding: .utf8)
    }

    /// Removes the directory.
    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
