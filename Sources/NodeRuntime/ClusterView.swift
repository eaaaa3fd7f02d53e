import ClusterConfig
import HTTPAPI
import Node
import RaftCore
import SchedulerCore

/// `GET /api/cluster`: the members as this node sees them (works without a leader).
struct ClusterView: Sendable {
    let driver: RaftDriver
    let stateMachine: SchedulerStateMachine
    let link: PeerLink
    let config: ClusterConfig
    let settings: NodeSettings

    func resource() async -> ClusterResource {
        let status = await driver.status
        let busy = await stateMachine.read { state in
            var counts: [String: Int] = [:]
            for attempt in state.runningAttempts() { counts[attempt.executor.rawValue, default: 0] += 1 }
            return counts
        }
        var nodes: [ClusterNodeResource] = []
        for node in config.nodes {
            let id = Raft.NodeID(node.id)
            let role: String
            if id == status.leader {
                role = "leader"
            } else if !node.voter {
                role = "learner"
            } else if id == driver.id {
                role = Self.roleName(status.role)
            } else {
                role = "follower"
            }
            let reachable: Bool
            if id == driver.id {
                reachable = true
            } else if let heard = link.lastHeard(from: id) {
                reachable = ContinuousClock.now - heard <= settings.executorLease
            } else {
                reachable = false
            }
            let match = await driver.matchIndex(of: id)
            nodes.append(ClusterNodeResource(id: node.id, role: role, api: node.api.description, raft: node.raft.description,
                                             reachable: reachable, matchIndex: match?.rawValue ?? 0,
                                             slots: config.executor.slots, busy: busy[node.id] ?? 0))
        }
        return ClusterResource(leader: status.leader?.rawValue, term: status.term.rawValue,
                               commitIndex: status.commitIndex.rawValue, nodes: nodes)
    }

    static func roleName(_ role: Raft.Role) -> String {
        switch role {
        case .leader: "leader"
        case .candidate, .preCandidate: "candidate"
        case .follower: "follower"
        }
    }
}
