import RaftCore

/// A fingerprint of one replica's scheduler state at one applied index: the 64-bit FNV-1a digest
/// of the state's snapshot encoding (``SchedulerCore/SchedulerSnapshot/digest(_:)``). Two
/// replicas at the same index must have the same one; at different indexes they say nothing.
public struct ReplicaDigest: Hashable, Sendable, CustomStringConvertible {
    /// The applied index the state was encoded at.
    public var index: UInt64
    /// The digest.
    public var value: UInt64

    /// The digest `value` of a state at `index`.
    public init(index: UInt64, value: UInt64) {
        self.index = index
        self.value = value
    }

    /// The digest as 16 lowercase hex digits (as `GET /api/cluster/digest` shows it).
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    /// `index:hex`.
    public var description: String { "\(index):\(hex)" }

    /// Whether a replica computes its digest after applying `index`, every `interval` entries
    /// (`[cluster] digest_interval_entries`; 0 = never). Every node uses the same rule, so their
    /// digests fall on the same indexes and can be compared.
    public static func isCheckpoint(_ index: UInt64, interval: UInt64) -> Bool {
        interval > 0 && index > 0 && index % interval == 0
    }

    /// The records (jobs, runs, DAG runs) a paced digest encodes per applied entry, on average
    /// at most (``stride(records:interval:)``).
    public static let recordsPerEntry: UInt64 = 4

    /// How many checkpoints apart a member that paces its digests (``PeerFeatures/pacedDigests``)
    /// takes them, for a state of `records` records: the smallest power of two of at least
    /// `records / (recordsPerEntry × interval)`.
    ///
    /// Why: a digest encodes the whole state, so at every checkpoint it cost O(state) whatever
    /// the state weighed — 17 % of a leader's CPU with 300,000 pending jobs, 0.8 s of a core per
    /// checkpoint at 1,000,000 (docs/benchmarks.md, "A large state"). Paced, it encodes at most
    /// about ``recordsPerEntry`` records per applied entry; a state of up to `4 × interval`
    /// records (40,000 at the default) is digested at every checkpoint as before.
    public static func stride(records: Int, interval: UInt64) -> UInt64 {
        guard interval > 0 else { return 1 }
        let budget = recordsPerEntry.multipliedReportingOverflow(by: interval)
        guard !budget.overflow else { return 1 }
        let needed = records <= 0 ? 0 : (UInt64(records) - 1) / budget.partialValue + 1
        var stride: UInt64 = 1
        while stride < needed, stride < 1 << 40 { stride <<= 1 }
        return stride
    }

    /// Whether a member that paces its digests takes one after applying `index`, its state then
    /// holding `records` records: a checkpoint whose number (`index / interval`) is a multiple
    /// of the ``stride(records:interval:)``. The state at an index is the same on every replica,
    /// so every pacing member picks the same checkpoints.
    public static func isPacedCheckpoint(_ index: UInt64, interval: UInt64, records: Int) -> Bool {
        isCheckpoint(index, interval: interval) && (index / interval) % stride(records: records, interval: interval) == 0
    }
}

/// Two replicas that disagree at the same applied index (etcd's corruption check): one of them
/// applied the log differently, or its state was damaged since.
public struct DigestMismatch: Hashable, Sendable, CustomStringConvertible {
    /// The member whose report disagreed with the leader's own digest.
    public var member: Raft.NodeID
    /// The index both digests were taken at.
    public var index: UInt64
    /// The leader's digest there.
    public var leaderDigest: UInt64
    /// The member's digest there.
    public var memberDigest: UInt64

    /// A mismatch of `member` at `index`.
    public init(member: Raft.NodeID, index: UInt64, leaderDigest: UInt64, memberDigest: UInt64) {
        self.member = member
        self.index = index
        self.leaderDigest = leaderDigest
        self.memberDigest = memberDigest
    }

    /// Names the member, the index and both digests, and what to do.
    public var description: String {
        "replica \(member) reported digest \(ReplicaDigest(index: index, value: memberDigest).hex) at applied index \(index), "
            + "the leader has \(ReplicaDigest(index: index, value: leaderDigest).hex): its scheduler state diverged, so no work "
            + "is dispatched to it; wipe its data directory and let it rejoin (docs/operations.md), then clear the check "
            + "(quorum cluster clear-divergence \(member))"
    }
}

/// The leader's digest at one index disagrees with a majority of the voters that agree with each
/// other there: the leader's state, not theirs, is the odd one out.
public struct LeaderOutvoted: Hashable, Sendable, CustomStringConvertible {
    /// The index of the disagreement.
    public var index: UInt64
    /// The leader's digest there.
    public var leaderDigest: UInt64
    /// The digest the members below agree on.
    public var majorityDigest: UInt64
    /// The members that reported ``majorityDigest``, by id.
    public var members: [Raft.NodeID]

