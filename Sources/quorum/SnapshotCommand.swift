import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import NodeRuntime
import QuorumClient
import RaftStorage
import SchedulerCore

/// `quorum snapshot save|inspect|restore`: backups of a cluster and new clusters made from them
/// (docs/operations.md).
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Back up a cluster, check a backup, and build a new cluster's data directories from one.",
        subcommands: [SnapshotSaveCommand.self, SnapshotInspectCommand.self, SnapshotRestoreCommand.self]
    )
}

/// `quorum snapshot save --server URL FILE`: streams `GET /api/cluster/snapshot` into FILE.
struct SnapshotSaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Save a consistent backup of the cluster to FILE (GET /api/cluster/snapshot; needs an admin token).",
        discussion: """
            The node makes its state linearizable through the leader first, so the backup holds every write \
            acknowledged before the command started. The file is written as FILE.tmp, verified (header and SHA-256), \
            fsynced and renamed to FILE: an interrupted save never leaves a FILE that looks whole. Exit 0 when saved, \
            1 when no server could make one.
            """
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "Where to write the backup.")
    var file: String

    func run() async throws {
        let servers: ServerList
        let tls: TLSConfiguration?
        do {
            servers = try ServerList(parsing: client.servers)
            tls = servers.urls.contains { $0.hasPrefix("https://") }
                ? try ClientTLS(caFile: client.cacert, certificateFile: client.cert, keyFile: client.key).configuration() : nil
        } catch {
            throw CLIError.invalidInput("\(error)")
        }
        let http = FailoverTransport.makeHTTPClient(connectTimeout: .milliseconds(Int64(client.connectTimeout * 1000)), tls: tls)
        var failures: [String] = []
        var outcome: Result<(Saved, String), CLIError>?
        for server in servers.urls where outcome == nil {
            do {
                outcome = .success((try await save(from: server, with: http), server))
            } catch let error as CLIError {
                outcome = .failure(error)
            } catch {
                failures.append("\(server): \(error)")
            }
        }
        try? await http.shutdown()
        switch outcome {
        case .success(let (saved, server)):
            print("saved \(file): \(saved.bytes) bytes from \(server)")
            print(SnapshotInspectCommand.render(saved.backup, bytes: saved.bytes))
        case .failure(let error):
            throw error
        case nil:
            throw CLIError.failure("no backup saved: " + failures.joined(separator: "; "))
        }
    }

    private struct Saved {
        var backup: ClusterBackup
        var bytes: Int
    }

    private func save(from server: String, with http: HTTPClient) async throws -> Saved {
        var request = HTTPClientRequest(url: server + "/api/cluster/snapshot")
        if let token = client.effectiveToken { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await http.execute(request, timeout: .milliseconds(Int64(client.requestTimeout * 1000)))
        guard response.status == .ok else {
            let body = (try? await response.body.collect(upTo: 1 << 16)).map { String(buffer: $0) } ?? ""
            if response.status.code == 401 || response.status.code == 403 {
                throw CLIError.failure("\(server) refused the backup (\(response.status.code)): \(body) — a backup needs an admin token")
            }
            throw SnapshotSaveFailure(description: "answered \(response.status.code): \(body)")
        }
        let temporary = file + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: temporary) else {
            throw CLIError.failure("\(temporary): cannot create the file")
        }
        var written = 0
        do {
            for try await chunk in response.body {
                try handle.write(contentsOf: Data(chunk.readableBytesView))
                written += chunk.readableBytes
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: temporary)
            throw SnapshotSaveFailure(description: "the stream broke after \(written) bytes: \(error)")
        }
        let backup: ClusterBackup
        do {
            backup = try ClusterBackup(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: temporary))))
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw SnapshotSaveFailure(description: "the received backup does not verify (\(error)); nothing was saved")
        }
        if FileManager.default.fileExists(atPath: file) { try FileManager.default.removeItem(atPath: file) }
        try FileManager.default.moveItem(atPath: temporary, toPath: file)
        return Saved(backup: backup, bytes: written)
    }
}

/// Why one server gave no backup (the next is tried).
struct SnapshotSaveFailure: Error, CustomStringConvertible {
    var description: String
}

