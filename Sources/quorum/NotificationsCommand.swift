import ArgumentParser
import QuorumClient

/// `quorum notifications [--state pending|delivered|failed] [--job ID]`.
struct NotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications",
        abstract: "List notifications and their delivery: pending first, then the latest settled ones (GET /api/notifications).")

    @OptionGroup var client: ClientOptions
    @OptionGroup var read: ReadOptions

    @Option(help: "Only notifications in this state: pending, delivered or failed.")
    var state: String?

    @Option(help: "Only notifications about this job.")
    var job: String?

    @Option(help: "At most this many rows.")
    var limit: Int?

    func run() async throws {
        try await client.withClient { api in
            let reply = try await api.notifications(state: state, job: job, limit: limit, stale: read.stale)
            client.output(reply) { ResourceViews.notifications($0.items) }
        }
    }
}
