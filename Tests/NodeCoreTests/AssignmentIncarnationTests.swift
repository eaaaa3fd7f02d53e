import BinaryCoding
import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Testing

/// Issue #15, the quick-wipe duplicate: assignments name the executor's data directory
/// incarnation (entry tag 30, command format ``CommandCodec/assignmentIncarnations``), the leader
/// names the one it last heard, and an executor starts only what names its own.
@Suite("Assignments name the executor's incarnation")
struct AssignmentIncarnationTests {
    let deadline = Timestamp(1_800_000_060_000)

    @Test("an assignment naming an incarnation is tag 30 and round-trips; one naming none stays tag 4")
    func codecRoundTrip() throws {
        let named = Command.assignAttempt(AssignAttempt(runID: "r", executor: "n2", attempt: 3, deadline: deadline,
                                                        executorIncarnation: 0xfeed_beef_0000_0001))
        let unnamed = Command.assignAttempt(AssignAttempt(runID: "r", executor: "n2", attempt: 3, deadline: deadline))
        let namedBytes = CommandCodec.encode(named, at: Timestamp(5))
        let unnamedBytes = CommandCodec.encode(unnamed, at: Timestamp(5))
        #expect(try CommandCodec.decode(namedBytes).command == named)
        #expect(try CommandCodec.decode(unnamedBytes).command == unnamed)
        #expect(namedBytes.count > unnamedBytes.count)
        #expect(named.minimumFormatVersion == CommandCodec.assignmentIncarnations)
        #expect(unnamed.minimumFormatVersion == CommandCodec.baselineFormatVersion)
        #expect(Command.batch([unnamed, named]).minimumFormatVersion == CommandCodec.assignmentIncarnations)
        #expect(CommandCodec.buildFormatVersion >= CommandCodec.assignmentIncarnations)
    }

    @Test("tag 30 naming incarnation 0 is refused, with the offset of the incarnation")
    func zeroIncarnationRefused() throws {
        let named = Command.assignAttempt(AssignAttempt(runID: "r", executor: "n2", attempt: 1, deadline: deadline,
                                                        executorIncarnation: 1))
        let unnamed = Command.assignAttempt(AssignAttempt(runID: "r", executor: "n2", attempt: 1, deadline: deadline))
        let namedBytes = CommandCodec.encode(named, at: Timestamp(5))
        // Tag 4's fields under tag 30, then the incarnation 0 (one varint byte).
        var bytes = CommandCodec.encode(unnamed, at: Timestamp(5))
        let firstDifference = (0 ..< min(bytes.count, namedBytes.count)).first { bytes[$0] != namedBytes[$0] }
        let tagOffset = try #require(firstDifference)
        #expect(bytes[tagOffset] == 4 && namedBytes[tagOffset] == 30)
        bytes[tagOffset] = 30
        bytes.append(0)
        #expect(throws: DecodeError.self) { try CommandCodec.decode(bytes) }
        // Every cut of a named assignment is refused, never a trap.
        let whole = CommandCodec.encode(named, at: Timestamp(5))
        for cut in 0 ..< whole.count {
            #expect(throws: DecodeError.self) { try CommandCodec.decode(Array(whole[..<cut])) }
        }
    }

    @Test("below format 12 the leader writes assignments without the incarnation (tag 4)")
    func downgradedForOlderMembers() {
        let named = AssignAttempt(runID: "r", executor: "n2", attempt: 1, deadline: deadline, executorIncarnation: 9)
        var plain = named
        plain.executorIncarnation = 0
        let batch = Command.batch([.assignAttempt(named), .tick])
        #expect(batch.compatible(withFormat: CommandCodec.assignmentIncarnations - 1) == .batch([.assignAttempt(plain), .tick]))
        #expect(batch.compatible(withFormat: CommandCodec.assignmentIncarnations) == batch)
    }

    @Test("the planner names the capacity's incarnation in each assignment")
    func plannerNamesIncarnation() throws {
        var state = SchedulerState()
        var events: [SchedulerEvent] = []
        state.apply(.submitJob(SubmitJob(jobID: "a", spec: JobSpec(name: "a"), runID: "r-a")), at: Timestamp(1_000), index: 1,
                    into: &events)
        let commands = DutyPlanner.plan(state: state, now: Timestamp(2_000),
                                        executors: [ExecutorCapacity(id: "n2", slots: 1, isLeader: false, isReachable: true,
                                                                     incarnation: 42)],
                                        lost: [], maxAssignments: 10, nextRunID: { "unused" })
        guard case .assignAttempt(let assign)? = commands.first else {
            Issue.record("expected an assignment, got \(commands)")
            return
        }
        #expect(assign.executorIncarnation == 42)
        state.apply(.assignAttempt(assign), at: Timestamp(2_000), index: 2, into: &events)
        #expect(events.contains(.startAttempt(runID: "r-a", attempt: 1, executor: "n2", incarnation: 42)))
    }

