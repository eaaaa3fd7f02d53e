import NodeCore
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import Testing

/// A change that writes a member directory waits until every member reads directories: an
/// older build would skip the configuration entry and keep its old member list (issue #16,
/// "a new command kind is proposed only once every member runs a build that knows it").
@Suite("The member-directory format gate")
struct MemberDirectoryGateTests {
    static let members: Set<Raft.NodeID> = ["n1", "n2", "n3"]

    func builds(_ versions: [Raft.NodeID: UInt32]) -> MemberBuilds {
        var builds = MemberBuilds(probeFreshness: .seconds(1))
        for (id, version) in versions { builds.probe(from: id, formatVersion: version, at: MonotonicTime(.zero)) }
        return builds
    }

    @Test("every member at the directory format: allowed")
    func allCurrent() {
        let current = CommandCodec.memberDirectories
        #expect(MembershipAdministration.directoryRefusal(members: Self.members, self: "n1",
                                                          builds: builds(["n2": current, "n3": current])) == nil)
    }

    @Test("a member on an older build, or not heard from since this leader took office: refused, naming it")
    func lagging() {
        let older = MembershipAdministration.directoryRefusal(members: Self.members, self: "n1",
                                                              builds: builds(["n2": CommandCodec.memberDirectories, "n3": 6]))
        guard case .changeInProgress(let message)? = older else {
            Issue.record("expected change_in_progress, got \(String(describing: older))")
            return
        }
        #expect(message.contains("n3 at format 6") && !message.contains("n2"), "\(message)")
        let unheard = MembershipAdministration.directoryRefusal(members: Self.members, self: "n1",
                                                                builds: builds(["n2": CommandCodec.memberDirectories]))
        #expect(unheard?.description.contains("n3 at format 1") == true, "\(String(describing: unheard))")
    }

    @Test("a dead member this leader never heard from does not hold up its own removal, and then the add goes through")
    func deadMemberCanBeRemoved() {
        // n3 led and died; n1 leads since and never heard n3's build (it counts as format 1).
        let heard = builds(["n2": CommandCodec.memberDirectories])
        let removal = MembershipAdministration.directoryGateMembers(for: .remove("n3"), current: Self.members)
        #expect(removal == ["n1", "n2"])
        #expect(MembershipAdministration.directoryRefusal(members: removal, self: "n1", builds: heard) == nil)
        // Before the removal an add is refused naming n3 (the message says to remove it first) …
        let add = MembershipAdministration.directoryGateMembers(for: .addLearner("n6"), current: Self.members)
        #expect(MembershipAdministration.directoryRefusal(members: add, self: "n1", builds: heard)?.description
            .contains("n3 at format 1") == true)
        // … and after it, the add goes through.
        let after = MembershipAdministration.directoryGateMembers(for: .addLearner("n6"), current: ["n1", "n2"])
        #expect(MembershipAdministration.directoryRefusal(members: after, self: "n1", builds: heard) == nil)
        // Removing a live member still waits for the others.
        let other = MembershipAdministration.directoryGateMembers(for: .remove("n2"), current: Self.members)
        #expect(MembershipAdministration.directoryRefusal(members: other, self: "n1", builds: heard)?.description
            .contains("n3 at format 1") == true)
    }
}