/// `quorum snapshot inspect FILE`: the header and counts, every checksum verified.
struct SnapshotInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a backup's header and counts, verifying its checksums (exit 1 on damage, naming the byte offset).",
        discussion: "Reads only. Exit 0 when the backup is intact and its state decodes, 1 when it is damaged, 2 when FILE cannot be read."
    )

    @Argument(help: "A backup written by `quorum snapshot save`.")
    var file: String

    func run() async throws {
        let bytes = try Self.read(file)
        let backup = try Self.verified(bytes, file: file)
        print(Self.render(backup, bytes: bytes.count))
        print("verdict: ok, header CRC32C and SHA-256 verified, state decoded")
    }

    static func read(_ file: String) throws(CLIError) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw CLIError.invalidInput("\(file): cannot read: \(error.localizedDescription)")
        }
    }

    /// The backup in `bytes`, its checksums verified and its state decoded; damage is exit 1.
    static func verified(_ bytes: [UInt8], file: String) throws(CLIError) -> ClusterBackup {
        let backup: ClusterBackup
        do {
            backup = try ClusterBackup(decoding: bytes)
        } catch {
            throw CLIError.failure("\(file): \(error)")
        }
        do {
            _ = try SchedulerState(snapshot: backup.image)
        } catch {
            throw CLIError.failure("\(file): the state image verifies but does not decode (\(error)); was it written by a newer "
                + "build (command format \(backup.header.commandFormat), snapshot version \(backup.header.snapshotVersion))?")
        }
        return backup
    }

    /// The header and the counts of the state, one field a line.
    static func render(_ backup: ClusterBackup, bytes: Int) -> String {
        let header = backup.header
        let taken = Date(timeIntervalSince1970: Double(header.takenAtMilliseconds) / 1000)
        var lines = [
            "format: QBAK version \(ClusterBackup.formatVersion), \(bytes) bytes",
            "cluster id: \(header.clusterID)",
            "index: \(header.index)  term: \(header.term)",
            "taken: \(ISO8601DateFormatter().string(from: taken)) by \(header.nodeID)",
            "command format: \(header.commandFormat)  snapshot version: \(header.snapshotVersion)",
            "voters: \(header.membership.voters.map(\.rawValue).sorted().joined(separator: ", "))",
        ]
        if !header.membership.learners.isEmpty {
            lines.append("learners: \(header.membership.learners.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        lines.append("state: \(backup.image.count) bytes")
        if let state = try? SchedulerState(snapshot: backup.image) {
            lines.append("jobs: \(state.jobCount)  runs: \(state.runCount)  DAG runs: \(state.dagCount)  DLQ: \(state.dlqCount)")
        }
        return lines.joined(separator: "\n")
    }
}

/// `quorum snapshot restore FILE --config C --id ID`: node ID's data directory of a NEW cluster.
struct SnapshotRestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Build node ID's data directory for a NEW cluster from a backup (run it for every node of the config).",
        discussion: """
            The new cluster has a new cluster id (the same on every node restored from FILE with config C, so run it \
            with the same two files on every machine), new incarnations, the config's [[nodes]] as its members and \
            the backup's scheduler state. The old cluster's nodes can never join it. Refuses a data directory that \
            is not empty. See docs/operations.md, "Restore on new machines".
            """
    )

    @Argument(help: "A backup written by `quorum snapshot save`.")
    var file: String

    @Option(name: .long, help: "The NEW cluster's config file (TOML).")
    var config: String

    @Option(name: .long, help: "The node to build, one of the config's [[nodes]].")
    var id: String

    func run() async throws {
        let loaded = try LoadedConfig.load(file: config)
        let node = try loaded.resolve(id: id)
        let bytes = try SnapshotInspectCommand.read(file)
        let backup = try SnapshotInspectCommand.verified(bytes, file: file)
        guard backup.header.commandFormat <= CommandCodec.buildFormatVersion, backup.header.snapshotVersion <= SchedulerSnapshot.version else {
            throw CLIError.failure("\(file) was written by a newer build (command format \(backup.header.commandFormat), snapshot "
                + "version \(backup.header.snapshotVersion); this build knows \(CommandCodec.buildFormatVersion) and "
                + "\(SchedulerSnapshot.version)): restore it with that build")
        }
        let outcome: ClusterRebuild.Outcome
        do {
            outcome = try await ClusterRebuild.restore(backup, fileDigest: Array(bytes.suffix(32)), config: node,
                                                       logger: Logger(label: "quorum.restore"))
        } catch {
            throw CLIError.failure("restore into \(node.dataDirectory) failed: \(error)")
        }
        print("restored \(file) into \(node.dataDirectory) for node \(id)")
        print("new cluster id: \(outcome.clusterID) (the backed-up cluster was \(backup.header.clusterID))")
        print("state at index \(outcome.index); voters: \(outcome.voters.joined(separator: ", "))")
        print("next: restore every other node of \(config) from the same file, then start them with `quorum node --config \(config) --id ID`")
    }
}
