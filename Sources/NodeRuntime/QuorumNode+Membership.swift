import Node
import NodeCore
import RaftCore
import SchedulerCore

/// Why a node stopped: the replicated configuration lists it as removed.
public struct NodeRemovedError: Error, Sendable, CustomStringConvertible {
    /// The removed node.
    public var id: String
    public var description: String {
        "node \(id) was removed from the cluster (its id is in the configuration's removed set and can never rejoin); "
            + "to bring this machine back, wipe its data directory and add it under a new id (docs/node.md, "
            + "\"Replacing a machine\")"
    }
}

/// How a node learns it was removed (``QuorumNode/exitOnceRemoved()``).
enum RemovalSignal: Sendable {
    /// Its own configuration lists it as removed (a farewell append or snapshot, or its data
    /// directory on restart).
    case configuration
    /// A member refused it with a ``RemovalNotice`` the node believed.
    case notice(RemovalNotice, from: Raft.NodeID)
}

extension QuorumNode {
    /// Leader: writes the member directory into the log once, if the configuration has none
    /// (a new cluster, or a log from a build without directories): from then on every node
    /// takes addresses from the log, not from its file. Retries while a change is in flight or
    /// the leader has not committed in its term yet.
    func recordDirectoryWhenLeading() async {
        while !Task.isCancelled {
            var pending = false
            if await driver.status.leader == driver.id {
                let current = await driver.membership
                let common = link.memberBuilds().commonFormat(members: current.members, self: driver.id)
                if current.directory.isEmpty, common < CommandCodec.memberDirectories {
                    // An older member would ignore the entry and keep its old member list.
                    pending = true
                    logger.debug("member directory waits until every member runs a build that reads it",
                                 metadata: ["common_format": "\(common)", "needed": "\(CommandCodec.memberDirectories)"])
                } else if current.directory.isEmpty {
                    pending = true
                    let directory = membership.seed.keeping(only: current.members)
                    do {
                        let index = try await driver.recordDirectory(directory.encoded)
                        logger.info("recorded the member directory in the log", metadata: ["index": "\(index)"])
                    } catch {
                        logger.debug("member directory not recorded yet", metadata: ["error": "\(error)"])
                    }
                }
            }
            do {
                // Soon after taking office (before an operator's first change, ideally); rarely after.
                try await settings.clock.sleep(for: pending ? settings.leaderPoll * 4 : settings.electionTimeout)
            } catch {
                return
            }
        }
    }

    /// Throws ``NodeRemovedError`` once the configuration has listed this node as removed for a
    /// whole election timeout and a bit (an uncommitted removal may still be truncated away by
    /// a new leader, and a removed follower never learns its removal committed: the leader
    /// stops replicating to it).
    ///
    /// The executor stops taking new attempts the moment the removal is seen (taken back if the
    /// removal is truncated away). Running attempts are not drained before the exit: a drain
    /// (``ExecutorHost/drain(grace:)``) here made `run()` hang after it in `MembershipChangeTests`
    /// (not understood yet); the leader expires them as lost, the removed member having 0 slots.
    ///
    /// A member's removal notice (a removed node that came back after the farewell window) is
    /// final at once: the sender's configuration has listed this node as removed for longer than
    /// the farewell window already.
    func exitOnceRemoved() async throws {
        for await signal in removals {
            if case .notice(let notice, let sender) = signal {
                host.stopTakingAttempts()
                logger.error("member \(sender) says this node was removed from the cluster; stopping",
                             metadata: ["node": "\(driver.id)", "cluster_id": "\(notice.cluster)", "removed_at": "\(notice.index)"])
                throw NodeRemovedError(id: driver.id.rawValue)
            }
            host.stopTakingAttempts()
            logger.warning("this node is listed as removed; it takes no new attempts", metadata: ["node": "\(driver.id)"])
            let deadline = settings.clock.monotonic() + settings.electionTimeout * 2
            while settings.clock.monotonic() < deadline {
                try await settings.clock.sleep(for: .milliseconds(100))
            }
            guard membership.membership.removed.contains(driver.id) else {
                logger.notice("the removal of this node was undone before it committed; taking attempts again",
                              metadata: ["node": "\(driver.id)"])
                host.resumeTakingAttempts()
                continue
            }
            logger.error("this node was removed from the cluster; stopping", metadata: ["node": "\(driver.id)"])
            throw NodeRemovedError(id: driver.id.rawValue)
        }
    }
}

extension QuorumNode {
    /// Leader side: an operator repaired member `id` (this node's own id: the leader itself) after
    /// the replica check found its state diverged; work is dispatched to it again
    /// (``NodeCore/LeaderSide/clearDivergence(of:)``). Whether anything was held.
    public func clearDivergence(of id: String) -> Bool {
        link.clearDivergence(of: Raft.NodeID(id))
    }
}
