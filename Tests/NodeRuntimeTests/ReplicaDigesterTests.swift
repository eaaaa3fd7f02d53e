import Dispatch
import Logging
import NodeCore
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import Synchronization
import Testing

/// Collects the digests a ``ReplicaDigester`` computed.
final class DigestLog: Sendable {
    private let digests = Mutex<[ReplicaDigest]>([])
    func append(_ digest: ReplicaDigest) { digests.withLock { $0.append(digest) } }
    var all: [ReplicaDigest] { digests.withLock { $0 } }
}

@Suite("ReplicaDigester: state digests at checkpoint indexes, off the apply path")
struct ReplicaDigesterTests {
    let t0 = Timestamp(1_800_000_000_000)
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func entry(_ index: UInt64, _ command: Command) -> Raft.Entry {
        Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(index), data: CommandCodec.encode(command, at: t0))
    }

    func submit(_ id: String) -> Command {
        .submitJob(SubmitJob(jobID: JobID(id), spec: JobSpec(name: id), runID: RunID("r-" + id)))
    }

    /// Waits (``waitUntil(_:within:_:)``: a deadline, polling every 5 ms) until `log` holds a
    /// digest at `index`. Spinning with `Task.yield()` instead kept a core busy and, with other
    /// suites running on 2 cores, starved the digester's utility-priority thread past the deadline.
    func digest(at index: UInt64, in log: DigestLog) async throws -> ReplicaDigest {
        try await waitUntil("a digest at index \(index)") { log.all.contains { $0.index == index } }
        guard let found = log.all.first(where: { $0.index == index }) else { throw DigestTimeout(index: index) }
        return found
    }

    struct DigestTimeout: Error { var index: UInt64 }

    func machine(_ log: DigestLog, interval: UInt64 = 4) -> SchedulerStateMachine {
        let digester = ReplicaDigester(interval: interval, clock: nil) { digest, _, _ in log.append(digest) }
        return SchedulerStateMachine(executorID: "n2", replayThrough: .zero, digester: digester, logger: logger) { _ in }
    }

    @Test("two replicas applying the same entries digest the same state at the same checkpoint, equal to GET /api/cluster/digest's")
    func replicasAgree() async throws {
        let (logA, logB) = (DigestLog(), DigestLog())
        let (a, b) = (machine(logA), machine(logB))
        let entries = (1...4).map { entry(UInt64($0), submit("job-\($0)")) }
        try await a.apply(entries)
        for one in entries { try await b.apply([one]) }  // other batch boundaries: same checkpoint
        let digestA = try await digest(at: 4, in: logA)
        let digestB = try await digest(at: 4, in: logB)
        #expect(digestA == digestB)
        let endpoint = await a.stateDigest()
        #expect(endpoint.appliedIndex == Raft.LogIndex(4) && endpoint.digest == digestA.value)
        #expect(logA.all.allSatisfy { $0.index % 4 == 0 })
    }

    /// The issue's test: one node's state edited behind the log's back is found at the next
    /// checkpoint by the leader's comparison.
    @Test("a replica whose state was edited digests differently at the next checkpoint, and the check flags it")
    func editedReplicaIsFlagged() async throws {
        let (logLeader, logEdited) = (DigestLog(), DigestLog())
        let (leader, edited) = (machine(logLeader), machine(logEdited))
        let first = (1...2).map { entry(UInt64($0), submit("job-\($0)")) }
        try await leader.apply(first)
        try await edited.apply(first)
        // "Edit" the replica: its state gains a job no entry created (a damaged disk, a bug).
        var damaged = SchedulerState()
        var events: [SchedulerEvent] = []
        for command in [submit("job-1"), submit("job-2"), submit("ghost")] { damaged.apply(command, at: t0, into: &events) }
        try await edited.restore(damaged.snapshot(), through: Raft.LogIndex(2))
        let rest = (3...4).map { entry(UInt64($0), submit("job-\($0)")) }
        try await leader.apply(rest)
        try await edited.apply(rest)
        var check = ReplicaDigestCheck(interval: 4)
        #expect(check.recordOwn(try await digest(at: 4, in: logLeader)).isEmpty)
        let outcome = check.report(try await digest(at: 4, in: logEdited), from: "n3")
        guard case .mismatch(let mismatch) = outcome else {
            Issue.record("the edited replica must be a mismatch, got \(outcome)")
            return
        }
        #expect(mismatch.index == 4 && mismatch.member == "n3")
        #expect(check.isDiverged("n3"))
    }

    @Test("a state replaced by a snapshot drops the digests kept and says so")
    func stateReplacedForgets() async throws {
        let log = DigestLog()
        let resets = Atomic<Int>(0)
        let digester = ReplicaDigester(interval: 1, clock: nil, onReset: { resets.add(1, ordering: .relaxed) }) { digest, _, _ in
            log.append(digest)
        }
        digester.digest(SchedulerState(), at: 1)
        _ = try await digest(at: 1, in: log)
        #expect(digester.latest?.index == 1)
        digester.stateReplaced()
        #expect(digester.latest == nil && resets.load(ordering: .relaxed) == 1)
    }

    @Test("paced, a large state is digested only at the paced checkpoints; every checkpoint is reported passed, with whether a digest started")
    func pacedCheckpoints() async throws {
        let log = DigestLog()
        let passed = Mutex<[(UInt64, ReplicaDigester.CheckpointOutcome)]>([])
        let marks = Mutex<[UInt64: Bool]>([:])
        let digester = ReplicaDigester(interval: 4, clock: nil, paces: { true },
                                       onPassed: { index, started in passed.withLock { $0.append((index, started)) } }) {
            digest, paced, _ in
            marks.withLock { $0[digest.index] = paced }
            log.append(digest)
        }
        var state = SchedulerState()
        var events: [SchedulerEvent] = []
        for n in 0..<40 { state.apply(submit("job-\(n)"), at: t0, into: &events) }
        let records = state.jobCount + state.runCount + state.dagCount
        let stride = ReplicaDigest.stride(records: records, interval: 4)
        #expect(stride == 8, "80 records over a budget of 16 per checkpoint")
        for index in stride * 4 - 4...stride * 4 + 4 { digester.checkpoint(state, at: index) }  // 28...36: checkpoints 28, 32, 36
        _ = try await digest(at: 32, in: log)
        #expect(log.all.map(\.index) == [32])
        #expect(passed.withLock { $0.map(\.0) } == [28, 32, 36])
        #expect(passed.withLock { $0.map(\.1) } == [.paced, .digested, .paced])
        #expect(digester.pacedAway == 2)
        #expect(marks.withLock { $0 } == [32: true])
        // Not pacing (an older leader): a checkpoint the pacing skipped is digested, and marked as
        // one a pacing leader would not have (its probes to such a leader carry the one at 32).
        let everyLog = DigestLog()
        let everyMarks = Mutex<[UInt64: Bool]>([:])
        let every = ReplicaDigester(interval: 4, clock: nil, paces: { false }) { digest, paced, _ in
            everyMarks.withLock { $0[digest.index] = paced }
            everyLog.append(digest)
        }
        every.checkpoint(state, at: 36)
        _ = try await digest(at: 36, in: everyLog)
        #expect(every.pacedAway == 0)
        #expect(everyMarks.withLock { $0 } == [36: false])
    }

    /// A digester whose digest at index 1 signals `entered` and then waits for `release`; every
    /// digest goes to `log` and to `also`. And a state of one job to digest.
    private func blockedInFirstDigest(_ log: DigestLog, entered: DispatchSemaphore, release: DispatchSemaphore,
                                      also: @escaping @Sendable (UInt64) -> Void = { _ in }) -> (ReplicaDigester, SchedulerState) {
        let digester = ReplicaDigester(interval: 1, clock: nil) { digest, _, _ in
            log.append(digest)
            if digest.index == 1 {
                entered.signal()
                _ = release.wait(timeout: .now() + 10)
            }
            also(digest.index)
        }
        var state = SchedulerState()
        var events: [SchedulerEvent] = []
        state.apply(submit("a"), at: t0, into: &events)
        return (digester, state)
    }

    @Test("a paced checkpoint reached while a digest runs is not skipped: the newest one waits and is digested next")
    func pacedCheckpointWaits() throws {
        let log = DigestLog()
        let (entered, release, third) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let (digester, state) = blockedInFirstDigest(log, entered: entered, release: release) { if $0 == 3 { third.signal() } }
        #expect(digester.digest(state, at: 1))
        #expect(entered.wait(timeout: .now() + 10) == .success)
        #expect(digester.digest(state, at: 2, paced: true), "kept, not skipped")
        #expect(digester.digest(state, at: 3, paced: true), "replaces the one waiting")
        #expect(!digester.digest(state, at: 4), "an unpaced one is still skipped")
        release.signal()
        #expect(third.wait(timeout: .now() + 10) == .success)
        #expect(log.all.map(\.index) == [1, 3])
        #expect(digester.skipped == 1)
    }

    @Test("at most one digest is computed at a time: unpaced checkpoints reached meanwhile are skipped, never queued")
    func oneAtATime() throws {
        let log = DigestLog()
        let (entered, release) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let (digester, state) = blockedInFirstDigest(log, entered: entered, release: release)
        digester.digest(state, at: 1)
        #expect(entered.wait(timeout: .now() + 10) == .success)
        for index in 2...11 { digester.digest(state, at: UInt64(index)) }  // the first is still in progress
        #expect(digester.skipped == 10)
        release.signal()
        #expect(digester.latest?.index == 1)
        #expect(log.all.map(\.index) == [1])
    }
}
