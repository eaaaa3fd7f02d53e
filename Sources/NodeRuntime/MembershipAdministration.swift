import Node
import NodeCore
import RaftCore
import SchedulerCore

/// Why a membership write was not done. The `quorum` executable maps it to HTTP.
public enum MembershipRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// This node does not lead; nothing was changed (503: try the leader, named if known).
    case notLeader(String)
    /// The id is in use or was removed, or the member is not in the state the change needs (409).
    case conflict(String)
    /// Another configuration change is not committed yet, or the learner has not caught up (409
    /// `change_in_progress`); retry shortly.
    case changeInProgress(String)
    /// A bad value; `field` names it (422).
    case invalid(field: String, String)
    /// No such member (404).
    case notFound(String)
    /// Proposed, but the outcome is not known (leadership changed): read `/api/cluster` (503).
    case outcomeUnknown(String)

    public var description: String {
        switch self {
        case .notLeader(let message), .conflict(let message), .changeInProgress(let message), .notFound(let message),
             .outcomeUnknown(let message): message
        case .invalid(let field, let message): "\(field): \(message)"
        }
    }
}

/// The leader's side of `POST/DELETE /api/cluster/nodes…` and `POST /api/cluster/leader`
/// (docs/raft.md, "Membership changes"): one single-server change at a time, the new member's
/// addresses in the same configuration entry.
struct MembershipAdministration: Sendable {
    let driver: RaftDriver
    let membership: MembershipView
    let settings: NodeSettings
    /// The members' reported build formats (``PeerLink/memberBuilds()``): a change that writes
    /// a member directory waits until every member reads directories.
    let builds: @Sendable () -> MemberBuilds

    /// A learner is promotable when its log matches the leader's through at least the commit
    /// index less this many entries (and it answered within the current election timeout).
    static let promotionSlackEntries: UInt64 = 64

    func addLearner(_ id: Raft.NodeID, record: MemberDirectory.Record) async throws(MembershipRefusal) {
        try await requireLeader()
        let current = await driver.membership
        if current.removed.contains(id) {
            throw .conflict("\(id) was removed earlier and node ids are never reused; give the new node a new id")
        }
        if current.contains(id) { throw .conflict("\(id) is already a member (\(current)); node ids are never reused") }
        var directory = membership.directory
        for (other, existing) in directory.records {
            if existing.raft == record.raft { throw .invalid(field: "raft", "\(record.raft) is already \(other)'s raft address") }
            if existing.api == record.api { throw .invalid(field: "api", "\(record.api) is already \(other)'s api address") }
        }
        directory[id] = record
        try await propose(.addLearner(id), directory: directory.keeping(only: current.members.union([id])).encoded)
    }

    func promote(_ id: Raft.NodeID) async throws(MembershipRefusal) {
        try await requireLeader()
        let current = await driver.membership
        guard current.contains(id) else { throw .notFound("\(id) is not a member (\(current))") }
        guard current.learners.contains(id) else { throw .conflict("\(id) is already a voter") }
        guard await driver.isCaughtUp(id, slack: Self.promotionSlackEntries) == true else {
            let match = await driver.matchIndex(of: id)?.rawValue ?? 0
            let commit = await driver.status.commitIndex.rawValue
            throw .changeInProgress("\(id) has not caught up yet (its log matches through \(match), the commit index is \(commit); "
                + "it must be within \(Self.promotionSlackEntries) entries and have answered within the last election timeout); "
                + "retry in a moment")
        }
        try await propose(.promote(id), directory: nil)
    }

    /// Removes `id`. A leader asked to remove itself first hands leadership to the most
    /// caught-up other voter and answers `.notLeader` naming it: the new leader removes it.
    func remove(_ id: Raft.NodeID) async throws(MembershipRefusal) {
        try await requireLeader()
        let current = await driver.membership
        if current.removed.contains(id) { throw .conflict("\(id) was already removed") }
        guard current.contains(id) else { throw .notFound("\(id) is not a member (\(current))") }
        if id == driver.id {
            guard let target = await mostCaughtUpVoter(excluding: id, in: current) else {
                throw .conflict("\(id) is the last voter; a cluster needs at least one voter")
            }
            try await transfer(to: target)
            throw .notLeader("\(id) handed leadership to \(target) before its removal; send the removal to \(target)")
        }
        try await propose(.remove(id), directory: membership.directory.keeping(only: current.members.subtracting([id])).encoded)
    }

    /// Marks `id` draining (or not) in the member directory: the same members, one directory
    /// entry (``RaftDriver/recordDirectory(_:)``). A directory with a drain mark is format 2,
    /// which only builds of ``SchedulerCore/CommandCodec/placement`` read, so setting one waits
    /// (409) until every member reports that. Idempotent: a member already so marked is left as is.
    func setDraining(_ id: Raft.NodeID, _ draining: Bool) async throws(MembershipRefusal) {
        try await updateRecord(of: id) { record throws(MembershipRefusal) in
            if draining, let refusal = Self.drainRefusal(members: await driver.membership.members, self: driver.id, builds: builds()) {
                throw refusal
            }
            record.draining = draining
        }
    }