    /// Names the index, both digests and what to do.
    public var description: String {
        "this leader's state digest at applied index \(index) is \(ReplicaDigest(index: index, value: leaderDigest).hex), while "
            + "\(members.map(\.rawValue).joined(separator: ", ")) agree on \(ReplicaDigest(index: index, value: majorityDigest).hex): "
            + "this node's state diverged, so it dispatches no work to itself; hand leadership over (quorum cluster transfer), "
            + "then wipe this node and let it rejoin (docs/guarantees.md, \"Replica checks\")"
    }
}

/// The leader's comparison of its followers' state digests with its own (issue #19, "replica
/// checks"). A pure value: the shell feeds it the leader's own digests as they are computed
/// (``recordOwn(_:)``) and each member's latest report (``report(_:from:)``, from its lease
/// probe), and stops dispatch to every member in ``diverged``.
///
/// Only digests at the same index are compared. The leader keeps its last ``keep`` digests; a
/// report at an index it no longer keeps (a follower far behind, or one that lies about an index
/// long gone) is *unverifiable*, never a mismatch — the leader cannot judge it, and a false alarm
/// would stop a healthy node. A report ahead of the leader's newest digest waits (one per member)
/// until the leader computes its own there. Each (member, index) is judged once: the same report
/// arrives with every probe.
///
/// The leader is not taken as right blindly: when members that together are a majority of the
/// voters (``majority``) report the same digest at an index and it differs from the leader's, the
/// leader is the odd one out (``leaderOutvoted``) — those members are not held back, and the shell
/// stops dispatching to the leader itself instead.
///
/// A mismatch is sticky: the member stays in ``diverged`` until an operator clears it
/// (``clear(_:)``) — a later matching digest does not prove the state that disagreed was repaired,
/// and flapping dispatch on a damaged replica is worse than waiting for a person. The record lives
/// on the leader only, in memory; what carries a hold across a leader change is the first check
/// after taking office (``tookOffice()``): every node digests the same checkpoints, so the new
/// leader holds its own digest at the index a member's probes report (the member's latest), and
/// judges that report when the member's first probe arrives. Until that first probe
/// (``heard(from:)``) the member gets no work (a new leader would otherwise give every executor
/// the benefit of the doubt for a lease), so a still-diverged member is held again before it can
/// get any. A report the new leader cannot judge yet because the member is ahead of it (pending)
/// holds the member back until it can (``isAwaitingCheck(_:)``). docs/operations.md, "Divergence holds
/// across a leader change", says why no replicated record is needed and what is not covered.
public struct ReplicaDigestCheck: Sendable {
    /// What one report came to.
    public enum Outcome: Hashable, Sendable {
        /// Equal to the leader's digest at that index.
        case matched
        /// Different: the member is now in ``diverged``.
        case mismatch(DigestMismatch)
        /// Ahead of the leader's newest digest: kept until the leader has its own there.
        case pending
        /// At an index the leader holds no digest for (older than what it keeps, or one it skipped):
        /// nothing can be said.
        case unverifiable
        /// Already judged (the same report again), or not a checkpoint index of this cluster.
        case ignored
        /// Different, but this report made a majority of the voters agree against the leader
        /// (``leaderOutvoted``): the leader diverged, not the members.
        case leaderOutvoted(LeaderOutvoted)
    }

