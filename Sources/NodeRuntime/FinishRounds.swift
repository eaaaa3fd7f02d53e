import NodeCore
import SchedulerCore
import Synchronization

/// Proposes an executor's finish reports a round at a time (``NodeCore/FinishOutbox``): the
/// reports that end while a round's proposal is in flight go together in the next one, one
/// forward and one log entry for all of them.
///
/// Each caller of ``report(_:)`` waits for the outcome of the round that carried its report and
/// retries on its own after a failure, exactly as it retried its single report before: the
/// rounds add no retry loop and no state that outlives a proposal.
final class FinishRounds: Sendable {
    /// Proposes a round's command and returns `true` once it is applied (or moot), `false` to retry.
    typealias Proposer = @Sendable (Command) async -> Bool

    private struct State {
        var outbox: FinishOutbox
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var nextTicket: UInt64 = 0
    }

    private let state: Mutex<State>
    private let proposer: Proposer

    /// Rounds proposed through `proposer`, each at most about `maxBytes` of reports.
    init(maxBytes: Int, proposer: @escaping Proposer) {
        state = Mutex(State(outbox: FinishOutbox(maxBytes: maxBytes)))
        self.proposer = proposer
    }

    /// How many reports wait for the next round (one is in flight).
    var waitingCount: Int { state.withLock { $0.outbox.waitingCount } }

    /// Proposes `command` with the next round and returns that round's outcome.
    func report(_ command: Command) async -> Bool {
        await withCheckedContinuation { (waiter: CheckedContinuation<Bool, Never>) in
            let startsRound = state.withLock { state in
                let ticket = state.nextTicket
                state.nextTicket += 1
                state.waiters[ticket] = waiter
                return state.outbox.add(FinishOutbox.Report(ticket: ticket, command: command))
            }
            // The round runs on its own task: its caller's task may be cancelled (a drain), and
            // the other reports of the round must still be proposed and answered.
            if startsRound {
                Task { await self.runRounds() }
            }
        }
    }

    /// Proposes rounds until none waits.
    private func runRounds() async {
        var round = state.withLock { $0.outbox.takeRound() }
        while let taken = round {
            let applied = await proposer(taken.proposal)
            // The next round is taken under the same lock that answers this one, so a report
            // added in between joins it instead of claiming a second runner.
            let waiters: [CheckedContinuation<Bool, Never>]
            (waiters, round) = state.withLock { state in
                (taken.reports.compactMap { state.waiters.removeValue(forKey: $0.ticket) }, state.outbox.takeRound())
            }
            for waiter in waiters { waiter.resume(returning: applied) }
        }
    }
}