    /// Replaces `id`'s labels in the member directory (same members, one directory entry, like
    /// a drain). Writing a directory at all waits for every member to read directories
    /// (``directoryRefusal(members:self:builds:)``).
    func setLabels(_ id: Raft.NodeID, _ labels: [String: String]) async throws(MembershipRefusal) {
        try await updateRecord(of: id) { record throws(MembershipRefusal) in
            if let refusal = Self.directoryRefusal(members: await driver.membership.members, self: driver.id, builds: builds()) {
                throw refusal
            }
            record.labels = labels
        }
    }

    /// Applies `change` to member `id`'s directory record and writes the directory
    /// (``RaftDriver/recordDirectory(_:)``) unless nothing changed. Idempotent.
    private func updateRecord(of id: Raft.NodeID,
                              _ change: (inout MemberDirectory.Record) async throws(MembershipRefusal) -> Void) async throws(MembershipRefusal) {
        try await requireLeader()
        let current = await driver.membership
        guard current.contains(id) else { throw .notFound("\(id) is not a member (\(current))") }
        var directory = membership.directory.keeping(only: current.members)
        guard let old = directory[id] else {
            throw .changeInProgress("\(id)'s addresses are not in the member directory yet; retry in a moment")
        }
        var record = old
        try await change(&record)
        guard record != old else { return }
        directory[id] = record
        let encoded = directory.encoded
        try await retryingWhileChangePending { () async throws(RaftDriverError) in _ = try await driver.recordDirectory(encoded) }
    }

    /// Why a drain must wait: a member (not `selfID`) reports a build below
    /// ``SchedulerCore/CommandCodec/placement``, which cannot read a directory with drain marks.
    static func drainRefusal(members: Set<Raft.NodeID>, self selfID: Raft.NodeID, builds: MemberBuilds) -> MembershipRefusal? {
        let lagging = members.filter { $0 != selfID && builds.version(of: $0) < CommandCodec.placement }
            .sorted().map { "\($0) at format \(builds.version(of: $0))" }
        guard !lagging.isEmpty else { return nil }
        return .changeInProgress("not every member runs a build that reads drain marks (format \(CommandCodec.placement)) yet: "
            + "\(lagging.joined(separator: ", ")); nothing was changed: finish upgrading every node, then retry")
    }

    /// Hands leadership to `target` and waits (two election timeouts at most) until it leads.
    func transfer(to target: Raft.NodeID) async throws(MembershipRefusal) {
        try await requireLeader()
        guard target != driver.id else { return }
        let current = await driver.membership
        guard current.voters.contains(target) else {
            throw .invalid(field: "to", "\(target) is not a voter (\(current)); transfer to one of the voters")
        }
        do {
            try await driver.transferLeadership(to: target)
        } catch {
            throw Self.refusal(error)
        }
        let deadline = settings.clock.monotonic() + settings.electionTimeout * 2
        while settings.clock.monotonic() < deadline {
            if await driver.status.leader == target { return }
            do {
                try await settings.clock.sleep(for: settings.leaderPoll)
            } catch {
                break
            }
        }
        throw .outcomeUnknown("\(target) did not take over within \(settings.electionTimeout * 2); see GET /api/cluster and retry")
    }

    private func mostCaughtUpVoter(excluding id: Raft.NodeID, in current: Raft.Membership) async -> Raft.NodeID? {
        var best: (id: Raft.NodeID, match: Raft.LogIndex)?
        for voter in current.voters.sorted() where voter != id {
            guard let match = await driver.matchIndex(of: voter) else { continue }
            if let known = best, known.match >= match { continue }
            best = (voter, match)
        }
        return best?.id
    }

    /// Runs `propose`, again every leader poll for up to one election timeout while another
    /// configuration change is still uncommitted (an operator's, or the leader's own incarnation
    /// record); any other refusal, or the same one past the deadline, is thrown.
    private func retryingWhileChangePending(_ propose: () async throws(RaftDriverError) -> Void) async throws(MembershipRefusal) {
        let deadline = settings.clock.monotonic() + settings.electionTimeout
        while true {
            do {
                try await propose()
                return
            } catch {
                let refusal = Self.refusal(error)
                guard case .changeInProgress = refusal, error.raftError?.code == .membershipChangePending,
                      settings.clock.monotonic() < deadline
                else { throw refusal }
            }
            do {
                try await settings.clock.sleep(for: settings.leaderPoll)
            } catch {
                throw .changeInProgress("interrupted while waiting for the configuration change in flight to commit; retry")
            }
        }
    }

