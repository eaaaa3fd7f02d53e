import ArgumentParser
import QuorumClient

/// `quorum status ID`: one job, its state and its recent runs.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a job: its state, schedule, task and recent runs (GET /api/jobs/ID).")

    @OptionGroup var client: ClientOptions
    @OptionGroup var read: ReadOptions

    @Argument(help: "The job id.")
    var id: String

    func run() async throws {
        try await client.withClient { api in
            client.output(try await api.job(id, stale: read.stale), render: ResourceViews.job)
        }
    }
}

/// `quorum runs ID`: every attempt of a job.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List a job's attempts, newest first (GET /api/jobs/ID/runs).")

    @OptionGroup var client: ClientOptions
    @OptionGroup var read: ReadOptions

    @Argument(help: "The job id.")
    var id: String

    func run() async throws {
        try await client.withClient { api in
            client.output(try await api.runs(ofJob: id, stale: read.stale)) { ResourceViews.attempts($0.items) }
        }
    }
}

/// `quorum jobs`: list jobs, newest first.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "List jobs, newest first (GET /api/jobs).")

    @OptionGroup var client: ClientOptions
    @OptionGroup var read: ReadOptions
    @OptionGroup var page: PageOptions

    @Option(name: .long, help: "Only jobs in this state: pending, queued, running, succeeded, dead, cancelled, scheduled, paused.")
    var state: String?

    @Option(name: .customLong("label"), help: ArgumentHelp("Only jobs with this label (repeatable; all must match).", valueName: "KEY=VALUE"))
    var labels: [String] = []

    func run() async throws {
        let filters = try labels.map { text throws(CLIError) -> String in
            // The API writes label filters as key:value; accept key=value as submit does.
            let pairs = try JobFlags.pairs([text], flag: "--label", separators: ["=", ":"])
            guard let (key, value) = pairs.first else { preconditionFailure("pairs of one text returned \(pairs)") }
            return "\(key):\(value)"
        }
        try await client.withClient { api in
            let reply = try await api.jobs(state: state, labels: filters, limit: page.limit, cursor: page.cursor, stale: read.stale)
            client.output(reply) { ResourceViews.jobList($0.items) }
            PageOptions.announceNextPage(reply.value.nextCursor, command: "quorum jobs")
        }
    }
}

/// `quorum cancel ID`: cancel a job (a running attempt is stopped).
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a job; a running attempt is stopped (DELETE /api/jobs/ID).")

    @OptionGroup var client: ClientOptions

    @Argument(help: "The job id.")
    var id: String

    func run() async throws {
        try await client.withClient { api in
            client.output(try await api.cancelJob(id)) { "cancelled job \($0.id)\n\n" + ResourceViews.job($0) }
        }
    }
}

/// `quorum pause|resume|trigger ID`: cron control.
struct JobActionCommand<Action: JobActionName>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Action.action.rawValue, abstract: Action.abstract)
    }

    @OptionGroup var client: ClientOptions

    @Argument(help: "The job id.")
    var id: String

    @Option(name: .customLong("idempotency-key"),
            help: "trigger only: makes a retry answer the first trigger instead of starting another run (kept 24 h); default: a new random key per run.")
    var idempotencyKey: String?

    func run() async throws {
        // A trigger creates a run: it always carries a key, so a retry never starts a second one.
        let key = Action.action == .trigger ? client.idempotencyKey(idempotencyKey) : nil
        if Action.action != .trigger, idempotencyKey != nil {
            throw CLIError.invalidInput("--idempotency-key: only trigger takes one (\(Action.action.rawValue) is safe to repeat)")
        }
        try await client.withClient { api in
            client.output(try await api.jobAction(Action.action, id, idempotencyKey: key)) { "\(Action.done) job \($0.id)\n\n" + ResourceViews.job($0) }
        }
    }
}

/// Names one ``QuorumAPIClient/JobAction`` for ``JobActionCommand``.
protocol JobActionName: Sendable {
    static var action: QuorumAPIClient.JobAction { get }
    static var abstract: String { get }
    static var done: String { get }
}

/// `quorum pause ID`.
enum PauseAction: JobActionName {
    static let action = QuorumAPIClient.JobAction.pause
    static let abstract = "Pause a cron job: it stops firing until resumed (POST /api/jobs/ID/pause)."
    static let done = "paused"
}

/// `quorum resume ID`.
enum ResumeAction: JobActionName {
    static let action = QuorumAPIClient.JobAction.resume
    static let abstract = "Resume a paused cron job (POST /api/jobs/ID/resume)."
    static let done = "resumed"
}

/// `quorum trigger ID`.
enum TriggerAction: JobActionName {
    static let action = QuorumAPIClient.JobAction.trigger
    static let abstract = "Run a job once now (POST /api/jobs/ID/trigger)."
    static let done = "triggered"
}
