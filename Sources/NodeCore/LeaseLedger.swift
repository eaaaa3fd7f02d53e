import RaftCore
import SchedulerCore

/// The leader's record of which executors have proved, recently, that messages go both ways,
/// and when an executor's attempts may be expired as lost.
///
/// A pure value: every method takes the time it happens at.
/// - **Proof** (for giving an executor work): the leader echoes a ``LeaseProbe`` with a fresh
///   echo id; the executor names the latest echo it received in its next probe
///   (``probe(from:lastEcho:appliedIndex:at:)``), and only then does it count as reachable — as
///   of when that echo was **sent**. Hearing the executor alone proves nothing: in a one-way
///   partition its probes arrive while the echoes never do.
/// - **Loss** (for expiring its attempts): an executor extends its own lease by every echo it
///   *receives*, which the leader cannot see. So the leader may expire its attempts only a lease
///   and the fencing margin after the last echo it **sent** (or after taking office), whatever
///   the proofs say. To let that time come in a one-way partition, the leader stops echoing an
///   executor whose probes name no echo sent within half a lease (its echoes are not arriving);
///   it tries one again once the lease, the margin and half a lease have passed since the last.
///   (``LeaderSide`` also answers a restarted executor's first probe at once: another process.)
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

    /// Whether to echo a probe from `peer` that named `lastEcho` (see the type): yes for the
    /// first one since `leadingSince`, for one naming an echo sent within `lease`/2, and for one
    /// arriving `lease` + `margin` + `lease`/2 after the last echo (a retry once the executor's
    /// attempts are surely expired).
    public func shouldEcho(_ peer: Raft.NodeID, lastEcho: UInt64, at now: MonotonicTime, leadingSince: MonotonicTime,
                           lease: Duration, margin: Duration) -> Bool {
        guard let last = sent[peer]?.last, last.sentAt >= leadingSince else { return true }
        if let named = sent[peer]?.last(where: { $0.id == lastEcho }), now - named.sentAt <= lease / 2 { return true }
        // Strictly after the executor counts as lost (with half a lease to spare for the duty
        // round that expires its attempts): an echo sent earlier could revive a lease the leader
        // is just giving up on.
        return now - last.sentAt > lease + margin + lease / 2
    }

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

    /// Records a probe from `peer` naming the latest echo it received (0: none yet); whether it
    /// proves a round trip (it names an echo this leader sent `peer`, recently enough to be kept).
    @discardableResult
    public mutating func probe(from peer: Raft.NodeID, lastEcho: UInt64, appliedIndex: UInt64, at now: MonotonicTime) -> Bool {
        applied[peer] = appliedIndex
        if mutations.isOn("one-way-lease") {
            proofs[peer] = now  // the bug: hearing the peer is taken as proof it hears us
            return true
        }
        guard lastEcho != 0, let echo = sent[peer]?.last(where: { $0.id == lastEcho }) else { return false }
        if proofs[peer].map({ $0 < echo.sentAt }) ?? true { proofs[peer] = echo.sentAt }
        return true
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

    /// Whether `peer`'s attempts may be expired as lost at `now`: a lease and the fencing margin
    /// have passed since the last echo sent to it (or since taking office, `leadingSince`).
    public func isLost(_ peer: Raft.NodeID, at now: MonotonicTime, lease: Duration, margin: Duration,
                       leadingSince: MonotonicTime) -> Bool {
        if mutations.isOn("one-way-lease") { return !holds(peer, at: now, lease: lease + margin, leadingSince: leadingSince) }
        let lastSent = sent[peer]?.last?.sentAt ?? leadingSince
        return now - max(lastSent, leadingSince) > lease + margin
    }
}
