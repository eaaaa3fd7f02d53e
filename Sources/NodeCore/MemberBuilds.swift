import RaftCore
import SchedulerCore

/// The leader's record of which build format version each member runs, from their lease probes
/// (``LeaseProbe/commandFormatVersion``), and the gate that keeps a command kind out of the log
/// until every member can apply it.
///
/// A pure value. What counts for a member:
/// - its latest probe's version;
/// - ``SchedulerCore/CommandCodec/baselineFormatVersion`` (1) if it sends only legacy pings (a
///   build before probes) — a ping is ignored while the member's probes are fresh, because this
///   build sends pings next to its probes when the leader is slow to answer;
/// - if it was never heard from since this node took office (``forgetAll()``), the format
///   recorded for it in the replicated state (``SchedulerCore/SchedulerState/memberFormats``,
///   ``record(_:)``): a node refuses to start a build below its own record, so a member that is
///   down comes back running at least that. Without a record, the baseline: such a member may
///   come back running any build, and the baseline is what every build applies.
public struct MemberBuilds: Sendable {
    private struct Report: Sendable {
        var version: UInt32
        var probedAt: MonotonicTime?
    }

    private var reports: [Raft.NodeID: Report] = [:]
    /// The replicated records (``SchedulerCore/SchedulerState/memberFormats``); kept through ``forgetAll()``.
    public private(set) var recorded: [Raft.NodeID: UInt32] = [:]
    /// A ping does not lower a member whose last probe is at most this old.
    public let probeFreshness: Duration

    /// An empty record; pings count only when a member sent no probe within `probeFreshness`.
    public init(probeFreshness: Duration) { self.probeFreshness = probeFreshness }

    /// `peer` sent a probe reporting `version` at `now`.
    public mutating func probe(from peer: Raft.NodeID, formatVersion version: UInt32, at now: MonotonicTime) {
        reports[peer] = Report(version: version, probedAt: now)
    }

    /// `peer` sent a legacy ping at `now`: it runs a build before probes unless it probed recently.
    public mutating func legacyPing(from peer: Raft.NodeID, at now: MonotonicTime) {
        if let probed = reports[peer]?.probedAt, now - probed <= probeFreshness { return }
        reports[peer] = Report(version: CommandCodec.baselineFormatVersion, probedAt: nil)
    }

    /// Forgets every report (this node just took office: what it heard before may be stale).
    /// The replicated records stay.
    public mutating func forgetAll() { reports.removeAll() }

    /// The members' formats as the applied state records them (``SchedulerCore/SchedulerState/memberFormats``).
    public mutating func record(_ formats: [String: UInt32]) {
        recorded = Dictionary(uniqueKeysWithValues: formats.map { (Raft.NodeID($0.key), $0.value) })
    }

    /// The version `peer` counts as: its report, else its record, else the baseline.
    public func version(of peer: Raft.NodeID) -> UInt32 {
        reports[peer]?.version ?? max(CommandCodec.baselineFormatVersion, recorded[peer] ?? 0)
    }

    /// What members reported since this node took office, by node id, with this node's own build:
    /// what the leader records once every member can decode the record
    /// (``SchedulerCore/Command/recordMemberFormats(_:)``).
    public func reported(self selfID: Raft.NodeID) -> [String: UInt32] {
        var result = Dictionary(uniqueKeysWithValues: reports.map { ($0.key.rawValue, $0.value.version) })
        result[selfID.rawValue] = CommandCodec.buildFormatVersion
        return result
    }

    /// The highest format every one of `members` (and this build) can apply: what the leader
    /// downgrades its commands to (``SchedulerCore/Command/compatible(withFormat:)``).
    public func commonFormat(members: some Sequence<Raft.NodeID>, self selfID: Raft.NodeID) -> UInt32 {
        var common = CommandCodec.buildFormatVersion
        for member in members where member != selfID { common = min(common, version(of: member)) }
        return common
    }

    /// The highest format every one of `members` that reported since ``forgetAll()`` (and this
    /// build) can apply; members not heard from do not hold it down. For a spelling an older
    /// build meets only as a stop (it names the entry and asks for a newer build) and whose
    /// absence costs correctness: the assignment incarnations (``LeaderSide/dutyRound(at:commitIndex:incarnations:)``).
    /// A member down on an older build stops at such an entry when it comes back: upgrade it
    /// before starting it again, as for the Raft incarnation records (docs/raft.md).
    public func reportedFormat(members: some Sequence<Raft.NodeID>, self selfID: Raft.NodeID) -> UInt32 {
        var common = CommandCodec.buildFormatVersion
        for member in members where member != selfID {
            if let report = reports[member] { common = min(common, report.version) }
        }
        return common
    }

    /// Whether `peer` has reported anything since ``forgetAll()``.
    public func hasReported(_ peer: Raft.NodeID) -> Bool { reports[peer] != nil }

    /// Why `command` may not be proposed to `members` (every voter and learner; `selfID` runs
    /// this build), or `nil` when every one of them can apply it. `required` overrides the
    /// command's ``SchedulerCore/Command/minimumFormatVersion`` (tests use a synthetic one).
    public func refusal(for command: Command, required: UInt32? = nil, members: some Sequence<Raft.NodeID>,
                        self selfID: Raft.NodeID) -> FormatGateRefusal? {
        let needed = required ?? command.minimumFormatVersion
        var lagging: [FormatGateRefusal.Member] = []
        for member in members where member != selfID {
            let version = version(of: member)
            if version < needed { lagging.append(.init(id: member, version: version, reported: hasReported(member))) }
        }
        if CommandCodec.buildFormatVersion < needed {
            lagging.append(.init(id: selfID, version: CommandCodec.buildFormatVersion, reported: true))
        }
        guard !lagging.isEmpty else { return nil }
        return FormatGateRefusal(required: needed, lagging: lagging.sorted { $0.id < $1.id })
    }
}

/// A command the leader refused because some members run a build that could not apply it: the
/// cluster is in the middle of an upgrade. The API answers 503; retrying once every member runs
/// the new build succeeds.
public struct FormatGateRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// A member that is behind.
    public struct Member: Hashable, Sendable {
        /// The member.
        public var id: Raft.NodeID
        /// The format version it counts as.
        public var version: UInt32
        /// `false` when it was not heard from (counted as the baseline).
        public var reported: Bool
    }

    /// The format version the command needs.
    public var required: UInt32
    /// The members below it, by id.
    public var lagging: [Member]

    /// Names the members, their versions and what to do.
    public var message: String {
        let names = lagging.map { member in
            let recorded = member.version > CommandCodec.baselineFormatVersion ? ", its recorded build" : ""
            let shown = member.reported ? "format \(member.version)" : "not heard from yet, counted as format \(member.version)\(recorded)"
            return "\(member.id) (\(shown))"
        }.joined(separator: ", ")
        return "upgrade in progress: this write needs command format \(required), and these members run an older build: "
            + "\(names); nothing was written — finish upgrading them (or wait for them to report), then retry"
    }

    /// The ``message``.
    public var description: String { message }
}
