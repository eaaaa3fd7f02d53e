import BinaryCoding
import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Testing

/// Command format 15: assignments name the executor's **process** (drawn at every start,
/// reported in version-3 lease probes), so a restarted process never starts what was given to
/// the one before it. The scheduler simulator found the gap this closes: a node that restarted
/// with its log proved its lease before it had caught up and started an assignment, named for its
/// data directory, that the leader had already expired and retried elsewhere (seed 1058, five
/// nodes, `--prefetch 4`); and the clock rule's second of margin let one given just before a
/// restart start too (seed 1214).
@Suite("Assignments name the executor's process")
struct AssignmentProcessTests {
    let t0 = MonotonicTime(.seconds(100))
    let wall: Int64 = 1_800_000_000_000

    // MARK: The probe

    @Test("a version-3 probe carries the process, with or without a digest, and round-trips")
    func probeVersion3() throws {
        let plain = LeaseProbe(sequence: 3, lastEcho: 2, appliedIndex: 9, wallClockMilliseconds: wall,
                               commandFormatVersion: CommandCodec.buildFormatVersion, processIncarnation: 0xabc)
        var withDigest = plain
        withDigest.digest = ReplicaDigest(index: 8, value: 77)
        for probe in [plain, withDigest] {
            #expect(probe.version == LeaseProbe.processVersion)
            #expect(probe.encoded().first == LeaseProbe.processVersion)
            #expect(try LeaseProbe(decoding: probe.encoded()) == probe)
            // Every cut is refused, never a trap.
            let whole = probe.encoded()
            for cut in 0 ..< whole.count {
                #expect(throws: DecodeError.self) { try LeaseProbe(decoding: Array(whole[..<cut])) }
            }
        }
        // Without a process the older versions are written, byte for byte as before.
        var older = withDigest
        older.processIncarnation = nil
        #expect(older.encoded().first == LeaseProbe.digestVersion)
        older.digest = nil
        #expect(older.encoded().first == LeaseProbe.currentVersion)
    }

    @Test("a version-3 probe naming process 0, or with a digest flag other than 0 or 1, is refused")
    func probeVersion3Refusals() throws {
        let probe = LeaseProbe(sequence: 3, lastEcho: 2, appliedIndex: 9, wallClockMilliseconds: wall,
                               commandFormatVersion: CommandCodec.buildFormatVersion, processIncarnation: 1)
        var zero = probe.encoded()
        zero.replaceSubrange((zero.count - 8)..., with: [UInt8](repeating: 0, count: 8))
        #expect(throws: DecodeError.self) { try LeaseProbe(decoding: zero) }
        var flag = probe.encoded()
        flag[flag.count - 9] = 2  // the digest flag sits before the process incarnation
        #expect(throws: DecodeError.self) { try LeaseProbe(decoding: flag) }
        var unknown = probe.encoded()
        unknown[0] = 4
        #expect(throws: DecodeError.self) { try LeaseProbe(decoding: unknown) }
    }

    @Test("an executor sends its process only to a leader that advertised it, and probes a new leader twice at once")
    func executorSendsProcessOnlyWhenAdvertised() throws {
        var side = ExecutorSide(id: "n2", lease: .seconds(5), started: t0, processIncarnation: 0x51)
        let first = side.tick(at: t0, wallClock: Timestamp(wall), leader: "n1", appliedIndex: .zero)
        #expect(first.probe?.probe.processIncarnation == nil, "no echo yet: the leader's features are unknown")
        let sequence = try #require(first.probe?.probe.sequence)
        let firstAgain = side.echoed(sequence, by: "n1", echoID: 1,
                                     features: PeerFeatures.thisBuild.subtracting(.processIncarnations), at: t0)
        #expect(firstAgain, "the first echo from the leader it probes: probe again at once, naming it")
        let older = side.tick(at: t0 + .milliseconds(10), wallClock: Timestamp(wall), leader: "n1", appliedIndex: .zero)
        #expect(older.probe?.probe.processIncarnation == nil, "an older leader would drop a version-3 probe")
        let olderSequence = try #require(older.probe?.probe.sequence)
        let again = side.echoed(olderSequence, by: "n1", echoID: 2, features: .thisBuild, at: t0 + .milliseconds(10))
        #expect(!again, "not the first echo from n1: the next probe waits for the tick")
        let current = side.tick(at: t0 + .milliseconds(20), wallClock: Timestamp(wall), leader: "n1", appliedIndex: .zero)
        #expect(current.probe?.probe.processIncarnation == 0x51)
        let currentSequence = try #require(current.probe?.probe.sequence)
        let laterAgain = side.echoed(currentSequence, by: "n1", echoID: 3, features: .thisBuild, at: t0 + .milliseconds(20))
        #expect(!laterAgain, "later echoes wait for the tick")
        // A new leader: its first echo asks for a second probe at once again.
        let toN3 = side.tick(at: t0 + .milliseconds(30), wallClock: Timestamp(wall), leader: "n3", appliedIndex: .zero)
        let toN3Sequence = try #require(toN3.probe?.probe.sequence)
        #expect(toN3.probe?.probe.processIncarnation == nil, "n3's features are not known yet")
        let n3Again = side.echoed(toN3Sequence, by: "n3", echoID: 1, features: .thisBuild, at: t0 + .milliseconds(31))
        #expect(n3Again)
        let second = side.tick(at: t0 + .milliseconds(32), wallClock: Timestamp(wall), leader: "n3", appliedIndex: .zero)
        #expect(second.probe?.probe.lastEcho == 1 && second.probe?.probe.processIncarnation == 0x51)
    }

