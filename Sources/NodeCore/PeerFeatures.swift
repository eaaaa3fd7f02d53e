/// What a leader's build offers its followers beyond the frames every build knows, sent in a
/// version-2 ``LeaseEcho``. A follower uses a feature only while the leader it forwards to
/// advertised it in its latest echo; an older leader sends version-1 echoes, which advertise nothing.
public struct PeerFeatures: OptionSet, Hashable, Sendable {
    /// The feature bits, as sent in a version-2 echo.
    public let rawValue: UInt64

    /// A feature set from its bits (unknown bits, from a newer build, are kept and ignored).
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The leader takes forwards with relative times (frame `forwardUnstamped`) and resolves
    /// them with its own stamp.
    public static let unstampedForwarding = PeerFeatures(rawValue: 1 << 0)

    /// The leader decodes forwarded submits carrying `retry.max_lost_attempts` (command format 4,
    /// ``SchedulerCore/CommandCodec/lostAttemptCaps``). A follower forwarding to a leader without
    /// it strips the caps first (``NodeCore/forwardable(_:to:)``) instead of having the write refused
    /// as undecodable while the leader still runs an older build.
    public static let lostAttemptCaps = PeerFeatures(rawValue: 1 << 1)

    /// The leader stamps its cluster defaults (`[scheduler] retention_seconds`) into forwarded
    /// submits that left them out (command format 5, ``SchedulerCore/CommandCodec/leaderStampedDefaults``).
    /// A follower forwarding to a leader without it stamps its own defaults first.
    public static let clusterDefaults = PeerFeatures(rawValue: 1 << 2)

    /// The leader decodes job edits and idempotent trigger/requeue (command format 6,
    /// ``SchedulerCore/CommandCodec/jobEdits``). A follower forwarding to a leader without it
    /// sends a trigger or requeue without its key and refuses an edit (503 "upgrade in progress").
    public static let jobEdits = PeerFeatures(rawValue: 1 << 3)

    /// The leader decodes version-2 lease probes, which carry the executor's state digest for the
    /// replica check (``LeaseProbe/digest``). An executor sends a digest only to a leader with it:
    /// an older leader would drop the whole probe, and the executor's lease with it.
    public static let replicaDigests = PeerFeatures(rawValue: 1 << 4)

    /// Reserved for "the node understands a removal notice" (peer frame kind 19, "you were
    /// removed from cluster X at index I"); never advertised and never consulted, so not in
    /// ``thisBuild``. A member sends the notice to any removed id that dials it without asking
    /// first: it reads nothing from a removed node, so it could not learn that node's features,
    /// and a build without notices only logs the unknown frame kind and drops it (docs/raft.md,
    /// "Removal"). The bit stays taken so it is never given another meaning.
    public static let removalNotices = PeerFeatures(rawValue: 1 << 5)

    /// The leader takes many forwarded commands in one frame (peer frame 20, ``forwardBatch``) and
    /// answers them in one (frame 21): a follower coalesces the forwards waiting for the same
    /// leader instead of sending one frame 8 each. Implies ``unstampedForwarding`` (the batch holds
    /// unstamped commands). A follower of a leader without it sends frame 8 as before.
    public static let batchedForwarding = PeerFeatures(rawValue: 1 << 6)

    /// The leader decodes version-3 lease probes, which carry the executor's process incarnation
    /// (``LeaseProbe/processIncarnation``), and names it in assignments (command format 15). An
    /// executor sends one only to a leader with it: an older leader would drop the probe.
    public static let processIncarnations = PeerFeatures(rawValue: 1 << 7)

    /// The leader judges paced replica-check digests: a report at a checkpoint it passed without
    /// digesting is unverifiable at once rather than pending (``ReplicaDigestCheck/passed(_:digesting:)``).
    /// A member paces its digests (``ReplicaDigest/isPacedCheckpoint(_:interval:records:)``) only
    /// while its leader advertises this; under an older leader it digests every checkpoint, since
    /// that leader holds a member back, after an election, until the member reports a digest at
    /// least as new as the leader's own newest — which a paced member might not take for many
    /// checkpoints.
    public static let pacedDigests = PeerFeatures(rawValue: 1 << 8)

    /// What this build offers when it leads.
    public static let thisBuild: PeerFeatures = [.unstampedForwarding, .lostAttemptCaps, .clusterDefaults, .jobEdits,
                                                 .replicaDigests, .batchedForwarding, .processIncarnations, .pacedDigests]
}
