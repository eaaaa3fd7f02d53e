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
struct WALInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a data directory's segments, index ranges, hard state and snapshots, verifying every checksum.",
        discussion: "Reads only; changes nothing. Exit 0 when intact, 1 when damage is found, 2 when DIR is not a directory."
    )

    @Argument(help: "The node's data directory (e.g. data/n1).")
    var directory: String

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError.invalidInput("\(directory): not a directory; give a node's data directory, e.g. data/n1")
        }
        let report: WALInspectionReport
        do {
            report = try WALInspector.inspect(directory: directory)
        } catch {
            throw CLIError.failure("\(directory): cannot inspect: \(error)")
        }
        print(report.rendered)
        if report.isDamaged {
            throw CLIError.failure("\(directory): damage found (see above); docs/storage.md says how to recover the node")
        }
    }
}