    // MARK: The leader

    func settings() -> NodeCore.Settings {
        NodeCore.Settings(lease: .seconds(5), leaseMargin: .seconds(7), voters: ["n1", "n2", "n3"],
                          slots: ["n1": 2, "n2": 2, "n3": 2])
    }

    func probe(_ sequence: UInt64, lastEcho: UInt64, process: UInt64?,
               format: UInt32 = CommandCodec.buildFormatVersion) -> LeaseProbe {
        LeaseProbe(sequence: sequence, lastEcho: lastEcho, appliedIndex: 0, wallClockMilliseconds: wall,
                   commandFormatVersion: format, processIncarnation: process)
    }

    /// A leader (process 0x10) whose members n2 and n3 each proved a round trip from `processes`.
    func leader(processes: [Raft.NodeID: UInt64] = ["n2": 0x20, "n3": 0x30]) -> LeaderSide {
        var leader = LeaderSide(id: "n1", settings: settings(), started: t0, processIncarnation: 0x10)
        leader.leadership(since: t0)
        for (peer, process) in processes {
            let echo = leader.probeReceived(probe(1, lastEcho: 0, process: process), from: peer, at: t0)
            _ = leader.probeReceived(probe(2, lastEcho: echo?.echoID ?? 0, process: process), from: peer, at: t0)
        }
        return leader
    }

    func executors(_ leader: inout LeaderSide, incarnations: [Raft.NodeID: UInt64]? = ["n1": 1, "n2": 2, "n3": 3])
        throws -> [String: ExecutorCapacity] {
        let planned = leader.dutyRound(at: t0, commitIndex: .zero, incarnations: incarnations)
        let round = try #require(planned)
        return Dictionary(uniqueKeysWithValues: round.executors.map { ($0.id.rawValue, $0) })
    }

    @Test("the duty round names each executor's process, the leader's own included, not its directory")
    func namesProcesses() throws {
        var leader = leader()
        let byID = try executors(&leader)
        #expect(byID["n1"]?.incarnation == 0x10)
        #expect(byID["n2"]?.incarnation == 0x20 && byID["n2"]?.isReachable == true)
        #expect(byID["n3"]?.incarnation == 0x30 && byID["n3"]?.isReachable == true)
    }

