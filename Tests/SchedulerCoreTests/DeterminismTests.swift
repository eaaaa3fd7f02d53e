import DeterministicRandom
import BinaryCoding
import Foundation
import SchedulerCore
import SchedulerTesting
import Testing

@Suite("Snapshots, determinism, invariants under random command streams")
struct DeterminismTests {
    static let seeds: [UInt64] = [1, 2, 3, 42, 1234, 99_999]

    @Test("invariants hold along a random command stream", arguments: seeds)
    func invariants(seed: UInt64) {
        var state = SchedulerState()
        var workload = SchedulerWorkload(seed: seed)
        var maxAttempt: [RunID: Int] = [:]
        var live = Set<JobID>()
        for step in 0..<1_500 {
            let stamped = workload.next(for: state)
            let before = state.now
            let events = state.apply(stamped)
            #expect(state.now >= before, "seed \(seed) step \(step): time went backwards")
            for event in events {
                switch event {
                case .jobSubmitted(let id): live.insert(id)
                case .removed(let id, _): live.remove(JobID(id))
                case .runChanged(let run, let runState, let attempt):
                    #expect(attempt >= maxAttempt[run, default: 0], "seed \(seed) step \(step): attempt of \(run) shrank")
                    maxAttempt[run] = max(attempt, maxAttempt[run, default: 0])
                    if runState == .running, let ref = state.run(run)?.dagTask, let dag = state.dagRun(ref.dagRunID) {
                        for dep in dag.spec.dependencies[ref.taskIndex] {
                            let depRun = dag.taskRunID(dep)
                            #expect(state.run(depRun)?.state == .succeeded,
                                    "seed \(seed) step \(step): \(run) started before \(depRun) succeeded")
                        }
                    }
                default: break
                }
            }
            // The structural check is O(state); every 5th step keeps the debug suite fast.
            guard step % 5 == 4 else { continue }
            let problems = state.invariantViolations()
            #expect(problems.isEmpty, "seed \(seed) step \(step) after \(stamped.command): \(problems)")
            if !problems.isEmpty { return }
        }
        for id in live.sorted() {
            #expect(state.job(id) != nil, "seed \(seed): submitted job \(id) not findable")
        }
        #expect(state.jobCount == live.count, "seed \(seed): \(state.jobCount) jobs held, \(live.count) expected")
    }

    @Test("snapshot → restore is exact, and restore → continue equals continuing", arguments: seeds)
    func snapshotContinue(seed: UInt64) throws {
        var original = SchedulerState()
        var workload = SchedulerWorkload(seed: seed)
        for _ in 0..<800 { _ = original.apply(workload.next(for: original)) }
        let bytes = original.snapshot()
        var restored = try SchedulerState(snapshot: bytes)
        #expect(restored.snapshot() == bytes, "seed \(seed): restore changed the snapshot")
        #expect(restored.invariantViolations().isEmpty)
        var w2 = workload
        for step in 0..<800 {
            let a = workload.next(for: original)
            let b = w2.next(for: restored)
            #expect(a == b, "seed \(seed) step \(step): the generated commands diverged")
            let ea = original.apply(a)
            let eb = restored.apply(b)
            #expect(ea == eb, "seed \(seed) step \(step): events diverged")
            if ea != eb { return }
        }
        #expect(original.snapshot() == restored.snapshot(), "seed \(seed): continuing from a snapshot diverged")
        #expect(original.nextDueInstant == restored.nextDueInstant)
        #expect(original.runsToAssign(limit: 50) == restored.runsToAssign(limit: 50))
    }

    @Test("two separate processes replaying one seed produce byte-identical snapshots")
    func crossProcess() throws {
        let binary = try #require(Self.replayBinary(), "scheduler-replay not found next to the test binary; run `swift build --build-tests`")
        let seed: UInt64 = 7
        let count = 1_500
        let first = try Self.run(binary, ["\(seed)", "\(count)"])
        let second = try Self.run(binary, ["\(seed)", "\(count)"])
        #expect(first.hasPrefix("digest="))
        #expect(first == second)
        let bytes = SchedulerWorkload.replay(seed: seed, count: count).snapshot()
        let hex = String(SchedulerSnapshot.digest(bytes), radix: 16)
        #expect(first.hasPrefix("digest=\(String(repeating: "0", count: 16 - hex.count) + hex) bytes=\(bytes.count)"))
        let other = try Self.run(binary, ["\(seed + 1)", "\(count)"])
        #expect(other != first)
    }

    /// Finds the `scheduler-replay` product in the build directory of the running test binary.
    static func replayBinary() -> URL? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("scheduler-replay")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    static func run(_ binary: URL, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

@Suite("Command codec")
struct CodecTests {
    static func sampleCommands() throws -> [Command] {
        let dag = try DAGSpec.validated(name: "etl", tasks: [
            DAGTaskSpec(id: "a", task: .shell(ShellTask(argv: ["/bin/echo", "hi"], environment: [KeyValue("B", "2"), KeyValue("A", "1")], workingDirectory: "/tmp"))),
            DAGTaskSpec(id: "b", dependsOn: ["a"], task: .http(HTTPTask(method: "POST", url: "http://x/y", headers: [KeyValue("h", "v")], body: [0, 1, 255])),
                        retry: RetryPolicy(maxAttempts: 5, initialBackoffMs: 10, multiplier: 1.5, maxBackoffMs: 100, jitter: false), timeoutMs: 5),
        ], priority: -3, labels: [KeyValue("z", "1"), KeyValue("a", "2")])
        let spec = JobSpec(name: "nightly", schedule: CronSchedule(expression: "0 2 * * *", timezone: "Europe/Berlin"),
                           runAt: Timestamp(5), priority: Int.max, task: .sleep(milliseconds: 500), dag: dag,
                           concurrency: .replace, misfire: .skip, startingDeadlineMs: 1, labels: [KeyValue("team", "data")],
                           retentionMs: 9)
        let commands: [Command] = [
            .submitJob(SubmitJob(jobID: "j", spec: spec, runID: "r", firstFireAt: Timestamp(-7),
                                 idempotency: IdempotencyStamp(key: "k", bodyDigest: UInt64.max))),
            .submitJob(SubmitJob(jobID: "j2", spec: JobSpec(name: "ü ✓"), runID: "r2")),
            .submitDAG(SubmitDAG(dagRunID: "d", spec: dag, retentionMs: 3, idempotency: nil)),
            .fireCron(FireCron(jobID: "j", scheduledAt: Timestamp(1), nextFireAt: nil, runID: "f", missedBefore: 4)),
            .assignAttempt(AssignAttempt(runID: "r", executor: "n1", attempt: 2, deadline: Timestamp(Int64.max))),
            .finishAttempt(FinishAttempt(runID: "r", attempt: 2, report: AttemptReport(outcome: .failed, exitCode: -1, httpStatus: 503, outputTail: "tail", error: "e"))),
            .finishAttempt(FinishAttempt(runID: "r", attempt: 3, report: .success)),
            .expireAttempt(ExpireAttempt(runID: "r", attempt: 1, reason: .deadlinePassed)),
            .cancelJob("j"), .cancelDAG("d"), .pause("j"), .resume("j"),
            .trigger(TriggerJob(jobID: "j", runID: "t")), .requeue("r"), .purge("r"), .tick,
        ]
        return commands + [.batch(commands)]
    }

    @Test("every command round-trips through the binary encoding")
    func roundTrip() throws {
        for command in try Self.sampleCommands() {
            let stamped = StampedCommand(at: Timestamp(Int64.min + 1), command: command)
            let decoded = try CommandCodec.decode(CommandCodec.encode(stamped))
            #expect(decoded == stamped)
        }
    }

    @Test("truncated, corrupted and random bytes are errors, never crashes")
    func malformed() throws {
        var random = SplitMix64(seed: 5)
        for command in try Self.sampleCommands() {
            let bytes = CommandCodec.encode(command, at: Timestamp(3))
            for cut in 0..<bytes.count {
                #expect(throws: DecodeError.self) { try CommandCodec.decode(Array(bytes.prefix(cut))) }
            }
            for _ in 0..<50 {
                var corrupted = bytes
                corrupted[random.below(corrupted.count)] = UInt8(truncatingIfNeeded: random.next())
                _ = try? CommandCodec.decode(corrupted)
            }
        }
        for _ in 0..<2_000 {
            let garbage = (0..<random.below(40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? CommandCodec.decode([1] + garbage)
            _ = try? SchedulerState(snapshot: Array("QSCH".utf8) + [1] + garbage)
        }
        #expect(throws: DecodeError.self) { try CommandCodec.decode([2, 0, 14]) }
        #expect(throws: DecodeError.self) { try CommandCodec.decode([1, 0, 15, 1, 15, 0]) }  // nested batch
        #expect(throws: DecodeError.self) { try CommandCodec.decode([1, 0, 14, 0]) }  // trailing byte
        #expect(throws: DecodeError.self) { try CommandCodec.decode([1] + Array(repeating: 0xFF, count: 11)) }
    }

    @Test("a corrupted snapshot is an error, never a crash")
    func corruptedSnapshot() throws {
        let bytes = SchedulerWorkload.replay(seed: 3, count: 300).snapshot()
        #expect(throws: DecodeError.self) { try SchedulerState(snapshot: Array(bytes.dropLast())) }
        #expect(throws: DecodeError.self) { try SchedulerState(snapshot: [0x51, 0x53, 0x43, 0x48, 9]) }
        var random = SplitMix64(seed: 11)
        for _ in 0..<300 {
            var corrupted = bytes
            corrupted[random.below(corrupted.count)] ^= UInt8(1 + random.below(255))
            if let state = try? SchedulerState(snapshot: corrupted) {
                _ = state.snapshot()
            }
        }
    }
}
