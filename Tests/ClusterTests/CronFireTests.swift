import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Apart from ``RealClusterTests`` so its minute of waiting overlaps with them.
@Suite("cron on a real cluster")
struct CronFireTests {
    @Test("a * * * * * cron job fires on its own timer at the next minute, and again a minute later under a new leader")
    func everyMinuteCronFires() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let (leader, _) = try await cluster.waitForLeader()
            let follower = try #require(cluster.others(than: leader).first)
            let submitted = Date()
            let id = try await cluster.submit(
                JobSubmission(name: "every-minute", type: "cron", schedule: "* * * * *", task: .noop), to: follower)
            #expect(try await cluster.job(id, on: follower).state == "scheduled")
            // The next minute boundary is at most 60 s away; the fire, the dispatch and the run
            // follow within a few seconds even on a loaded machine.
            let attempt = try await eventually("a succeeded fire of cron job \(id)", timeout: .seconds(90), poll: .milliseconds(250)) {
                () -> Attempt? in
                let attempts = try await cluster.attempts(of: id, on: follower)
                return attempts.first { $0.outcome == "succeeded" }
            }
            let scheduled = try APITime.parse(attempt.scheduledAt)
            let started = try APITime.parse(try #require(attempt.startedAt))
            let seconds = scheduled.timeIntervalSince1970
            #expect(seconds.truncatingRemainder(dividingBy: 60) == 0, "scheduled_at \(attempt.scheduledAt) is not on a minute")
            #expect(scheduled > submitted, "fired for \(attempt.scheduledAt), before the job was submitted at \(submitted)")
            #expect(started >= scheduled, "started \(started) before it was due \(scheduled)")
            #expect(try await cluster.job(id, on: leader).state == "scheduled")

            // The next fire belongs to the next leader: the timer lives in the replicated state.
            try await cluster.kill(leader, SIGKILL)
            let (newLeader, _) = try await cluster.waitForLeader(among: cluster.others(than: leader))
            let nextDue = APITime.format(scheduled.addingTimeInterval(60))
            let next = try await eventually("the fire due at \(nextDue) under the new leader \(newLeader)", timeout: .seconds(90),
                                            poll: .milliseconds(250)) { () -> Attempt? in
                let attempts = try await cluster.attempts(of: id, on: follower)
                return attempts.first { $0.outcome == "succeeded" && (try? APITime.parse($0.scheduledAt)) == scheduled.addingTimeInterval(60) }
            }
            #expect(next.executor != leader)
            let attempts = try await cluster.attempts(of: id, on: follower)
            let fires = Dictionary(grouping: attempts, by: \.scheduledAt).mapValues { Set($0.map(\.runId)).count }
            #expect(fires.values.allSatisfy { $0 == 1 }, "a due time fired more than one run: \(fires)")
        }
    }
}
