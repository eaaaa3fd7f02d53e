import ArgumentParser
import HTTPAPI
import QuorumClient

/// `quorum edit ID`: change a job's schedule, priority, retry, timeout, task, labels, placement or
/// cron policies (`PATCH /api/jobs/ID`). Future runs get the change; a running attempt keeps its task.
struct EditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Edit a job: schedule, timezone, priority, retry, timeout, task, labels, placement, concurrency, misfire (PATCH /api/jobs/ID).",
        discussion: """
            Only the fields given change; a task, retry policy or label set given replaces the stored one whole
            (--label replaces every label; --max-attempts or --backoff-ms a new retry policy, other retry fields default).
            --constraint replaces every constraint (--no-constraints removes them) and --max-per-node the limit; a queued
            job is placed by the new ones from the next duty round.
            An env or header value of *** keeps the stored secret: quorum edit j1 --env TOKEN=*** --env DEBUG=1 -- /bin/job
            --if-match VERSION edits only if the job is still at that version (the VERSION line of quorum status), else
            exit 2 with precondition_failed; such an edit is safe to retry and the CLI retries it on another node when the
            outcome is unknown. Without it, the last writer wins and an unknown outcome is reported, not retried.
            With --file the file's JSON is sent as it is ('-' reads standard input). No Idempotency-Key is sent: use
            --if-match to make a repeat harmless.
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var job: JobFlags

    @Argument(help: "The job id.")
    var id: String

    @Option(name: .long, help: ArgumentHelp("A patch as the API's JSON (PATCH /api/jobs/ID), sent verbatim; - for stdin.", valueName: "FILE"))
    var file: String?

    @Option(name: .customLong("if-match"), help: "Edit only if the job is at this version (412 otherwise).")
    var ifMatch: Int?

    @Flag(name: .customLong("no-constraints"), help: "Remove every placement constraint (the job may run on any node).")
    var noConstraints = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A shell task's new argv, after --.", valueName: "argv"))
    var command: [String] = []

    /// The flags an edit cannot use, and a patch that says nothing (exit 2).
    func check() throws(CLIError) {
        for (flag, given) in [("--name", job.name != nil), ("--run-at", job.runAt != nil), ("--delay", job.delaySeconds != nil)] where given {
            throw .invalidInput("\(flag): a job's name and start cannot be edited; cancel it and submit a new one")
        }
        if noConstraints && !job.constraints.isEmpty {
            throw .invalidInput("--no-constraints: drop it or the --constraint flags (--constraint alone replaces every constraint)")
        }
        if file != nil {
            let used = job.flagsGiven + (command.isEmpty ? [] : ["the argv after --"]) + (noConstraints ? ["--no-constraints"] : [])
            if let first = used.first { throw .invalidInput("\(first): the file holds the whole patch; put it in the file's JSON or drop --file") }
        } else if job.flagsGiven.isEmpty && command.isEmpty && !noConstraints {
            throw .invalidInput("nothing to edit: give at least one field flag (e.g. --schedule, --priority) or --file PATCH.json")
        }
        if let ifMatch, ifMatch < 1 { throw .invalidInput("--if-match: a job version is 1 or more, got \(ifMatch)") }
    }

    /// The patch the flags describe.
    func patch() throws(CLIError) -> JobPatch {
        let taskFlags = job.kind != nil || !command.isEmpty || job.url != nil || job.method != nil || !job.headers.isEmpty
            || job.httpBody != nil || job.seconds != nil || !job.environment.isEmpty || job.workdir != nil
        var retry: RetryBody?
        if job.maxAttempts != nil || job.backoffMilliseconds != nil {
            retry = RetryBody(maxAttempts: job.maxAttempts, initialBackoffMs: job.backoffMilliseconds)
        }
        return JobPatch(
            schedule: job.schedule, timezone: job.timezone, priority: job.priority.map { .integer(Int64($0)) }, retry: retry,
            timeoutSeconds: job.timeoutSeconds.map(JobFlags.number), task: taskFlags ? try job.task(command: command) : nil,
            labels: job.labels.isEmpty ? nil : try JobFlags.pairs(job.labels, flag: "--label", separators: ["=", ":"]),
            concurrency: job.concurrency, misfire: job.misfire,
            constraints: noConstraints ? [:] : job.constraints.isEmpty ? nil
                : try JobFlags.pairs(job.constraints, flag: "--constraint", separators: ["="]),
            maxPerNode: job.maxPerNode.map { .integer($0) })
    }

    func run() async throws {
        try check()
        let body = try file.map { try SubmitCommand.read($0, flag: "--file") }
        let patch: JobPatch? = body == nil ? try self.patch() : nil
        try await client.withClient { api in
            let reply: APIReply<JobResource>
            if let body {
                reply = try await api.editJob(id, json: body, ifMatch: ifMatch)
            } else if let patch {
                reply = try await api.editJob(id, patch, ifMatch: ifMatch)
            } else {
                preconditionFailure("edit has neither a file nor flags; check() lets neither through")
            }
            client.output(reply) { job in
                "edited job \(job.id) (version \(job.version.map(String.init) ?? "?"))\n\n" + ResourceViews.job(job)
            }
        }
    }
}
