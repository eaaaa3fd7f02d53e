import RaftCore
import SchedulerCore

/// The events of applied entries that a proposer on this node may still ask for: what its entry
/// did, to answer its client (``SchedulerStateMachine/events(at:claim:)``).
///
/// Why claims: the node used to keep the events of the last 16,384 applied entries whatever they
/// held — with 1,000-job batches all 2,000,000 events of a 1M-job load, 64–128 MiB (issue #18).
/// A proposer does not know its entry's index until the proposal is accepted, but that index is
/// above what this node had applied when it started (the entry is appended after every
/// committed one), so a proposer claims the entries after the applied index before proposing,
/// and the events of an entry are kept only while a claim covers it. Memory is bounded by the
/// entries applied while proposals are in flight, not by a count.
///
/// `ceiling` still caps the entries kept, so that a claim never released (a bug) cannot grow
/// memory without end: a proposer whose entry's events were dropped reads `nil` — an unknown
/// outcome — never `[]`.
struct ProposerEvents {
    /// A proposer's claim on the events of the entries applied after it was taken.
    struct Claim: Hashable, Sendable {
        fileprivate let id: UInt64
    }

    /// The most entries kept at once, however many claims are open.
    let ceiling: Int
    /// Each open claim and the applied index when it was taken: it covers the entries after it.
    private var floors: [UInt64: Raft.LogIndex] = [:]
    /// The lowest floor of the open claims (`nil` without one).
    private var lowestFloor: Raft.LogIndex?
    private var nextClaim: UInt64 = 0
    private var kept: [Raft.LogIndex: [SchedulerEvent]] = [:]
    /// The indexes in `kept`, in the order they were applied (ascending), from `start`.
    private var order: [Raft.LogIndex] = []
    private var start = 0

    init(ceiling: Int) {
        self.ceiling = ceiling
    }

    /// The number of entries whose events are kept.
    var count: Int { kept.count }

    /// Claims the events of the entries applied after `appliedIndex`.
    mutating func claim(after appliedIndex: Raft.LogIndex) -> Claim {
        nextClaim += 1
        floors[nextClaim] = appliedIndex
        lowestFloor = min(lowestFloor ?? appliedIndex, appliedIndex)
        return Claim(id: nextClaim)
    }

    /// Ends `claim`, and forgets the events no open claim covers any more.
    mutating func release(_ claim: Claim) {
        guard floors.removeValue(forKey: claim.id) != nil else { return }
        lowestFloor = floors.values.min()
        guard let lowestFloor else { return forgetAll() }
        while start < order.count, order[start] <= lowestFloor { dropFirst() }
    }

    /// Keeps the events of the entry at `index` if an open claim covers it.
    mutating func remember(_ events: [SchedulerEvent], at index: Raft.LogIndex) {
        guard let lowestFloor, index > lowestFloor else { return }
        kept[index] = events
        order.append(index)
        while order.count - start > ceiling { dropFirst() }
    }

    /// The events of the entry at `index`, if kept.
    func events(at index: Raft.LogIndex) -> [SchedulerEvent]? { kept[index] }

    /// Forgets every entry's events (a snapshot replaced the state); the claims stay open.
    mutating func forgetAll() {
        kept = [:]
        order = []
        start = 0
    }

    private mutating func dropFirst() {
        kept[order[start]] = nil
        start += 1
        if start > 1_024, start * 2 > order.count {
            order.removeFirst(start)
            start = 0
        }
    }
}
