import RaftCore
import SchedulerCore

/// The executor's half of a node's decisions: its lease (when to probe the leader, when to
/// fence) and what each leader advertised (which forwards it takes, which command format).
///
/// A pure value. ``NodeCore`` holds one, and so does a running node's peer link (see
/// ``LeaderSide`` for why it is one value for both).
public struct ExecutorSide: Sendable {
    /// This node.
    public let id: Raft.NodeID
    /// The lease.
    public private(set) var lease: ExecutorLease
    /// The features each leader advertised in its latest echo.
    private var leaderFeatures: [Raft.NodeID: PeerFeatures] = [:]
    /// The leader the latest probe went to, and whether an echo from it has come since this
    /// node began probing it (the first one asks for a second probe at once: ``echoed(_:by:echoID:features:leaderStamp:at:)``).
    private var probing: (leader: Raft.NodeID, echoed: Bool)?
    /// This process's incarnation (drawn at start, never reused; 0 = none): sent in probes to a
    /// leader that advertised ``PeerFeatures/processIncarnations``, which names it in assignments.
    public let processIncarnation: UInt64

    /// The executor side of node `id`, started at `started`, with lease `lease`, whose process
    /// incarnation is `processIncarnation` (0: none, never sent).
    public init(id: Raft.NodeID, lease: Duration, started: MonotonicTime, processIncarnation: UInt64 = 0) {
        self.id = id
        self.processIncarnation = processIncarnation
        self.lease = ExecutorLease(lease: lease, started: started)
    }

    /// What a tick asks for.
    public struct Tick: Sendable {
        /// A probe to send to the leader (and whether a legacy ping goes too), if any.
        public var probe: (to: Raft.NodeID, probe: LeaseProbe, legacy: Bool)?
        /// Whether the lease ran out: every running attempt must stop.
        public var fence: Bool
    }

    /// Every lease/8 (and when a new leader is seen): probe the leader, or fence if the lease ran
    /// out. `leader` is who this node believes leads (itself when leading). `digest`, this node's
    /// latest state digest, rides on the probe when the leader advertised
    /// ``PeerFeatures/replicaDigests`` in its latest echo (an older leader would drop the probe) —
    /// `pacedDigest`, its latest at a checkpoint pacing nodes digest too, when the leader also
    /// advertised ``PeerFeatures/pacedDigests`` (it took that one; a newer one it may not have) —
    /// and this process's incarnation when it advertised ``PeerFeatures/processIncarnations``.
    public mutating func tick(at now: MonotonicTime, wallClock: Timestamp, leader: Raft.NodeID?,
                              appliedIndex: Raft.LogIndex, digest: ReplicaDigest? = nil, pacedDigest: ReplicaDigest? = nil) -> Tick {
        var probe: (to: Raft.NodeID, probe: LeaseProbe, legacy: Bool)?
        if leader == id {
            lease.leading(at: now)
        } else if let leader {
            var (made, legacy) = lease.probe(leader, at: now, appliedIndex: appliedIndex, wallClock: wallClock,
                                             legacyAfter: lease.lease / 2)
            if probing?.leader != leader { probing = (leader, false) }
            let features = leaderFeatures[leader] ?? []
            if features.contains(.replicaDigests) { made.digest = features.contains(.pacedDigests) ? pacedDigest : digest }
            if features.contains(.processIncarnations), processIncarnation != 0 { made.processIncarnation = processIncarnation }
            probe = (leader, made, legacy)
        }
        return Tick(probe: probe, fence: lease.mustFence(at: now))
    }

    /// `peer` echoed probe `sequence` (`echoID` nil for a legacy pong, which says nothing about
    /// features; an echo's features replace what `peer` advertised before). Returns whether to
    /// probe `peer` again at once rather than at the next tick: this is the first echo from the
    /// leader this node now probes. The probes before it named no echo of that leader's (a new
    /// leader, or a leader or executor that restarted) and may have gone without this process
    /// or digest (its features were not known yet); the leader gives this executor no work until
    /// a probe carrying them proves a round trip — after every election and restart, that takes
    /// a round trip instead of a probe period (lease/8).
    @discardableResult
    public mutating func echoed(_ sequence: UInt64, by peer: Raft.NodeID, echoID: UInt64?, features: PeerFeatures?,
                                leaderStamp: Timestamp? = nil, at now: MonotonicTime) -> Bool {
        lease.echoed(sequence, by: peer, echoID: echoID, leaderStamp: leaderStamp, at: now)
        guard echoID != nil else { return false }
        leaderFeatures[peer] = features ?? []
        guard let current = probing, current.leader == peer, !current.echoed else { return false }
        probing = (peer, true)
        return true
    }

