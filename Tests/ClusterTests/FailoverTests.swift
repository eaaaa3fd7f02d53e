import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RealClusterTests {
    @Suite("failover on a 3-node cluster")
    struct FailoverTests {
        @Test("SIGKILL the leader under a stream of submissions: a new leader, nothing acknowledged lost, each job succeeds once; the old leader catches up")
        func leaderKilledUnderLoad() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (oldLeader, oldTerm) = try await cluster.waitForLeader()
                let stream = SubmissionStream(cluster: cluster)
                let submitting = Task { await stream.run(clients: 3) }
                defer { submitting.cancel() }

                try await eventually("20 acknowledged submissions before the kill") { stream.acks.count >= 20 ? true : nil }
                stream.markDown(oldLeader)
                let killedAt = ContinuousClock.now
                try await cluster.kill(oldLeader, SIGKILL)
                let (newLeader, newTerm) = try await cluster.waitForLeader(among: cluster.others(than: oldLeader))
                #expect(newLeader != oldLeader)
                #expect(newTerm > oldTerm)
                let firstAfter = try await eventually("a write acknowledged after the kill") {
                    stream.acks.first { $0.at > killedAt }
                }
                try await eventually("20 writes acknowledged after the kill") {
                    stream.acks.count(where: { $0.at > killedAt }) >= 20 ? true : nil
                }
                stream.stop()
                await submitting.value
                let acks = stream.acks
                print("failover: \(acks.count) acknowledged (\(stream.replayed) by a retry's 200), refused by status \(stream.refused), first write after the kill acknowledged \(firstAfter.at - killedAt) after it")

                // Retries with the same Idempotency-Key never made a second job: one job per marker.
                let listed = try await cluster.api(newLeader).get("/api/jobs?limit=1000").expect(200, as: Items<Job>.self).items
                var jobsByMarker: [String: [String]] = [:]
                for job in listed { jobsByMarker[job.name, default: []].append(job.id) }
                for ack in acks {
                    #expect(jobsByMarker[ack.marker] == [ack.jobID], "\(ack.marker): jobs \(jobsByMarker[ack.marker] ?? [])")
                }

                // Exactly once in the state machine: each acknowledged job succeeded, with one
                // succeeded attempt and nothing after it.
                var attemptsByJob: [String: [Attempt]] = [:]
                for ack in acks {
                    try await cluster.waitForJob(ack.jobID, on: newLeader, state: "succeeded", timeout: .seconds(60))
                    let attempts = try await cluster.attempts(of: ack.jobID, on: newLeader)
                    attemptsByJob[ack.jobID] = attempts
                    #expect(attempts.count(where: { $0.outcome == "succeeded" }) == 1, "\(ack.marker): \(attempts)")
                    #expect(attempts.last?.outcome == "succeeded", "\(ack.marker): \(attempts)")
                }

                // The old leader restarts from its data directory and catches up.
                try cluster.restart(oldLeader)
                for ack in acks {
                    try await cluster.waitForJob(ack.jobID, on: oldLeader, state: "succeeded", stale: true, timeout: .seconds(60))
                }

                // Real executions: every acknowledged job ran at least once; more than once only
                // as often as it had attempts (a retry after its executor died or was cut off).
                let counts = try stream.ledgerCounts()
                var repeated: [String] = []
                for ack in acks {
                    let ran = counts[ack.marker, default: 0]
                    let attempts = attemptsByJob[ack.jobID] ?? []
                    #expect(ran >= 1, "\(ack.marker) (job \(ack.jobID)) acknowledged but never ran")
                    if ran > 1 {
                        #expect(ran <= attempts.count, "\(ack.marker) ran \(ran) times in \(attempts.count) attempts: \(attempts)")
                        #expect(attempts.contains { $0.outcome == "lost" }, "\(ack.marker) ran \(ran) times without a lost attempt: \(attempts)")
                        repeated.append("\(ack.marker) (\(attempts.map { "\($0.outcome ?? "-")@\($0.executor ?? "-")" }))")
                    }
                }
                print("failover ledger: \(acks.count) acknowledged jobs, \(counts.values.reduce(0, +)) executions, ran more than once: \(repeated)")
            }
        }

        @Test("SIGSTOP the leader, then SIGCONT: a new leader meanwhile; the old one steps down without disturbing the new term")
        func pausedLeaderStepsDown() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (oldLeader, oldTerm) = try await cluster.waitForLeader()
                let observer = LeadershipObserver(cluster: cluster)
                let observing = Task { await observer.run() }
                defer { observing.cancel() }

                try await cluster.kill(oldLeader, SIGSTOP)
                let stoppedAt = ContinuousClock.now
                let (newLeader, newTerm) = try await cluster.waitForLeader(among: cluster.others(than: oldLeader))
                #expect(newLeader != oldLeader)
                #expect(newTerm > oldTerm)
                let during = try await cluster.submit(JobSubmission(name: "while-paused", task: .noop), to: newLeader)
                try await cluster.waitForJob(during, on: newLeader, state: "succeeded")
                // The fault lasts a few seconds — past the executor lease, as a long GC pause or
                // a suspended VM would — before the process resumes.
                try await Task.sleep(until: stoppedAt + .seconds(3))
                try await cluster.kill(oldLeader, SIGCONT)

                let (leaderAfter, termAfter) = try await cluster.waitForLeader()
                #expect(leaderAfter == newLeader, "leadership moved again after the old leader resumed")
                #expect(termAfter == newTerm, "the resumed leader disturbed the new term \(newTerm): now \(termAfter)")
                let oldView = try #require(await cluster.clusterInfo(oldLeader))
                #expect(oldView.nodes.first { $0.id == oldLeader }?.role == "follower", "\(oldView)")

                // Writes keep working, also through the resumed node.
                let after = try await cluster.submit(JobSubmission(name: "after-resume", task: .noop), to: oldLeader)
                try await cluster.waitForJob(after, on: oldLeader, state: "succeeded")
                #expect(try await cluster.job(during, on: oldLeader).state == "succeeded")

                observing.cancel()
                await observing.value
                let report = observer.report()
                #expect(report.conflicts.isEmpty, "two leaders in one term: \(report.conflicts)")
                #expect(report.regressions.isEmpty, "a node's term went backwards: \(report.regressions)")
            }
        }
    }
}

