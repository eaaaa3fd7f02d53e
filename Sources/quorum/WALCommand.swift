import ArgumentParser
import Foundation
import RaftStorage

/// `quorum wal …`: look inside a node's data directory.
struct WALCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal",
        abstract: "Inspect a node's write-ahead log and snapshots.",
        subcommands: [WALInspectCommand.self]
    )
}

/// `quorum wal inspect DIR`: segments, index ranges, hard state, snapshots, checksums.
///
/// Its verdict is the node's: both come from the same analysis of the directory
/// (`WALInspector` and `FileLogStore.open` share it), so it exits 1 exactly when `quorum node`
/// would refuse to open the WAL, and reports as a torn tail exactly what the node would cut off.
struct WALInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a data directory's segments, index ranges, hard state and snapshots, verifying every checksum.",
        discussion: """
            Reads only; changes nothing. DIR is the WAL directory (data/n1/wal) or the node's data directory \
            (data/n1), whose wal/ subdirectory is then inspected. Exit 0 when a node would open it (a torn tail \
            is reported and is cut off on open), 1 when a node would refuse it (damage: the file and byte offset \
            are printed), 2 when DIR is not a directory.
            """
    )

    /// The subdirectory of a node's data directory that holds its WAL (`QuorumNode.open`).
    static let walSubdirectory = "wal"

    @Argument(help: "The WAL directory (e.g. data/n1/wal) or the node's data directory (e.g. data/n1).")
    var directory: String

    func run() async throws {
        guard Self.isDirectory(directory) else {
            throw CLIError.invalidInput("\(directory): not a directory; give a node's data directory, e.g. data/n1")
        }
        let walDirectory = try Self.walDirectory(given: directory)
        let report: WALInspectionReport
        do {
            report = try WALInspector.inspect(directory: walDirectory)
        } catch {
            throw CLIError.failure("\(walDirectory): cannot inspect: \(error)")
        }
        print(report.rendered)
        if let damage = report.damage {
            let place = damage.file.map { file in damage.offset.map { "\(file) at byte offset \($0)" } ?? file } ?? walDirectory
            throw CLIError.failure(
                "\(walDirectory): damage found in \(place); a node refuses to start from this directory "
                    + "(see above; docs/storage.md says how to recover the node)")
        }
    }

    /// `given`, or its `wal` subdirectory when `given` is a node's data directory: it holds no
    /// segment or snapshot itself but has that subdirectory. Inspecting the data directory itself
    /// would find no WAL and report it intact.
    static func walDirectory(given: String) throws -> String {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: given)
        } catch {
            throw CLIError.failure("\(given): cannot list the directory: \(error.localizedDescription)")
        }
        let holdsWAL = names.contains { $0.hasSuffix(".wal") || $0.hasSuffix(".snap") }
        let nested = (given.hasSuffix("/") ? given : given + "/") + walSubdirectory
        return !holdsWAL && isDirectory(nested) ? nested : given
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
