import ArgumentParser
import QuorumClient

/// `quorum cluster`: the members as the answering node sees them.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show the leader, term, commit index and every node (GET /api/cluster; works without a leader).")

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { api in
            let reply = try await api.cluster()
            client.output(reply, render: ResourceViews.cluster)
            if !client.json { print("\n(as seen by \(reply.server))") }
        }
    }
}
