import RaftCore

extension RaftDriver {
    /// The configuration in use: the latest in the log, committed or not (thesis §4.1).
    public var membership: Raft.Membership { instance.membership }

    /// Proposes a single-server membership change and returns once its entry is applied here.
    /// `directory` (the shell's encoded member directory) replaces the configuration's when given.
    ///
    /// - Throws: `.notLeader` (forward to `leaderHint`); `.refused` with the core's
    ///   `membership-change-pending` (another change is not committed yet: one at a time) or
    ///   `invalid-membership-change` (the change itself is wrong: an id already used, not a
    ///   learner…); the outcomes of ``propose(_:)`` otherwise.
    public func changeMembership(_ change: Raft.MembershipChange, directory: [UInt8]? = nil) async throws(RaftDriverError) -> Raft.LogIndex {
        guard phase != .stopped else { throw .shuttingDown(id) }
        let proposal: Raft.Proposal
        do {
            proposal = try instance.proposeMembershipChange(change, directory: directory)
        } catch {
            throw RaftDriverError(error)
        }
        return try await awaitApplied(proposal)
    }

    /// Writes `directory` into the log as the current member set's directory (no quorum change)
    /// and returns once applied here. Same refusals as ``changeMembership(_:directory:)``.
    public func recordDirectory(_ directory: [UInt8]) async throws(RaftDriverError) -> Raft.LogIndex {
        guard phase != .stopped else { throw .shuttingDown(id) }
        let proposal: Raft.Proposal
        do {
            proposal = try instance.proposeDirectory(directory)
        } catch {
            throw RaftDriverError(error)
        }
        return try await awaitApplied(proposal)
    }

    /// On the leader, whether `learner` has caught up enough to be promoted (Raft thesis §4.2.1,
    /// docs/raft.md "Membership changes"): its match index is at least the commit index less
    /// `slack` entries, and it answered within the current election timeout. `nil` off the
    /// leader or for a non-member.
    public func isCaughtUp(_ learner: Raft.NodeID, slack: UInt64) -> Bool? {
        guard instance.role == .leader, let state = instance.replicationState(of: learner) else { return nil }
        return state.recentlyActive && PromotionRule.isCaughtUp(match: state.match, commit: instance.commitIndex, slack: slack)
    }

    /// Whether a configuration entry is appended but not committed yet (a change in flight).
    public var membershipChangeInFlight: Bool {
        instance.lastLogIndex > instance.commitIndex && pendingConfigurationAboveCommit
    }

    private var pendingConfigurationAboveCommit: Bool {
        var index = instance.commitIndex.rawValue + 1
        while index <= instance.lastLogIndex.rawValue {
            if instance.entry(at: Raft.LogIndex(index))?.kind == .configChange { return true }
            index += 1
        }
        return false
    }
}

/// When a learner may become a voter (Raft thesis §4.2.1: promote a new server only once it is
/// about as far along as the others, so adding it does not stall commits while it catches up).
public enum PromotionRule {
    /// Whether a follower whose log matches the leader's through `match` is within `slack`
    /// entries of the commit index `commit`. Never overflows (saturating subtraction).
    public static func isCaughtUp(match: Raft.LogIndex, commit: Raft.LogIndex, slack: UInt64) -> Bool {
        let floor = commit.rawValue > slack ? commit.rawValue - slack : 0
        return match.rawValue >= floor && (match > .zero || commit == .zero)
    }
}
