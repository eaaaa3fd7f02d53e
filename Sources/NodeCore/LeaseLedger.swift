import RaftCore
import SchedulerCore

/// The leader's record of which executors have proved, recently, that messages go both ways.
///
/// A pure value: every method takes the time it happens at. The leader echoes each
/// ``LeaseProbe`` with a fresh echo id (``echo(to:at:)``); an executor names the latest echo it
/// received in its next probe (``probe(from:lastEcho:appliedIndex:at:)``), and only then is its
/// lease renewed — as of when that echo was **sent**, the last instant the leader knows the
/// executor heard from it. Hearing the executor alone proves nothing: in a one-way partition
/// the executor's probes arrive while the leader's echoes never do, the executor fences itself
/// at its lease, and the leader must expire its attempts on time rather than wait for their
/// timeout.
public struct LeaseLedger: Sendable {
    private struct SentEcho: Sendable {
        var id: UInt64
        var sentAt: MonotonicTime
    }

    private var sent: [Raft.NodeID: [SentEcho]] = [:]
    private var proofs: [Raft.NodeID: MonotonicTime] = [:]
    private var applied: [Raft.NodeID: UInt64] = [:]
    private var nextEchoID: UInt64 = 1
    /// Echoes remembered per peer: a probe names one of the last few.
    private let echoesKept = 16
    private let mutations: MutationSwitch

    /// An empty ledger (`mutations`: simulator builds only).
    public init(mutations: MutationSwitch = MutationSwitch()) { self.mutations = mutations }

    /// Records an echo about to be sent to `peer` and returns its id.
    public mutating func echo(to peer: Raft.NodeID, at now: MonotonicTime) -> UInt64 {
        let id = nextEchoID
        nextEchoID += 1
        var list = sent[peer, default: []]
        list.append(SentEcho(id: id, sentAt: now))
        if list.count > echoesKept { list.removeFirst(list.count - echoesKept) }
        sent[peer] = list
        return id
    }

    /// Records a probe from `peer` naming the latest echo it received (0: none yet).
    public mutating func probe(from peer: Raft.NodeID, lastEcho: UInt64, appliedIndex: UInt64, at now: MonotonicTime) {
        applied[peer] = appliedIndex
        if mutations.isOn("one-way-lease") {
            proofs[peer] = now  // the bug: hearing the peer is taken as proof it hears us
            return
        }
        guard lastEcho != 0, let echo = sent[peer]?.last(where: { $0.id == lastEcho }) else { return }
        if proofs[peer].map({ $0 < echo.sentAt }) ?? true { proofs[peer] = echo.sentAt }
    }

    /// The latest instant `peer` is known to have heard from this leader, proven by its probe.
    public func proof(of peer: Raft.NodeID) -> MonotonicTime? { proofs[peer] }

    /// The applied index `peer` reported in its latest probe.
    public func appliedIndex(of peer: Raft.NodeID) -> UInt64? { applied[peer] }

    /// Whether `peer`'s lease holds at `now`: proven within `lease` — or, for a leader that
    /// took office at `leadingSince`, not yet `lease` into its term (the benefit of the doubt a
    /// new leader gives every executor, whose proof was with the old leader).
    public func holds(_ peer: Raft.NodeID, at now: MonotonicTime, lease: Duration,
               leadingSince: MonotonicTime) -> Bool {
        let since = max(proofs[peer] ?? leadingSince, leadingSince)
        return now - since <= lease
    }
}
