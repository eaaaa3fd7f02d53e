import HTTPAPI
import Logging
import Node
import RaftCore
import SchedulerCore

/// The HTTP API's ``SchedulerReplica`` on a Raft node: writes go through the leader (proposed
/// here when this node leads, forwarded otherwise), reads are ReadIndex-linearizable unless
/// stale, and every answer is rendered from this node's own state machine once it has applied
/// the entry in question (read-your-writes on every node).
public struct RaftReplica: SchedulerReplica {
    let driver: RaftDriver
    let stateMachine: SchedulerStateMachine
    let link: PeerLink
    let clusterView: ClusterView
    let clock: @Sendable () -> Timestamp
    let settings: NodeSettings

    /// The proposer's wall clock.
    public func now() -> Timestamp { clock() }

    /// Proposes through the leader and returns the entry's events as applied here.
    public func propose(_ command: Command) async throws(APIError) -> [SchedulerEvent] {
        let bytes = CommandCodec.encode(command, at: clock())
        let index = try await proposeThroughLeader(bytes)
        return await stateMachine.events(at: index) ?? []
    }

    /// Retries only where the command was certainly not proposed (no leader yet, not the
    /// leader any more, could not reach it); an unknown outcome is a 503 the client retries
    /// with its `Idempotency-Key`.
    private func proposeThroughLeader(_ bytes: [UInt8]) async throws(APIError) -> Raft.LogIndex {
        let deadline = ContinuousClock.now + settings.leaderWait
        var lastProblem = "no leader is known"
        while true {
            let status = await driver.status
            if status.leader == driver.id {
                do {
                    return try await driver.propose(bytes)
                } catch {
                    if error.code != .notLeader { throw Self.unavailable(error.message) }
                    lastProblem = error.message
                }
            } else if let leader = status.leader {
                switch await link.forward(bytes, to: leader, timeout: settings.forwardTimeout, poll: settings.leaderPoll) {
                case .applied(let index):
                    return index
                case .notProposed(_, let message):
                    lastProblem = message
                case .outcomeUnknown(let message):
                    throw Self.unavailable("\(message); retry with the same Idempotency-Key")
                }
            }
            guard ContinuousClock.now < deadline else {
                throw Self.unavailable("\(lastProblem); retry shortly")
            }
            try? await Task.sleep(for: settings.leaderPoll)
        }
    }

    /// Runs `body` on this node's state, after a ReadIndex round unless `consistency` is stale.
    public func read<T: Sendable>(_ consistency: ReadConsistency,
                                  _ body: @Sendable (SchedulerState) throws(APIError) -> T) async throws(APIError) -> T {
        if consistency == .linearizable {
            let deadline = ContinuousClock.now + settings.leaderWait
            while true {
                do {
                    _ = try await driver.linearizableRead()
                    break
                } catch {
                    guard error.isRetriable, ContinuousClock.now < deadline else {
                        throw Self.unavailable("\(error.message); retry shortly or read with ?stale=true")
                    }
                }
                try? await Task.sleep(for: settings.leaderPoll)
            }
        }
        return try await stateMachine.read(body)
    }

    /// The cluster as this node sees it.
    public func cluster() async throws(APIError) -> ClusterResource {
        await clusterView.resource()
    }

    /// Ready when a leader is known and this node applied everything it knows committed.
    public func checkReady() async throws(APIError) {
        let status = await driver.status
        guard status.leader != nil else { throw Self.unavailable("no leader is known") }
        guard status.appliedIndex >= status.commitIndex else {
            throw Self.unavailable("catching up: applied \(status.appliedIndex) of \(status.commitIndex) committed")
        }
    }

    static func unavailable(_ message: String) -> APIError {
        .unavailable(retryAfter: 1, message)
    }
}
