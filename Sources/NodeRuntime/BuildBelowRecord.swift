import RaftCore
import SchedulerCore

/// This node runs a build older than the one the replicated state records for it
/// (``SchedulerCore/SchedulerState/memberFormats``): a downgrade below a recorded build. The node
/// stops, since leaders count it as its record while they have not heard from it and could commit
/// entries it cannot decode (docs/upgrades.md, "Recorded builds").
public struct BuildBelowRecord: Error, Hashable, Sendable, CustomStringConvertible {
    /// This node.
    public var node: String
    /// The format the state records for it.
    public var recorded: UInt32
    /// This build's format (``SchedulerCore/CommandCodec/buildFormatVersion``).
    public var build: UInt32

    /// The refusal when `state` records more for `node` than this build's format, else nil.
    public static func check(_ state: SchedulerState, node: String) -> BuildBelowRecord? {
        guard let recorded = state.memberFormats[node], recorded > CommandCodec.buildFormatVersion else { return nil }
        return BuildBelowRecord(node: node, recorded: recorded, build: CommandCodec.buildFormatVersion)
    }

    /// What happened and what to do.
    public var description: String {
        "node \(node) once ran a build of command format \(recorded), recorded in the cluster's state, and this build knows only "
            + "format \(build): a downgrade below a recorded build is refused (the leaders count this node as format \(recorded) "
            + "and may have written entries this build cannot read). Run a build of format \(recorded) or newer on this node; "
            + "see docs/upgrades.md, \"Recorded builds\""
    }
}