    /// How many of its own digests the leader keeps.
    public let keep: Int
    /// The checkpoint interval every member computes at (``ReplicaDigest/isCheckpoint(_:interval:)``).
    public let interval: UInt64
    /// The leader's own digests, oldest first, at most ``keep``.
    public private(set) var own: [ReplicaDigest] = []
    private var pending: [Raft.NodeID: ReplicaDigest] = [:]
    private var judged: [Raft.NodeID: UInt64] = [:]
    /// Each member's latest judged index and whether it matched (for `/api/cluster`).
    public private(set) var lastVerified: [Raft.NodeID: UInt64] = [:]
    /// Members whose digest disagreed with the leader's, and the first disagreement; no work is
    /// dispatched to them until ``clear(_:)``.
    public private(set) var diverged: [Raft.NodeID: DigestMismatch] = [:]
    /// How many agreeing members outvote the leader: a majority of the voters (set from the
    /// configuration by ``LeaderSide``; `Int.max`, never, until then).
    public var majority = Int.max
    /// Set once a majority agreed against the leader's digest (sticky until ``clearLeader()``).
    public private(set) var leaderOutvoted: LeaderOutvoted?
    /// The digests members reported at the leader's kept indexes (to count who agrees).
    private var reportedAt: [UInt64: [Raft.NodeID: UInt64]] = [:]
    /// Members whose report was judged (matched, or unverifiable) since this node last took
    /// office: only a member's first check after a leader change holds it back while it waits.
    private var checkedSinceOffice: Set<Raft.NodeID> = []
    /// This node's newest own checkpoint at a paced index when it took office: a member's report
    /// judged at an older index says nothing about its state since (it may have diverged after
    /// it), so it does not end the member's wait (``behindSinceOffice``).
    ///
    /// At a *paced* index: a member of this build sends a leader that paces its latest digest at
    /// a paced checkpoint (``ExecutorSide/tick(at:wallClock:leader:appliedIndex:digest:pacedDigest:)``).
    /// A node that followed an older leader digested every checkpoint; had it taken office with
    /// its newest digest of all as the mark, its members' latest paced digests — older — would
    /// have held them for up to a whole paced interval.
    private var officeIndex: UInt64 = 0
    /// This node's newest own digest at a checkpoint that pacing nodes digest too.
    private var newestPacedOwn: UInt64 = 0
    /// Members whose reports since this node took office were all judged below ``officeIndex``.
    private var behindSinceOffice: Set<Raft.NodeID> = []
    /// Members whose lease probe (or legacy ping) arrived since this node last took office.
    private var heardSinceOffice: Set<Raft.NodeID> = []
    /// The newest checkpoint this node applied, digested or not (``passed(_:digesting:)``).
    private var newestPassed: UInt64 = 0
    /// Checkpoints this node passed whose digest it is still computing.
    private var awaited: Set<UInt64> = []

    /// A check keeping the leader's last `keep` digests (at least 1), taken every `interval` entries.
    public init(interval: UInt64, keep: Int = 8) {
        self.interval = interval
        self.keep = max(1, keep)
    }

    /// The leader's own digest at `digest.index` was computed; answers the mismatches among the
    /// reports that were waiting for it. Digests must arrive in increasing index order (an older
    /// one is ignored: the state machine computes them in apply order, but one may be skipped).
    /// `paced`: taken at a checkpoint that pacing nodes digest too
    /// (``ReplicaDigest/isPacedCheckpoint(_:interval:records:)``).
    public mutating func recordOwn(_ digest: ReplicaDigest, paced: Bool = true) -> [DigestMismatch] {
        awaited = awaited.filter { $0 > digest.index }
        if paced { newestPacedOwn = max(newestPacedOwn, digest.index) }
        if let newest = own.last, digest.index <= newest.index { return [] }
        own.append(digest)
        if own.count > keep { own.removeFirst(own.count - keep) }
        if let oldest = own.first?.index { reportedAt = reportedAt.filter { $0.key >= oldest } }
        var found: [DigestMismatch] = []
        for (member, report) in pending.sorted(by: { $0.key < $1.key }) where report.index <= digest.index {
            pending[member] = nil
            if case .mismatch(let mismatch) = judge(report, from: member) { found.append(mismatch) }
        }
        return found
    }

    /// This node applied checkpoint `index` and is computing its digest there (`digesting`), or
    /// is not: its digests are paced (``ReplicaDigest/isPacedCheckpoint(_:interval:records:)``)
    /// or the previous one was still being computed. A report at a checkpoint passed without a
    /// digest can never be judged: it is unverifiable at once, not pending until this node's
    /// next digest — which, paced, may be many checkpoints away, and a member whose first report
    /// since this node took office is pending gets no work (``isAwaitingCheck(_:)``; a member of
    /// an older build digests every checkpoint). Checkpoints are passed in increasing order.
    public mutating func passed(_ index: UInt64, digesting: Bool) {
        guard ReplicaDigest.isCheckpoint(index, interval: interval), index > newestPassed else { return }
        newestPassed = index
        // The digest may already have been recorded (it is computed on another thread).
        if digesting, own.last.map({ $0.index < index }) ?? true { awaited.insert(index) }
        for (member, report) in pending.sorted(by: { $0.key < $1.key }) where isUnverifiable(report.index) {
            pending[member] = nil
            _ = judge(report, from: member)
        }
    }

    /// Whether a report at `index` can never be judged: this node passed that checkpoint with no
    /// digest there and none being computed.
    private func isUnverifiable(_ index: UInt64) -> Bool {
        index <= newestPassed && !awaited.contains(index) && !own.contains { $0.index == index }
    }