    @Test("a process is named only after it proved a round trip; a restarted one gets no work until it has")
    func restartedProcessMustProveItself() throws {
        var leader = leader(processes: ["n2": 0x20])
        // n3 probed once: no round trip proven, so its process is not known and it gets no work.
        _ = leader.probeReceived(probe(1, lastEcho: 0, process: 0x30), from: "n3", at: t0)
        var byID = try executors(&leader)
        #expect(byID["n3"]?.isReachable == false)
        // n2 restarts: its new process's first probe names no echo. The old process is forgotten
        // at once — an assignment naming it would never start — and the new one is not named yet,
        // although the old process's proof still holds n2's lease. The probe is echoed at once
        // (not after the ledger's wait for echoes that do not arrive): a new process.
        let echo = leader.probeReceived(probe(1, lastEcho: 0, process: 0x21), from: "n2", at: t0 + .milliseconds(100))
        #expect(echo != nil, "a restarted process is answered at once")
        byID = try executors(&leader)
        #expect(leader.holds("n2", at: t0 + .milliseconds(100)))
        #expect(byID["n2"]?.isReachable == false, "n2's new process has not proven a round trip")
        // Once per restart: the same process probing again without naming the echo (it did not
        // arrive) waits for the ledger's rule.
        #expect(leader.probeReceived(probe(2, lastEcho: 0, process: 0x21), from: "n2", at: t0 + .milliseconds(150)) == nil)
        // A first probe from a fresh process carries no process at all (it has not seen this
        // leader's features yet): the old one is forgotten too, and it is answered at once.
        var other = self.leader(processes: ["n2": 0x20])
        #expect(other.probeReceived(probe(1, lastEcho: 0, process: nil), from: "n2", at: t0 + .milliseconds(100)) != nil)
        #expect(try executors(&other)["n2"]?.isReachable == false)
        // The probe naming the echo proves the round trip: the new process is named.
        let later = t0 + .milliseconds(200)
        _ = leader.probeReceived(probe(3, lastEcho: try #require(echo).echoID, process: 0x21), from: "n2", at: later)
        let planned = leader.dutyRound(at: later, commitIndex: .zero, incarnations: ["n1": 1, "n2": 2, "n3": 3])
        byID = Dictionary(uniqueKeysWithValues: try #require(planned).executors.map { ($0.id.rawValue, $0) })
        #expect(byID["n2"]?.incarnation == 0x21 && byID["n2"]?.isReachable == true)
    }

    @Test("taking office forgets every process: each must prove itself to the new leader")
    func takingOfficeForgets() throws {
        var leader = leader()
        leader.leadership(since: nil)
        leader.leadership(since: t0 + .seconds(1))
        let planned = leader.dutyRound(at: t0 + .seconds(1), commitIndex: .zero, incarnations: ["n1": 1, "n2": 2, "n3": 3])
        let round = try #require(planned)
        #expect(round.executors.first { $0.id == "n2" }?.isReachable == false)
        #expect(round.executors.first { $0.id == "n1" }?.incarnation == 0x10)
    }

    @Test("with a member below format 15 the leader names data directories, as before")
    func olderMemberKeepsDirectoryNames() throws {
        var leader = leader()
        _ = leader.probeReceived(probe(3, lastEcho: 0, process: nil, format: CommandCodec.assignmentProcesses - 1),
                                 from: "n3", at: t0)
        let byID = try executors(&leader)
        #expect(byID["n1"]?.incarnation == 1 && byID["n2"]?.incarnation == 2 && byID["n3"]?.incarnation == 3)
    }

    @Test("a leader without a process incarnation names directories")
    func leaderWithoutProcess() throws {
        var leader = LeaderSide(id: "n1", settings: settings(), started: t0)
        leader.leadership(since: t0)
        let planned = leader.dutyRound(at: t0, commitIndex: .zero, incarnations: ["n1": 1])
        let round = try #require(planned)
        #expect(round.executors.first { $0.id == "n1" }?.incarnation == 1)
    }

    // MARK: The executor

    /// A state with run `r` assigned to n2 at `assignedAt` (attempt 1, deadline far ahead).
    func assigned(at assignedAt: Timestamp, naming incarnation: UInt64) -> (SchedulerState, [AttemptOrder]) {
        var state = SchedulerState()
        var events: [SchedulerEvent] = []
        state.apply(.submitJob(SubmitJob(jobID: "a", spec: JobSpec(name: "a"), runID: "r")), at: assignedAt, index: 1,
                    into: &events)
        state.apply(.assignAttempt(AssignAttempt(runID: "r", executor: "n2", attempt: 1,
                                                 deadline: assignedAt.adding(milliseconds: 600_000),
                                                 executorIncarnation: incarnation)),
                    at: assignedAt, index: 2, into: &events)
        return (state, ExecutorOrders.collect(from: events, for: "n2", in: state).starts)
    }

    @Test("an assignment naming this process starts before the lease is proven and whatever the start time")
    func ownProcessStarts() {
        let started = Timestamp(wall)
        // Stamped 5 s before this process's start by a leader whose clock is behind: the clock
        // rule would hold it; the process name says it was given to this very process.
        let (state, starts) = assigned(at: started.adding(milliseconds: -5_000), naming: 0x21)
        let admitted = ExecutorOrders.admitted(starts, in: state, fenced: false, proven: false, incarnation: 2, process: 0x21,
                                               startedAt: started, now: started, killGraceMs: 1_000)
        #expect(admitted.map(\.runID) == ["r"])
        // Fenced, or assigned before the lease last came back, it does not start.
        #expect(ExecutorOrders.admitted(starts, in: state, fenced: true, proven: true, incarnation: 2, process: 0x21,
                                        startedAt: started, now: started, killGraceMs: 1_000).isEmpty)
        #expect(ExecutorOrders.admitted(starts, in: state, fenced: false, proven: true, incarnation: 2, process: 0x21,
                                        startedAt: started, now: started, killGraceMs: 1_000,
                                        lapseEnded: started).isEmpty)
    }

    @Test("an assignment naming this node's previous process never starts, however fresh and proven")
    func previousProcessNeverStarts() {
        let started = Timestamp(wall)
        let (state, starts) = assigned(at: started.adding(milliseconds: 100), naming: 0x20)
        #expect(ExecutorOrders.admitted(starts, in: state, fenced: false, proven: true, incarnation: 2, process: 0x21,
                                        startedAt: started, now: started.adding(milliseconds: 200), killGraceMs: 1_000).isEmpty)
        // Named for the directory (a leader below format 15): the older rules, unchanged.
        let (dirState, dirStarts) = assigned(at: started.adding(milliseconds: 100), naming: 2)
        #expect(ExecutorOrders.admitted(dirStarts, in: dirState, fenced: false, proven: true, incarnation: 2, process: 0x21,
                                        startedAt: started, now: started.adding(milliseconds: 200), killGraceMs: 1_000)
            .map(\.runID) == ["r"])
    }
}