    /// Whether a round trip (or leading) proves this node's lease at `now`.
    public func isProven(at now: MonotonicTime) -> Bool { lease.isProven(at: now) }

    /// Whether the lease ran out at `now` (this node must not run attempts).
    public func mustFence(at now: MonotonicTime) -> Bool { lease.mustFence(at: now) }

    /// When the lease last came back after running out (``ExecutorLease/lastLapseEnded``), in
    /// scheduler time: the leader's stamp in the echo that brought it back
    /// (``ExecutorLease/lastLapseEndedStamp``), or — from a leader of a build before command
    /// format 16, or when this node's own leadership ended the lapse — that moment as a
    /// wall-clock time given this node's monotonic `now` and wall clock `wall`.
    ///
    /// Why the leader's stamp: assignments are stamped by the leader, and a node cut off from
    /// it may come back with its wall clock stepped far behind (a VM resumed, an NTP step); the
    /// conversion then placed the lapse's end before assignments the leader made, and expired,
    /// while it was out, so the node started them beside their retries (the scheduler simulator,
    /// seed 4209 with five nodes: a node cut off for 11 s with its clock an hour behind).
    public func lastLapseEnded(now: MonotonicTime, wall: Timestamp) -> Timestamp? {
        if let stamp = lease.lastLapseEndedStamp { return stamp }
        guard let ended = lease.lastLapseEnded else { return nil }
        let ago = now - ended
        let (seconds, attoseconds) = ago.components
        return wall.adding(milliseconds: -(seconds * 1_000 + attoseconds / 1_000_000_000_000_000))
    }

    /// Records that this node leads at `now` and returns whether the lease ran out.
    public mutating func mustFence(at now: MonotonicTime, leading: Bool) -> Bool {
        if leading { lease.leading(at: now) }
        return lease.mustFence(at: now)
    }

    /// Whether `leader` advertised unstamped forwards in its latest echo (a version-1 echo, from
    /// an older build, advertises nothing): only then does this node send it relative times.
    public func takesUnstampedForwards(_ leader: Raft.NodeID) -> Bool {
        leaderFeatures[leader]?.contains(.unstampedForwarding) ?? false
    }

    /// Whether this node paces its replica-check digests (``PeerFeatures/pacedDigests``): it leads
    /// (`leading`; it judges paced reports itself), or the leader it probes advertised them in its
    /// latest echo. Otherwise — no leader known, no echo yet, an older leader — every checkpoint.
    public func pacesDigests(leading: Bool) -> Bool {
        if leading { return true }
        guard let leader = probing?.leader else { return false }
        return leaderFeatures[leader]?.contains(.pacedDigests) ?? false
    }

    /// Whether `leader` advertised batched forwards (``PeerFeatures/batchedForwarding``) in its
    /// latest echo: only then does this node coalesce its forwards into frame 20.
    public func takesBatchedForwards(_ leader: Raft.NodeID) -> Bool {
        leaderFeatures[leader]?.isSuperset(of: [.unstampedForwarding, .batchedForwarding]) ?? false
    }

    /// The newest command format `leader` is known to decode, from its latest echo's features:
    /// one advertising ``PeerFeatures/jobEdits`` runs this build's format, one advertising
    /// ``PeerFeatures/clusterDefaults`` format 5, one advertising ``PeerFeatures/lostAttemptCaps``
    /// format 4 (below 6 a trigger or requeue goes without its key, an edit is refused), one
    /// advertising only unstamped forwards format 2, one that advertised nothing (an older build)
    /// format 1.
    public func leaderFormat(_ leader: Raft.NodeID) -> UInt32 {
        let features = leaderFeatures[leader] ?? []
        if features.contains(.jobEdits) { return CommandCodec.buildFormatVersion }
        if features.contains(.clusterDefaults) { return CommandCodec.leaderStampedDefaults }
        if features.contains(.lostAttemptCaps) { return CommandCodec.lostAttemptCaps }
        return features.contains(.unstampedForwarding) ? 2 : CommandCodec.baselineFormatVersion
    }

    /// `command` as `leader` can decode it when forwarded (see ``leaderFormat(_:)``): a leader on
    /// a build before command format 4 would refuse a forward carrying lost caps as undecodable;
    /// downgraded, the job keeps the old retry rule, as the leader's own downgrade would give it.
    public func forwardable(_ command: Command, to leader: Raft.NodeID) -> Command {
        command.compatible(withFormat: leaderFormat(leader))
    }
}