    /// `member`'s latest report (it may repeat with every probe).
    public mutating func report(_ digest: ReplicaDigest, from member: Raft.NodeID) -> Outcome {
        guard ReplicaDigest.isCheckpoint(digest.index, interval: interval) else { return .ignored }
        if let done = judged[member], digest.index <= done { return .ignored }
        if isUnverifiable(digest.index) { return judge(digest, from: member) }
        if let newest = own.last, digest.index > newest.index {
            // One waiting report per member: a newer one replaces it (the older can no longer be
            // the member's latest state anyway).
            pending[member] = digest
            return .pending
        }
        if own.isEmpty {
            pending[member] = digest
            return .pending
        }
        return judge(digest, from: member)
    }

    private mutating func judge(_ digest: ReplicaDigest, from member: Raft.NodeID) -> Outcome {
        judged[member] = max(judged[member] ?? 0, digest.index)
        if digest.index >= officeIndex {
            checkedSinceOffice.insert(member)
            behindSinceOffice.remove(member)
        } else if !checkedSinceOffice.contains(member) {
            behindSinceOffice.insert(member)
        }
        guard let mine = own.first(where: { $0.index == digest.index }) else { return .unverifiable }
        lastVerified[member] = digest.index
        if mine.value == digest.value { return .matched }
        reportedAt[digest.index, default: [:]][member] = digest.value
        let agreeing = (reportedAt[digest.index] ?? [:]).filter { $0.value == digest.value }.keys.sorted()
        if agreeing.count >= majority {
            let outvoted = LeaderOutvoted(index: digest.index, leaderDigest: mine.value, majorityDigest: digest.value, members: agreeing)
            if leaderOutvoted == nil { leaderOutvoted = outvoted }
            // They were right: lift the holds this disagreement put on them.
            for other in agreeing where diverged[other].map({ $0.index == digest.index && $0.memberDigest == digest.value }) == true {
                diverged[other] = nil
            }
            return .leaderOutvoted(outvoted)
        }
        let mismatch = DigestMismatch(member: member, index: digest.index, leaderDigest: mine.value, memberDigest: digest.value)
        if diverged[member] == nil { diverged[member] = mismatch }
        return .mismatch(mismatch)
    }

    /// An operator repaired the leader's own state (or it will hand leadership over): it
    /// dispatches to itself again. Returns what was cleared, if anything.
    @discardableResult
    public mutating func clearLeader() -> LeaderOutvoted? {
        defer { leaderOutvoted = nil }
        return leaderOutvoted
    }

    /// Whether `member` diverged (until an operator clears it).
    public func isDiverged(_ member: Raft.NodeID) -> Bool { diverged[member] != nil }

    /// Whether `member` waits for its first check since this node took office: no lease probe of
    /// it arrived yet (the probe carries the digest, judged first), or its report is ahead of this
    /// node's newest digest (``Outcome/pending``) while this node has digests of its own (a node
    /// that has none yet — a process that has not reached a checkpoint since it started — could
    /// not judge it for up to a whole interval, and does not hold it meanwhile).
    public func isAwaitingCheck(_ member: Raft.NodeID) -> Bool {
        guard diverged[member] == nil else { return false }
        guard heardSinceOffice.contains(member) else { return true }
        if behindSinceOffice.contains(member) { return true }
        return !checkedSinceOffice.contains(member) && pending[member] != nil && !own.isEmpty
    }

    /// A lease probe (or a legacy ping) of `member` arrived, after its digest, if it carried one,
    /// was reported (``report(_:from:)``).
    public mutating func heard(from member: Raft.NodeID) {
        heardSinceOffice.insert(member)
    }

    /// Whether `member` gets no work: it diverged, or it waits for its first check since this
    /// node took office (``isAwaitingCheck(_:)``).
    public func isHeld(_ member: Raft.NodeID) -> Bool { isDiverged(member) || isAwaitingCheck(member) }

    /// This node took office: every member's next report is judged afresh (a member this node
    /// judged while it led before may have diverged since, under another leader), and each
    /// member's first probe and check count again for ``isAwaitingCheck(_:)``. Holds (``diverged``) stay.
    public mutating func tookOffice() {
        judged = [:]
        checkedSinceOffice = []
        heardSinceOffice = []
        behindSinceOffice = []
        officeIndex = newestPacedOwn
    }

    /// An operator repaired `member` (wiped and rejoined it, or checked it): it gets work again and
    /// its next report is judged afresh. Returns the mismatch that was cleared, if any.
    @discardableResult
    public mutating func clear(_ member: Raft.NodeID) -> DigestMismatch? {
        judged[member] = nil
        pending[member] = nil
        return diverged.removeValue(forKey: member)
    }
}
