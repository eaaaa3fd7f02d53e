import ArgumentParser
import Foundation
import HTTPAPI
import QuorumClient

/// `quorum submit`: create a job from flags, from a JSON file, or many from a batch file.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a job (from flags, --file JOB.json or --batch-file JOBS.json).",
        discussion: """
            A shell task's argv follows `--`: quorum submit --name hi -- /usr/bin/env echo hi
            The task kind is inferred (argv: shell, --url: http, --seconds: sleep, else noop) unless --kind is given.
            --schedule makes a cron job; without it the job runs once (now, --run-at or after --delay).
            With --file or --batch-file the file's JSON is sent as it is ('-' reads standard input).
            Exit 2 when the server rejects a value (the message names the field).
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var job: JobFlags

    @Option(name: .long, help: ArgumentHelp("A job as the API's JSON (POST /api/jobs), sent verbatim; - for stdin.", valueName: "FILE"))
    var file: String?

    @Option(name: .customLong("batch-file"),
            help: ArgumentHelp("{\"jobs\": [...]} as the API's JSON (POST /api/jobs/batch), sent verbatim; - for stdin.", valueName: "FILE"))
    var batchFile: String?

    @Option(name: .customLong("idempotency-key"),
            help: "Makes a retry return the first job instead of creating another (kept 24 h); default: a new random key per run.")
    var idempotencyKey: String?

    @Argument(parsing: .postTerminator, help: ArgumentHelp("A shell task's argv, after --.", valueName: "argv"))
    var command: [String] = []

    /// Refuses contradictory flags (exit 2). Called from `run()`: ArgumentParser maps errors
    /// thrown from `validate()` to exit 1.
    func check() throws(CLIError) {
        if file != nil, batchFile != nil { throw .invalidInput("give either --file or --batch-file, not both") }
        if file != nil || batchFile != nil {
            let used = job.flagsGiven + (command.isEmpty ? [] : ["the argv after --"])
            if let first = used.first {
                throw .invalidInput(
                    "\(first): the file holds the whole job; put it in the file's JSON or drop --\(file != nil ? "file" : "batch-file")")
            }
        } else if job.name == nil {
            throw .invalidInput("--name: required (or give the whole job with --file JOB.json)")
        }
    }

    func run() async throws {
        try check()
        let idempotencyKey = client.idempotencyKey(self.idempotencyKey)
        if let batchFile {
            let body = try Self.read(batchFile, flag: "--batch-file")
            try await client.withClient { api in
                let reply = try await api.submitBatch(json: body, idempotencyKey: idempotencyKey)
                client.output(reply) { result in
                    let verb = reply.status == 201 ? "submitted" : "already submitted (same idempotency key)"
                    return (["\(verb) \(result.ids.count) jobs"] + result.ids).joined(separator: "\n")
                }
            }
            return
        }
        let submission: JobSubmission? = file == nil ? try job.submission(command: command) : nil
        let body = try file.map { try Self.read($0, flag: "--file") }
        try await client.withClient { api in
            let reply: APIReply<JobResource>
            if let body {
                reply = try await api.submitJob(json: body, idempotencyKey: idempotencyKey)
            } else if let submission {
                reply = try await api.submitJob(submission, idempotencyKey: idempotencyKey)
            } else {
                preconditionFailure("submit has neither a file nor flags; check() lets neither through")
            }
            client.output(reply) { job in
                let verb = reply.status == 201 ? "submitted job \(job.id)" : "job \(job.id) already existed (same idempotency key)"
                return verb + "\n\n" + ResourceViews.job(job)
            }
        }
    }

    /// The bytes of `path`, or of standard input for `-`; an unreadable file exits 2.
    static func read(_ path: String, flag: String) throws(CLIError) -> [UInt8] {
        if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .invalidInput("\(flag): cannot read \(path): \(error.localizedDescription)")
        }
    }
}
