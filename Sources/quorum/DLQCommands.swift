import ArgumentParser
import QuorumClient

/// `quorum dlq`, `quorum dlq requeue RUN_ID`, `quorum dlq purge RUN_ID`.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "The dead-letter queue: list it, requeue a run or purge it.",
        subcommands: [DLQListCommand.self, DLQRequeueCommand.self, DLQPurgeCommand.self],
        defaultSubcommand: DLQListCommand.self
    )
}

/// `quorum dlq [list]`.
struct DLQListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List dead runs, most recent first (GET /api/dlq).")

    @OptionGroup var client: ClientOptions
    @OptionGroup var read: ReadOptions
    @OptionGroup var page: PageOptions

    func run() async throws {
        try await client.withClient { api in
            let reply = try await api.deadLetters(limit: page.limit, cursor: page.cursor, stale: read.stale)
            client.output(reply) { ResourceViews.deadLetters($0.items) }
            PageOptions.announceNextPage(reply.value.nextCursor, command: "quorum dlq")
        }
    }
}

/// `quorum dlq requeue RUN_ID`.
struct DLQRequeueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue", abstract: "Run a dead run again with a fresh attempt budget (POST /api/dlq/RUN_ID/requeue).")

    @OptionGroup var client: ClientOptions

    @Argument(help: "The dead run's id (the RUN column of `quorum dlq`).")
    var runID: String

    @Option(name: .customLong("idempotency-key"),
            help: "Makes a retry answer the first requeue instead of failing or requeueing again (kept 24 h); default: a new random key per run.")
    var idempotencyKey: String?

    func run() async throws {
        let key = client.idempotencyKey(idempotencyKey)
        try await client.withClient { api in
            client.output(try await api.requeueDeadLetter(runID, idempotencyKey: key)) { item in
                "requeued run \(item.runId)" + (item.jobId.map { " of job \($0)" } ?? "") + (item.dagId.map { " of DAG run \($0)" } ?? "")
            }
        }
    }
}

/// `quorum dlq purge RUN_ID`.
struct DLQPurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge", abstract: "Remove a dead run from the DLQ for good (DELETE /api/dlq/RUN_ID).")

    @OptionGroup var client: ClientOptions

    @Argument(help: "The dead run's id.")
    var runID: String

    func run() async throws {
        try await client.withClient { api in
            let response = try await api.purgeDeadLetter(runID)
            if client.json {
                // 204 has no body; print an empty object so scripts always get JSON.
                client.printJSON(response.body.isEmpty ? Array("{}".utf8) : response.body)
            } else {
                print("purged run \(runID)")
            }
        }
    }
}
