import RaftCore
import SchedulerCore
import SchedulerPlanning

/// Why the leader did not propose a client's command. Nothing was written in either case.
public enum LeaderRefusal: Error, Hashable, Sendable {
    /// Invalid at the leader's stamp (a cron schedule with no fire after it): the API answers 422
    /// naming the field.
    case invalid(UnstampedCommand.ResolveError)
    /// A member's build could not apply it (an upgrade is in progress): the API answers 503.
    case upgradeInProgress(FormatGateRefusal)
    /// A `[quotas]` limit refuses a creating command (``AdmissionQuotas``): the API answers 429
    /// or 507. Thrown by the leader's shell, which holds the counts; never by ``resolve``.
    case quotaExceeded(QuotaRefusal)

    /// The stamped command the leader proposes for `unstamped` at `stamp`, with the cluster's
    /// `defaults` for what the client left out, after the format gate over `members`
    /// (``MemberBuilds/refusal(for:required:members:self:)``). Pure: the running node and the
    /// scheduler simulator share it.
    public static func resolve(_ unstamped: UnstampedCommand, at stamp: Timestamp, defaults: SubmissionDefaults = .builtIn,
                               builds: MemberBuilds, members: Set<Raft.NodeID>,
                               self selfID: Raft.NodeID) throws(LeaderRefusal) -> StampedCommand {
        var command: Command
        do {
            command = try unstamped.resolved(at: stamp, defaults: defaults)
        } catch {
            throw .invalid(error)
        }
        // Spell what older members cannot decode the way they can, rather than refuse it.
        command = command.compatible(withFormat: builds.commonFormat(members: members, self: selfID))
        if let refusal = builds.refusal(for: command, members: members, self: selfID) { throw .upgradeInProgress(refusal) }
        return StampedCommand(at: stamp, command: command)
    }
}
