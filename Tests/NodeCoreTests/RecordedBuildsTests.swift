@testable import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Testing

/// Members' builds recorded in the replicated state (command format 11, entry tag 29): after a
/// failover, a member that is down counts as its recorded build, so it does not block writes that
/// need a newer format (docs/upgrades.md, "Recorded builds").
@Suite("recorded member builds: a down member does not block rule submits after a failover")
struct RecordedBuildsTests {
    let t0 = MonotonicTime(.seconds(100))
    let wall = Timestamp(1_800_000_000_000)
    let members: Set<Raft.NodeID> = ["n1", "n2", "n3"]

    func node(_ id: Raft.NodeID) -> NodeCore {
        NodeCore(id: id, settings: NodeCore.Settings(lease: .seconds(5), leaseMargin: .seconds(7), voters: members, slots: [:]),
                 started: t0, startedWall: wall)
    }

    func probe(_ format: UInt32 = CommandCodec.buildFormatVersion) -> LeaseProbe {
        LeaseProbe(sequence: 1, lastEcho: 0, appliedIndex: 0, wallClockMilliseconds: wall.milliseconds, commandFormatVersion: format)
    }

    var ruleSubmit: UnstampedCommand {
        UnstampedCommand(.submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "etl", notify: [NotificationRule(on: [.dead], webhook: "https://h.example.com/x")]),
                                              runID: "r")))
    }

    /// The proposals of one leader round of `core`.
    func proposals(_ core: inout NodeCore, at now: MonotonicTime) -> [Command] {
        core.leaderTick(at: now, wallClock: wall, commitIndex: .zero, nextRunID: { "r-next" }).compactMap {
            if case .propose(let command, _) = $0 { command } else { nil }
        }
    }

    /// The entry n1 records once n2 and n3 reported this build, applied on `follower` at index 5.
    func recordOnOldLeader(applyingTo follower: inout NodeCore) throws {
        var leader = node("n1")
        leader.leadership(since: t0)
        #expect(!proposals(&leader, at: t0).contains { if case .recordMemberFormats = $0 { true } else { false } },
                "nothing is recorded before every member reported")
        _ = leader.probeReceived(probe(), from: "n2", at: t0)
        _ = leader.probeReceived(probe(), from: "n3", at: t0)
        let record = try #require(proposals(&leader, at: t0 + .milliseconds(50)).first { if case .recordMemberFormats = $0 { true } else { false } })
        #expect(record == .recordMemberFormats(["n1", "n2", "n3"].map { MemberFormat(member: $0, format: CommandCodec.buildFormatVersion) }))
        #expect(record.minimumFormatVersion == CommandCodec.memberFormatRecords)
        let entry = try CommandCodec.decode(CommandCodec.encode(record, at: wall))
        _ = follower.apply([(Raft.LogIndex(5), entry)])
        #expect(follower.state.memberFormats == ["n1": CommandCodec.buildFormatVersion, "n2": CommandCodec.buildFormatVersion,
                                                 "n3": CommandCodec.buildFormatVersion])
        // Recorded once: the next round proposes nothing more.
        _ = leader.apply([(Raft.LogIndex(5), entry)])
        #expect(!proposals(&leader, at: t0 + .milliseconds(100)).contains { if case .recordMemberFormats = $0 { true } else { false } })
    }

    @Test("n3 down, n1 killed: the new leader n2 hears only from the restarted n1 and admits a rule submit, counting n3 as its record")
    func downMemberCountsAsItsRecord() throws {
        var n2 = node("n2")
        try recordOnOldLeader(applyingTo: &n2)
        // n2 takes office; n1 came back and probes; n3 (stopped) says nothing.
        let office = t0 + .seconds(10)
        n2.leadership(since: office)
        _ = n2.probeReceived(probe(), from: "n1", at: office)
        _ = proposals(&n2, at: office)
        #expect(!n2.memberBuilds.hasReported("n3"))
        #expect(n2.memberBuilds.version(of: "n3") == CommandCodec.buildFormatVersion)
        let admitted = try n2.resolve(ruleSubmit, members: members, at: office + .milliseconds(10), wallClock: wall)
        #expect(admitted.command.carriesNotifyRules)
    }

    @Test("without a record the same failover refuses the rule submit (503) naming n3, not heard from")
    func withoutRecordRefused() throws {
        var n2 = node("n2")
        let office = t0 + .seconds(10)
        n2.leadership(since: office)
        _ = n2.probeReceived(probe(), from: "n1", at: office)
        _ = proposals(&n2, at: office)
        do {
            _ = try n2.resolve(ruleSubmit, members: members, at: office + .milliseconds(10), wallClock: wall)
            Issue.record("admitted without n3's record")
        } catch {
            guard case .upgradeInProgress(let refusal) = error else {
                Issue.record("not an upgrade refusal: \(error)")
                return
            }
            #expect(refusal.lagging.map(\.id) == ["n3"] && refusal.lagging.first?.reported == false)
        }
    }

    @Test("a live report lower than the record wins (a member that did downgrade is not trusted on its record); records never go down")
    func reportsOverrideRecords() throws {
        var builds = MemberBuilds(probeFreshness: .seconds(2))
        builds.record(["n3": CommandCodec.buildFormatVersion])
        #expect(builds.version(of: "n3") == CommandCodec.buildFormatVersion)
        builds.probe(from: "n3", formatVersion: CommandCodec.notifyRules - 1, at: t0)
        #expect(builds.version(of: "n3") == CommandCodec.notifyRules - 1)
        builds.forgetAll()
        #expect(builds.version(of: "n3") == CommandCodec.buildFormatVersion, "the record outlives a change of leader")

        var state = SchedulerState()
        var events: [SchedulerEvent] = []
        state.apply(.recordMemberFormats([MemberFormat(member: "n3", format: 12)]), at: wall, index: 1, into: &events)
        state.apply(.recordMemberFormats([MemberFormat(member: "n3", format: 11)]), at: wall, index: 2, into: &events)
        #expect(state.memberFormats == ["n3": 12])
        state.apply(.recordMemberFormats([MemberFormat(member: "", format: 12)]), at: wall, index: 3, into: &events)
        #expect(events.contains { if case .rejected = $0 { true } else { false } })
        let restored = try SchedulerState(snapshot: state.snapshot())
        #expect(restored.memberFormats == ["n3": 12] && state.snapshot()[4] == SchedulerSnapshot.versionWithDAGNotifyRules)
    }
}
