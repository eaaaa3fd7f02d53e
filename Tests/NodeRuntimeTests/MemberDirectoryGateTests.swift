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
}
