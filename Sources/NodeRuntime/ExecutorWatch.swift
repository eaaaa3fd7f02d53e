import HTTPAPI
import Logging
import Node
import RaftCore
import SchedulerCore

/// The executor side of the lease, on every node, once per lease/4:
///
/// - Self-fencing: a node that is not the leader and has not heard from one for the lease
///   stops its running attempts. The leader expires them only after the lease plus a margin,
///   so the old attempt is gone before a retry can start elsewhere.
/// - Reconciliation: attempts the state says run here but this process does not run (they were
///   running when the node died, or the assignment was replayed at start-up) are reported
///   lost, so they retry at once instead of waiting for their deadline.
struct ExecutorWatch: Sendable {
    let driver: RaftDriver
    let stateMachine: SchedulerStateMachine
    let link: PeerLink
    let host: ExecutorHost
    let replica: RaftReplica
    let settings: NodeSettings
    let executorID: ExecutorID
    let logger: Logger

    func run() async {
        var lastLeaderContact = ContinuousClock.now
        let period = settings.executorLease / 4
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: period)
            } catch {
                return
            }
            let status = await driver.status
            if status.leader == driver.id {
                lastLeaderContact = .now
            } else if let leader = status.leader, let heard = link.lastHeard(from: leader), heard > lastLeaderContact {
                lastLeaderContact = heard
            }
            if ContinuousClock.now - lastLeaderContact > settings.executorLease {
                host.fence(reason: "no contact with a leader for \(settings.executorLease)")
                continue
            }
            guard status.leader != nil, status.appliedIndex >= status.commitIndex else { continue }
            await reconcile()
        }
    }

    private func reconcile() async {
        let executorID = self.executorID
        let assigned = await stateMachine.read { state in
            state.activeAttempts(on: executorID).map { AttemptKey(runID: $0.runID, attempt: $0.attempt) }
        }
        let orphans = host.attemptsNotRunningHere(assigned)
        guard !orphans.isEmpty else { return }
        logger.warning("reporting attempts lost: assigned here but not running in this process",
                       metadata: ["attempts": "\(orphans.map(\.description))"])
        let commands = orphans.map { Command.expireAttempt(ExpireAttempt(runID: $0.runID, attempt: $0.attempt, reason: .executorLost)) }
        do {
            _ = try await replica.propose(commands.count == 1 ? commands[0] : .batch(commands))
        } catch {
            logger.debug("could not report lost attempts yet", metadata: ["error": "\(error)"])
        }
    }
}