/// Polls every node's `/api/cluster` and checks two Raft safety facts over the whole run:
/// at most one leader per term (across every node's view), and no node's term going backwards.
final class LeadershipObserver: Sendable {
    struct Report: Sendable {
        var conflicts: [UInt64: Set<String>]
        var regressions: [String]
    }

    private struct State {
        var leaders: [UInt64: Set<String>] = [:]
        var lastTerm: [String: UInt64] = [:]
        var regressions: [String] = []
    }

    private let cluster: TestCluster
    private let state = Mutex(State())

    init(cluster: TestCluster) { self.cluster = cluster }

    /// Polls until cancelled.
    func run() async {
        while !Task.isCancelled {
            for id in cluster.ids {
                guard let info = await cluster.clusterInfo(id) else { continue }
                state.withLock { state in
                    if let leader = info.leader { state.leaders[info.term, default: []].insert(leader) }
                    if let last = state.lastTerm[id], info.term < last {
                        state.regressions.append("\(id): term \(last) then \(info.term)")
                    }
                    state.lastTerm[id] = max(info.term, state.lastTerm[id] ?? 0)
                }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// What was seen so far.
    func report() -> Report {
        state.withLock { state in
            Report(conflicts: state.leaders.filter { $0.value.count > 1 }, regressions: state.regressions)
        }
    }
}

extension RealClusterTests {
    @Suite("a paused executor")
    struct PausedExecutorTests {
        @Test("SIGSTOP an executor mid-attempt past its lease: the attempt is retried elsewhere, and the old one is stopped when the node resumes")
        func pausedExecutorsAttemptIsStoppedOnResume() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let ledger = "\(cluster.directory)/attempts"
                let id = try await cluster.submit(
                    JobSubmission(
                        name: "outlives-its-lease",
                        task: .shell(["/bin/sh", "-c", "echo \"start $$\" >> \"$LEDGER\"; sleep 8; echo \"end $$\" >> \"$LEDGER\""],
                                     env: ["LEDGER": ledger]),
                        retry: RetrySpec(maxAttempts: 3, initialBackoffMs: 100, multiplier: 1, maxBackoffMs: 100, jitter: false)),
                    to: leader)
                let first = try await eventually("attempt 1 running") { () -> Attempt? in
                    try await cluster.attempts(of: id, on: leader).first { $0.attempt == 1 && $0.state == "running" }
                }
                let executor = try #require(first.executor)
                try #require(executor != leader)
                try await eventually("attempt 1's process started") {
                    (try? String(contentsOfFile: ledger, encoding: .utf8))?.contains("start") == true ? true : nil
                }
                try await cluster.kill(executor, SIGSTOP)
                // The leader declares the silent executor lost after its lease plus a margin and retries.
                try await eventually("attempt 1 lost, attempt 2 started", timeout: .seconds(20)) { () -> Bool? in
                    let attempts = try await cluster.attempts(of: id, on: leader)
                    return attempts.contains { $0.attempt == 1 && $0.outcome == "lost" } && attempts.contains { $0.attempt == 2 } ? true : nil
                }
                try await cluster.kill(executor, SIGCONT)
                try await cluster.waitForJob(id, on: leader, state: "succeeded", timeout: .seconds(30))
                let lines = try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n")
                let ends = lines.filter { $0.hasPrefix("end") }
                // Attempt 1 was expired while its node was paused: once the node is back it must
                // stop it, not let it run to the end next to its retry.
                #expect(ends.count == 1, "attempts that ran to the end: \(lines)")
                let attempts = try await cluster.attempts(of: id, on: leader)
                #expect(attempts.count(where: { $0.outcome == "succeeded" }) == 1, "\(attempts)")
            }
        }
    }
}
