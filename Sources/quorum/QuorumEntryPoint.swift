import ArgumentParser
import Foundation

/// Runs the `quorum` command and maps every failure onto the exit codes of `docs/cli.md`:
/// 0 success, 2 invalid input or config, 1 anything else.
///
/// ArgumentParser's own `main()` exits 64 on a usage error; Quorum promises 2, so parsing and
/// running are done here instead.
@main
enum QuorumEntryPoint {
    static func main() async {
        let code: Int32
        do {
            var command = try Quorum.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            code = 0
        } catch let error as CLIError {
            StandardError.write(error.message)
            code = error.exitCode
        } catch {
            let exitCode = Quorum.exitCode(for: error)
            let message = Quorum.fullMessage(for: error)
            if exitCode == .success {
                if !message.isEmpty { print(message) }
                code = 0
            } else {
                if !message.isEmpty { StandardError.write(message) }
                code = exitCode == .validationFailure ? CLIError.invalidInputCode : exitCode.rawValue
            }
        }
        exit(code)
    }
}

/// The root command: one binary for running a node and for talking to a cluster.
struct Quorum: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quorum",
        abstract: "A distributed job scheduler: run a node, or manage a Quorum cluster.",
        subcommands: [
            NodeCommand.self, ConfigCommand.self, CronCommand.self, WALCommand.self, SnapshotCommand.self, CertsCommand.self,
            SubmitCommand.self, EditCommand.self, StatusCommand.self, JobsCommand.self, RunsCommand.self, CancelCommand.self,
            JobActionCommand<PauseAction>.self, JobActionCommand<ResumeAction>.self, JobActionCommand<TriggerAction>.self,
            DAGsCommand.self, DLQCommand.self, NotificationsCommand.self, ClusterCommand.self, WatchCommand.self, TokensCommand.self, DoctorCommand.self, ChaosCommand.self,
        ]
    )
}
