import ArgumentParser
import QuorumClient

/// `quorum dags [ID]`, `quorum dags cancel ID`.
struct DAGsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dags",
        abstract: "List DAG runs, or show one with its tasks.",
        subcommands: [DAGsShowCommand.self, DAGsSubmitCommand.self, DAGsCancelCommand.self],
        defaultSubcommand: DAGsShowCommand.self
    )
}

/// `quorum dags [ID]`: the list, or one run with its tasks.
struct DAGsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "List DAG runs newest first (GET /api/dags), or show run ID with its tasks (GET /api/dags/ID).")

    @OptionGroup var client: ClientOptions
    @OptionGroup var read: ReadOptions
    @OptionGroup var page: PageOptions

    @Option(name: .long, help: "Only runs in this state: running, succeeded, failed, cancelled.")
    var state: String?

    @Argument(help: "A DAG run id: show that run.")
    var id: String?

    func run() async throws {
        if let id, state != nil || page.limit != nil || page.cursor != nil {
            throw CLIError.invalidInput("--state, --limit and --cursor filter the list; drop them to show DAG run \(id)")
        }
        try await client.withClient { api in
            if let id {
                client.output(try await api.dagRun(id, stale: read.stale), render: ResourceViews.dagRun)
            } else {
                let reply = try await api.dagRuns(state: state, limit: page.limit, cursor: page.cursor, stale: read.stale)
                client.output(reply) { ResourceViews.dagList($0.items) }
                PageOptions.announceNextPage(reply.value.nextCursor, command: "quorum dags")
            }
        }
    }
}

/// `quorum dags submit --file DAG.json`.
struct DAGsSubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a DAG run, or with a schedule a cron job of it (POST /api/dags with the file's JSON verbatim).")

    @OptionGroup var client: ClientOptions

    @Option(name: .long, help: ArgumentHelp("The DAG as the API's JSON; - for stdin.", valueName: "FILE"))
    var file: String

    @Option(name: .customLong("idempotency-key"),
            help: "Makes a retry return the first DAG run instead of starting another; default: a new random key per run.")
    var idempotencyKey: String?

    func run() async throws {
        let body = try SubmitCommand.read(file, flag: "--file")
        let idempotencyKey = client.idempotencyKey(self.idempotencyKey)
        try await client.withClient { api in
            let reply = try await api.submitDAG(json: body, idempotencyKey: idempotencyKey)
            let repeated = reply.status == 201 ? "" : " (already submitted with this idempotency key)"
            client.output(reply) { created in
                switch created {
                case .run(let run): "submitted DAG run \(run.id)\(repeated)\n\n" + ResourceViews.dagRun(run)
                case .cronJob(let job): "submitted cron job \(job.id) of DAG \(job.dag ?? job.name)\(repeated)\n\n" + ResourceViews.job(job)
                }
            }
        }
    }
}

/// `quorum dags cancel ID`.
struct DAGsCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a DAG run (DELETE /api/dags/ID).")

    @OptionGroup var client: ClientOptions

    @Argument(help: "The DAG run id.")
    var id: String

    func run() async throws {
        try await client.withClient { api in
            client.output(try await api.cancelDAGRun(id)) { "cancelled DAG run \($0.id)\n\n" + ResourceViews.dagRun($0) }
        }
    }
}
