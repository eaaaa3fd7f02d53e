import ArgumentParser
import HTTPAPI
import ClusterConfig
import Foundation
import RaftCore
import Transport

/// `quorum certs …`: the cluster's development certificate authority.
struct CertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Create a development CA and node certificates for mutual TLS between peers.",
        subcommands: [CertsInitCommand.self, CertsIssueCommand.self, CertsAPICommand.self]
    )
}

/// `quorum certs init --config FILE --out DIR`: a CA plus a certificate for every node.
struct CertsInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a cluster CA and a key and certificate for every node of a config.",
        discussion: """
            Writes DIR/ca.pem, DIR/ca.key and DIR/<id>.pem, DIR/<id>.key per node (keys 0600). \
            Refuses to overwrite existing files. See docs/security.md.
            """
    )

    @Option(name: .long, help: "The cluster config file (TOML).")
    var config: String

    @Option(name: .long, help: "Where to write the files.")
    var out: String

    @Option(name: .long, help: "Days the certificates are valid.")
    var days: Int = 365

    func run() async throws {
        let loaded = try LoadedConfig.load(file: config)
        let validity = try CertificateDays.validity(days)
        let existing = ([DevCertificateFiles.caCertificate, DevCertificateFiles.caKey]
            + loaded.config.nodes.flatMap { ["\($0.id).pem", "\($0.id).key"] })
            .map { "\(out)/\($0)" }
            .filter { FileManager.default.fileExists(atPath: $0) }
        guard existing.isEmpty else {
            throw CLIError.invalidInput("\(existing[0]) already exists; choose another --out or remove the old files first")
        }
        do {
            let authority = try Transport.DevCertificateAuthority.create(validity: validity)
            try authority.write(to: out)
            for node in loaded.config.nodes {
                let issued = try authority.issueNodeCertificate(
                    id: Raft.NodeID(node.id), hosts: Array(Set([node.raft.host, node.api.host])).sorted(), validity: validity)
                try issued.write(to: out)
            }
        } catch {
            throw CLIError.failure("certs init: \(error)")
        }
        print("wrote a CA and \(loaded.config.nodes.count) node certificates to \(out) (valid \(days) days)")
    }
}

/// `quorum certs issue --ca DIR --id ID --host H`: one more node certificate.
struct CertsIssueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a certificate for one more node with an existing CA (e.g. a node being added).",
        discussion: "Reads DIR/ca.pem and DIR/ca.key and writes DIR/<id>.pem and DIR/<id>.key (or into --out)."
    )

    @Option(name: .long, help: "The directory holding ca.pem and ca.key.")
    var ca: String

    @Option(name: .long, help: "The new node's id (as in the config's [[nodes]]).")
    var id: String

    @Option(name: .long, parsing: .singleValue, help: "A host name or IP of the node (repeatable).")
    var host: [String] = []

    @Option(name: .long, help: "Where to write the files (default: the CA directory).")
    var out: String?

    @Option(name: .long, help: "Days the certificate is valid.")
    var days: Int = 365

    func run() async throws {
        guard NodeIDRules.isValid(id) else {
            throw CLIError.invalidInput("--id: \"\(id)\" is not a valid node id: \(NodeIDRules.description)")
        }
        let validity = try CertificateDays.validity(days)
        let authority = try DevCertificateFiles.authority(in: ca)
        let directory = out ?? ca
        do {
            let issued = try authority.issueNodeCertificate(id: Raft.NodeID(id), hosts: host, validity: validity)
            try issued.write(to: directory)
        } catch {
            throw CLIError.failure("certs issue: \(error)")
        }
        print("wrote \(directory)/\(id).pem and \(directory)/\(id).key (valid \(days) days)")
    }
}

/// `quorum certs api --ca DIR --host H… [--name api]`: a certificate for a node's HTTP API.
struct CertsAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Issue a TLS certificate for the HTTP API ([api] tls_cert / tls_key) with an existing CA.",
        discussion: """
            Reads DIR/ca.pem and DIR/ca.key and writes DIR/<name>.pem and DIR/<name>.key (or into --out). The certificate \
            is for serving the API only: no quorum://node/ identity and no client-auth usage, so its key cannot join the \
            cluster as a peer. Clients trust DIR/ca.pem (quorum --cacert, curl --cacert).
            """
    )

    @Option(name: .long, help: "The directory holding ca.pem and ca.key.")
    var ca: String

    @Option(name: .long, parsing: .singleValue, help: "A host name or IP clients use to reach the API (repeatable; at least one).")
    var host: [String] = []

    @Option(name: .long, help: "The files' base name (<name>.pem, <name>.key).")
    var name: String = "api"

    @Option(name: .long, help: "Where to write the files (default: the CA directory).")
    var out: String?

    @Option(name: .long, help: "Days the certificate is valid.")
    var days: Int = 365

    func run() async throws {
        guard !host.isEmpty else { throw CLIError.invalidInput("--host: give at least one host name or IP that clients use") }
        guard TokenFile.isValidName(name) else {
            throw CLIError.invalidInput("--name: '\(name)' must be 1-64 letters, digits, '-', '_' or '.'")
        }
        let validity = try CertificateDays.validity(days)
        let authority = try DevCertificateFiles.authority(in: ca)
        let directory = out ?? ca
        do {
            try authority.issueAPICertificate(hosts: host, validity: validity).write(to: directory, name: name)
        } catch {
            throw CLIError.failure("certs api: \(error)")
        }
        print("wrote \(directory)/\(name).pem and \(directory)/\(name).key (valid \(days) days; hosts: \(host.joined(separator: ", ")))")
    }
}

/// File names `quorum certs` writes, and loading the CA they name.
enum DevCertificateFiles {
    /// The CA in `directory` (`ca.pem`, `ca.key`); exit 2 naming `--ca` when it does not load.
    static func authority(in directory: String) throws(CLIError) -> Transport.DevCertificateAuthority {
        do {
            return try Transport.DevCertificateAuthority(loadingFrom: directory)
        } catch {
            throw .invalidInput("--ca: \(error)")
        }
    }

    static let caCertificate = Transport.DevCertificateAuthority.certificateFileName
    static let caKey = Transport.DevCertificateAuthority.privateKeyFileName
}

/// The `--days` option, checked.
enum CertificateDays {
    static func validity(_ days: Int) throws(CLIError) -> Transport.CertificateValidity {
        guard (1...3650).contains(days) else {
            throw CLIError.invalidInput("--days: \(days) is out of range 1-3650")
        }
        do {
            return try Transport.CertificateValidity.days(days, from: Date())
        } catch {
            throw CLIError.invalidInput("--days: \(error)")
        }
    }
}
