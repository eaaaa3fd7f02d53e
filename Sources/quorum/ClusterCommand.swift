import ArgumentParser
import QuorumClient

/// `quorum cluster`: the members as the answering node sees them, and the membership changes
/// (`add`, `promote`, `remove`, `transfer`; admin role with tokens; docs/cli.md), and clearing a
/// replica check (`clear-divergence`).
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Show the leader, term, commit index and every node (GET /api/cluster; works without a leader).",
        subcommands: [ClusterAddCommand.self, ClusterPromoteCommand.self, ClusterRemoveCommand.self, ClusterTransferCommand.self,
                      ClusterClearDivergenceCommand.self])

    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { api in
            let reply = try await api.cluster()
            client.output(reply, render: ResourceViews.cluster)
            if !client.json { print("\n(as seen by \(reply.server))") }
        }
    }
}

/// `quorum cluster add ID --raft HOST:PORT --api HOST:PORT`: adds a learner.
struct ClusterAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a node as a learner (POST /api/cluster/nodes); start it with `quorum node --join`, then promote it.")

    @Argument(help: "The new node's id (never one used before).") var id: String
    @Option(help: "Its raft (peer transport) address, HOST:PORT.") var raft: String
    @Option(help: "Its API address, HOST:PORT.") var api: String
    @Option(name: .customLong("label"), help: "A label KEY=VALUE (repeatable).") var labels: [String] = []
    @OptionGroup var client: ClientOptions

    func run() async throws {
        var parsed: [String: String] = [:]
        for label in labels {
            guard let equals = label.firstIndex(of: "="), equals != label.startIndex else {
                throw ValidationError("--label \(label): write KEY=VALUE")
            }
            parsed[String(label[..<equals])] = String(label[label.index(after: equals)...])
        }
        try await client.withClient { [id, raft, api] clientAPI in
            let reply = try await clientAPI.addNode(id: id, raft: raft, api: api, labels: parsed)
            client.output(reply, render: ResourceViews.cluster)
        }
    }
}

/// `quorum cluster promote ID`: a caught-up learner becomes a voter.
struct ClusterPromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Make a caught-up learner a voter (POST /api/cluster/nodes/ID/promote; 409 until it caught up).")

    @Argument(help: "The learner's id.") var id: String
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { [id] api in
            client.output(try await api.promoteNode(id), render: ResourceViews.cluster)
        }
    }
}

/// `quorum cluster clear-divergence ID`: the leader dispatches to a repaired member again.
struct ClusterClearDivergenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear-divergence",
        abstract: "Dispatch to a member again after the replica check held it back and it was repaired "
            + "(POST /api/cluster/nodes/ID/clear-divergence; docs/guarantees.md, Replica checks).")

    @Argument(help: "The member's id.") var id: String
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { [id] api in
            client.output(try await api.clearDivergence(id), render: ResourceViews.cluster)
        }
    }
}

/// `quorum cluster remove ID`: removes a member for good.
struct ClusterRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a node for good (DELETE /api/cluster/nodes/ID); its id can never rejoin.")

    @Argument(help: "The member's id.") var id: String
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { [id] api in
            client.output(try await api.removeNode(id), render: ResourceViews.cluster)
        }
    }
}

/// `quorum cluster transfer ID`: hands leadership to a voter.
struct ClusterTransferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Hand leadership to a voter (POST /api/cluster/leader); returns once it leads.")

    @Argument(help: "The voter to lead next.") var id: String
    @OptionGroup var client: ClientOptions

    func run() async throws {
        try await client.withClient { [id] api in
            client.output(try await api.transferLeadership(to: id), render: ResourceViews.cluster)
        }
    }
}