    /// A leader whose members `probing` run this build (they probed with its format) and hold
    /// their leases; the others were not heard from.
    func leaderWithProbingMembers(_ probing: [Raft.NodeID] = ["n2", "n3"]) -> (LeaderSide, MonotonicTime) {
        let t0 = MonotonicTime(.seconds(100))
        var leader = LeaderSide(id: "n1", settings: NodeCore.Settings(lease: .seconds(5), leaseMargin: .seconds(7),
                                                                      voters: ["n1", "n2", "n3"],
                                                                      slots: ["n1": 2, "n2": 2, "n3": 2]),
                                started: t0)
        leader.leadership(since: t0)
        for peer in probing {
            let first = LeaseProbe(sequence: 1, lastEcho: 0, appliedIndex: 0, wallClockMilliseconds: 1_800_000_000_000,
                                   commandFormatVersion: CommandCodec.buildFormatVersion)
            let echo = leader.probeReceived(first, from: peer, at: t0)
            let second = LeaseProbe(sequence: 2, lastEcho: echo?.echoID ?? 0, appliedIndex: 0,
                                    wallClockMilliseconds: 1_800_000_000_000, commandFormatVersion: CommandCodec.buildFormatVersion)
            _ = leader.probeReceived(second, from: peer, at: t0)
        }
        return (leader, t0)
    }

    @Test("the duty round names known incarnations; a member whose incarnation is unknown gets no work")
    func unknownIncarnationGetsNoWork() throws {
        var (leader, t0) = leaderWithProbingMembers()
        let planned1 = leader.dutyRound(at: t0, commitIndex: .zero)
        let untracked = try #require(planned1)
        let before = Dictionary(uniqueKeysWithValues: untracked.executors.map { ($0.id.rawValue, $0) })
        #expect(before["n2"]?.isReachable == true && before["n3"]?.isReachable == true)
        #expect(before["n2"]?.incarnation == 0)

        let planned2 = leader.dutyRound(at: t0, commitIndex: .zero, incarnations: ["n1": 1, "n2": 22])
        let round = try #require(planned2)
        let byID = Dictionary(uniqueKeysWithValues: round.executors.map { ($0.id.rawValue, $0) })
        #expect(byID["n1"]?.incarnation == 1)
        #expect(byID["n2"]?.incarnation == 22 && byID["n2"]?.isReachable == true)
        #expect(byID["n3"]?.isReachable == false, "n3's incarnation is unknown: an unnamed assignment would leave it the clock rule")
    }

    /// The format gate counts a member not heard from as format 1; naming does not: a member
    /// that is down (crashed, being replaced) must not reopen the clock rule's gap for the others.
    @Test("a member not heard from this term does not stop the leader naming incarnations")
    func silentMemberDoesNotHoldNamingUp() throws {
        var (leader, t0) = leaderWithProbingMembers(["n2"])
        let planned3 = leader.dutyRound(at: t0, commitIndex: .zero, incarnations: ["n1": 1, "n2": 22, "n3": 33])
        let round = try #require(planned3)
        #expect(round.format == CommandCodec.baselineFormatVersion, "the gate still counts n3 as format 1")
        #expect(round.executors.first { $0.id == "n2" }?.incarnation == 22)
        var state = SchedulerState()
        var events: [SchedulerEvent] = []
        state.apply(.submitJob(SubmitJob(jobID: "a", spec: JobSpec(name: "a"), runID: "r-a")), at: Timestamp(1_000), index: 1,
                    into: &events)
        let entries = round.entries(state: state, stamp: Timestamp(2_000), nextRunID: { "unused" })
        let named = entries.contains { entry in
            Self.assignments(in: entry).contains { $0.executor == "n2" && $0.executorIncarnation == 22 }
        }
        #expect(named, "the round's assignment to n2 names its incarnation: \(entries)")
    }

    static func assignments(in command: Command) -> [AssignAttempt] {
        switch command {
        case .assignAttempt(let a): [a]
        case .batch(let commands): commands.flatMap(assignments(in:))
        default: []
        }
    }

    @Test("with a member below format 12, assignments name no incarnation and nobody is held back")
    func olderMemberKeepsUnnamedAssignments() throws {
        var (leader, t0) = leaderWithProbingMembers()
        let old = LeaseProbe(sequence: 3, lastEcho: 0, appliedIndex: 0, wallClockMilliseconds: 1_800_000_000_000,
                             commandFormatVersion: CommandCodec.assignmentIncarnations - 1)
        _ = leader.probeReceived(old, from: "n3", at: t0)
        let planned4 = leader.dutyRound(at: t0, commitIndex: .zero, incarnations: ["n1": 1, "n2": 22])
        let round = try #require(planned4)
        #expect(round.format < CommandCodec.assignmentIncarnations)
        #expect(round.executors.allSatisfy { $0.incarnation == 0 })
        #expect(round.executors.first { $0.id == "n2" }?.isReachable == true)
    }
}
