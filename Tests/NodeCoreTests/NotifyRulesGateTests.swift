@testable import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Testing

/// The format gate for `notify` rules (command format 10): no downgrade exists, so a submit with
/// rules is refused while a member runs an older build, and admitted once every member reports it.
@Suite("format gate: notify rules")
struct NotifyRulesGateTests {
    let t0 = MonotonicTime(.seconds(100))
    let stamp = Timestamp(1_800_000_000_000)
    let members: Set<Raft.NodeID> = ["n1", "n2", "n3"]

    @Test("a submit with rules is refused (503) while n3 runs the format before it, never sent without them; admitted once n3 reports it")
    func refusedThenAdmitted() throws {
        let spec = JobSpec(name: "etl", notify: [NotificationRule(on: [.dead], webhook: "https://h.example.com/x")])
        let submit = Command.submitJob(SubmitJob(jobID: "j", spec: spec, runID: "r"))
        var builds = MemberBuilds(probeFreshness: .milliseconds(2_500))
        builds.probe(from: "n2", formatVersion: CommandCodec.buildFormatVersion, at: t0)
        builds.probe(from: "n3", formatVersion: CommandCodec.notifyRules - 1, at: t0)
        #expect(throws: LeaderRefusal.self) {
            try LeaderRefusal.resolve(UnstampedCommand(submit), at: stamp, builds: builds, members: members, self: "n1")
        }
        do {
            _ = try LeaderRefusal.resolve(UnstampedCommand(submit), at: stamp, builds: builds, members: members, self: "n1")
        } catch {
            guard case .upgradeInProgress(let refusal) = error else {
                Issue.record("not an upgrade refusal: \(error)")
                return
            }
            #expect(refusal.required == CommandCodec.notifyRules)
            #expect(refusal.lagging.map(\.id) == ["n3"])
        }
        let plain = Command.submitJob(SubmitJob(jobID: "k", spec: JobSpec(name: "k"), runID: "s"))
        #expect(throws: Never.self) {
            try LeaderRefusal.resolve(UnstampedCommand(plain), at: stamp, builds: builds, members: members, self: "n1")
        }
        builds.probe(from: "n3", formatVersion: CommandCodec.notifyRules, at: t0)
        let admitted = try LeaderRefusal.resolve(UnstampedCommand(submit), at: stamp, builds: builds, members: members, self: "n1")
        #expect(admitted.command == submit)
    }
}