    private func requireLeader() async throws(MembershipRefusal) {
        let status = await driver.status
        guard status.leader == driver.id else {
            let leader = status.leader.map { leader in
                "\(leader)" + (membership.directory[leader].map { " at \($0.api)" } ?? "")
            } ?? "no leader known yet"
            throw .notLeader("\(driver.id) is not the leader (\(leader)); nothing was changed: send membership changes to the leader")
        }
    }

    /// Proposes `change`, waiting up to one election timeout for an uncommitted configuration
    /// entry (another operator's change, or the leader's own incarnation record right after a
    /// promotion) to commit first; still one change at a time, then 409 `change_in_progress`.
    private func propose(_ change: Raft.MembershipChange, directory: [UInt8]?) async throws(MembershipRefusal) {
        if directory != nil {
            let gated = Self.directoryGateMembers(for: change, current: await driver.membership.members)
            if let refusal = Self.directoryRefusal(members: gated, self: driver.id, builds: builds()) {
                throw refusal
            }
        }
        try await retryingWhileChangePending { () async throws(RaftDriverError) in
            _ = try await driver.changeMembership(change, directory: directory)
        }
    }

    /// The members whose builds must read directories before `change` may carry one: the
    /// current members, less the one a removal takes out. A removed member need not read the
    /// entry (it leaves, and the leader stops replicating to it), and counting it would make a
    /// dead member that this leader never heard from — a former leader, or any member that died
    /// before this leader took office — impossible to remove, and with it every later add.
    static func directoryGateMembers(for change: Raft.MembershipChange, current: Set<Raft.NodeID>) -> Set<Raft.NodeID> {
        guard case .remove(let removed) = change else { return current }
        return current.subtracting([removed])
    }

    /// Why a change that writes a member directory must wait: a member (not `selfID`) reports —
    /// or, unheard since this leader took office, counts as — a build below
    /// ``SchedulerCore/CommandCodec/memberDirectories``, which would ignore the entry and keep
    /// its older member list. `nil` when every member reads directories.
    static func directoryRefusal(members: Set<Raft.NodeID>, self selfID: Raft.NodeID, builds: MemberBuilds) -> MembershipRefusal? {
        let lagging = members.filter { $0 != selfID && builds.version(of: $0) < CommandCodec.memberDirectories }
            .sorted().map { "\($0) at format \(builds.version(of: $0))" }
        guard !lagging.isEmpty else { return nil }
        return .changeInProgress("not every member runs a build that reads member directories (format "
            + "\(CommandCodec.memberDirectories)) yet: \(lagging.joined(separator: ", ")); nothing was changed: finish "
            + "upgrading every node, wait for a restarted one to report, or remove a member that is gone for good, then retry")
    }

    static func refusal(_ error: RaftDriverError) -> MembershipRefusal {
        switch (error.code, error.raftError?.code) {
        case (.notLeader, _):
            .notLeader("not the leader (\(error.leaderHint?.rawValue ?? "no leader known")); nothing was changed")
        case (.refused, .membershipChangePending?), (.refused, .transferInProgress?):
            .changeInProgress(error.message)
        case (.refused, .invalidTransferTarget?):
            .invalid(field: "to", error.message)
        case (.refused, _):
            .conflict(error.message)
        default:
            .outcomeUnknown(error.message + " (read GET /api/cluster to see whether the change took effect)")
        }
    }
}

extension QuorumNode {
    private var administration: MembershipAdministration {
        MembershipAdministration(driver: driver, membership: membership, settings: settings,
                                 builds: { [link] in link.memberBuilds() })
    }

    /// Adds `id` as a learner listening at `raft` and `api` (leader only).
    public func addLearner(_ id: String, raft: MemberDirectory.Endpoint, api: MemberDirectory.Endpoint,
                           labels: [String: String] = [:]) async throws(MembershipRefusal) {
        try await administration.addLearner(Raft.NodeID(id), record: MemberDirectory.Record(raft: raft, api: api, labels: labels))
    }

    /// Makes the caught-up learner `id` a voter (leader only).
    public func promote(_ id: String) async throws(MembershipRefusal) {
        try await administration.promote(Raft.NodeID(id))
    }

    /// Removes member `id` for good (leader only; removing itself hands leadership over first).
    public func remove(_ id: String) async throws(MembershipRefusal) {
        try await administration.remove(Raft.NodeID(id))
    }

    /// Marks member `id` draining (no new attempts; running ones finish) or not (leader only).
    public func setDraining(_ id: String, _ draining: Bool) async throws(MembershipRefusal) {
        try await administration.setDraining(Raft.NodeID(id), draining)
    }

    /// Replaces member `id`'s labels (leader only).
    public func setLabels(_ id: String, _ labels: [String: String]) async throws(MembershipRefusal) {
        try await administration.setLabels(Raft.NodeID(id), labels)
    }

    /// Hands leadership to voter `id` and returns once it leads (leader only).
    public func transferLeadership(to id: String) async throws(MembershipRefusal) {
        try await administration.transfer(to: Raft.NodeID(id))
    }
}
