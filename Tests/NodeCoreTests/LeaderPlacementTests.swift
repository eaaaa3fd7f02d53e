import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Testing

/// The leader's duty rounds carry each executor's labels and drain mark from the member
/// directory of the latest configuration (docs/scheduling.md, "Placement").
@Suite("Leader side: labels and drain marks reach the planner")
struct LeaderPlacementTests {
    @Test("membersChanged's directory gives every executor its labels and drain mark; a member without a record has none")
    func directoryReachesCapacities() throws {
        let t0 = MonotonicTime(.seconds(100))
        var leader = LeaderSide(id: "n1", settings: NodeCore.Settings(lease: .seconds(5), leaseMargin: .seconds(7), voters: ["n1"],
                                                                        slots: ["n1": 2, "n2": 2, "n3": 2]),
                                started: t0)
        let endpoint = MemberDirectory.Endpoint(host: "127.0.0.1", port: 7001)
        let directory = MemberDirectory(records: [
            "n1": .init(raft: endpoint, api: endpoint, draining: true),
            "n2": .init(raft: endpoint, api: endpoint, labels: ["gpu": "true"]),
        ])
        leader.membersChanged(voters: ["n1"], slots: ["n1": 2, "n2": 2, "n3": 2], directory: directory)
        leader.leadership(since: t0)
        let planned = leader.dutyRound(at: t0, commitIndex: Raft.LogIndex(1))
        let round = try #require(planned)
        let byID = Dictionary(uniqueKeysWithValues: round.executors.map { ($0.id.rawValue, $0) })
        #expect(byID["n1"]?.isDraining == true)
        #expect(byID["n1"]?.labels.isEmpty == true)
        #expect(byID["n2"]?.labels == ["gpu": "true"])
        #expect(byID["n2"]?.isDraining == false)
        #expect(byID["n3"]?.labels.isEmpty == true && byID["n3"]?.isDraining == false)
    }
}
