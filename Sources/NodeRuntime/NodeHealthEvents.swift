import NodeCore
import RaftCore
import SchedulerCore

/// This node's view of its members' health at one moment: which peers it heard from within
/// the executor lease (as `GET /api/cluster`'s `reachable`), and whether its own executor
/// lease holds.
struct NodeHealth: Hashable, Sendable {
    /// Per peer id: heard from within the lease.
    var reachable: [String: Bool]
    /// Whether this node's executor has a proven lease (it may run attempts).
    var leaseHeld: Bool

    /// The `node` events between `old` and `self`, as (member, state): `reachable` /
    /// `unreachable` for a peer, `lease_renewed` / `lease_lost` for `ownID`. Peers in order of
    /// id, the lease last, so the same change gives the same events.
    func changes(since old: NodeHealth, ownID: String) -> [(node: String, state: String)] {
        var changes: [(node: String, state: String)] = []
        for peer in reachable.keys.sorted() {
            let now = reachable[peer] ?? false
            if (old.reachable[peer] ?? false) != now { changes.append((peer, now ? "reachable" : "unreachable")) }
        }
        if old.leaseHeld != leaseHeld { changes.append((ownID, leaseHeld ? "lease_renewed" : "lease_lost")) }
        return changes
    }
}

/// Sends `node` events (`GET /api/events`): a peer became reachable or unreachable, this
/// node's executor lease was lost or renewed — as this node sees it, with no id and never
/// replayed (docs/api.md, "Events"). Polls the peer link every 100 ms: reachability is a
/// matter of time passing without a message, so there is no event to wait on.
struct NodeHealthEvents: Sendable {
    let link: PeerLink
    /// The current members' ids (this node's included; it is skipped), read at every poll.
    let peers: @Sendable () -> [String]
    let ownID: String
    let events: EventHub
    let settings: NodeSettings

    /// What the link says now.
    func observe() -> NodeHealth {
        let now = settings.clock.monotonic()
        var reachable: [String: Bool] = [:]
        for peer in peers() where peer != ownID {
            reachable[peer] = link.lastHeard(from: Raft.NodeID(peer)).map { now - $0 <= settings.executorLease } ?? false
        }
        return NodeHealth(reachable: reachable, leaseHeld: link.executorLeaseProven())
    }

    /// Runs until cancelled (returning earlier would stop the node's task group).
    func run() async {
        // A fresh node has heard from nobody and holds no lease: the first contacts are news.
        var last = NodeHealth(reachable: [:], leaseHeld: false)
        while !Task.isCancelled {
            let now = observe()
            let changes = now.changes(since: last, ownID: ownID)
            if !changes.isEmpty {
                let at = settings.clock.wall()
                events.append(changes.map { ChangeEvent(id: nil, kind: .node, at: at, state: $0.state, node: $0.node) })
                last = now
            }
            do {
                try await settings.clock.sleep(for: .milliseconds(100))
            } catch {
                return
            }
        }
    }
}
