import Logging
import NodeCore
import Node
import RaftCore
import SchedulerCore
import SchedulerPlanning

/// The executor side of the lease, on every node, every lease/8:
///
/// - Self-fencing: a node that is not the leader sends the leader a lease probe (``LeaseProbe``:
///   its applied index, wall clock and the last echo it got), which the leader echoes. A node
///   that has had no echoed probe from a leader for the lease stops its running attempts.
///   Probes prove that messages go **both ways**, in both directions of judgement: this node
///   renews only on an echo, and the leader renews this node only on a probe naming an echo
///   it sent (``LeaseLedger``) — in a one-way partition neither does. The leader expires the
///   attempts only after the lease plus a margin of at least the kill grace and an election
///   timeout, measured from when it sent that echo, so the old attempt's process is dead
///   before a retry can start elsewhere.
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
    /// How often the start-up waits for a leader and the applied log before its first reconciliation.
    static let firstReconciliationPoll = Duration.milliseconds(20)

    func run() async {
        // A new leader is probed at once (its first proof of this executor comes a round trip
        // later instead of up to a probe period later).
        let prober = Task {
            for await change in driver.leadership.subscribe() {
                guard let leader = change.leader, leader != driver.id else { continue }
                tick(leader: leader, applied: await driver.status.appliedIndex)
            }
        }
        defer { prober.cancel() }
        // Once this node, after its start, knows a leader and has applied what it knows
        // committed: a round (a probe carrying that applied index, and the first reconciliation)
        // at once, not a probe period (lease/8: 625 ms by default) later. The leader gives a node
        // work only once a probe shows it caught up, and counts the attempts its previous process
        // left in its slots until they are reported lost.
        let firstRound = Task {
            let deadline = settings.clock.monotonic() + settings.executorLease
            while !Task.isCancelled, settings.clock.monotonic() < deadline {
                let status = await driver.status
                if Self.isCaughtUp(status) {
                    await round(status)
                    return
                }
                do {
                    try await settings.clock.sleep(for: Self.firstReconciliationPoll)
                } catch {
                    return
                }
            }
        }
        defer { firstRound.cancel() }
        let period = settings.executorLease / 8
        while !Task.isCancelled {
            do {
                try await settings.clock.sleep(for: period)
            } catch {
                return
            }
            await round(await driver.status)
        }
    }

    /// The same tick as the simulator's (``NodeCore/ExecutorSide``): probes `leader` with
    /// `applied` (or notes that this node leads); fences when the lease ran out. Whether it fenced.
    @discardableResult
    private func tick(leader: Raft.NodeID?, applied: Raft.LogIndex) -> Bool {
        guard link.executorTick(leader: leader, appliedIndex: applied, wallClock: settings.clock.wall()) else { return false }
        host.fence(reason: "no round trip with a leader for \(settings.executorLease)")
        return true
    }

    /// One round of the watch: the tick, then — unless it fenced — reconciliation, once this node
    /// knows a leader and has applied what it knows committed.
    private func round(_ status: RaftStatus) async {
        guard !tick(leader: status.leader, applied: status.appliedIndex), Self.isCaughtUp(status) else { return }
        await reconcile()
    }

    /// Whether a leader is known and everything this node knows committed is applied.
    private static func isCaughtUp(_ status: RaftStatus) -> Bool {
        status.leader != nil && status.appliedIndex >= status.commitIndex
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
        for entry in EntrySplitter.entries(commands, maxEntryBytes: driver.maxEntryBytes) {
            do {
                _ = try await replica.propose(entry)
            } catch {
                logger.debug("could not report lost attempts yet", metadata: ["error": "\(error)"])
                return
            }
        }
    }
}
