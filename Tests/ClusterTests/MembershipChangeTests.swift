import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `POST /api/cluster/nodes` bodies.
private struct AddNode: Encodable {
    var id: String
    var raft: String
    var api: String
    var voter = false
}

/// `POST /api/cluster/leader` bodies.
private struct TransferTo: Encodable {
    var to: String
}

/// `{"error": {"code", "message"}}`.
private struct ErrorBody: Decodable {
    struct Detail: Decodable {
        var code: String
        var message: String
    }
    var error: Detail
}

/// The write gaps of `growToFiveAndBack`: the longest stretch without an acknowledged write
/// during each membership change.
enum WriteGaps {
    /// One change, from its request to its end (a promotion once it answered 200, a removal once
    /// the removed node exited).
    struct Phase {
        var name: String
        var start: ContinuousClock.Instant
        var end: ContinuousClock.Instant
    }

    /// What a gap may exceed one election timeout by. A gap between two acknowledgements holds
    /// a request's own latency (a forward to the leader, its fsync, the apply and the answer,
    /// in debug builds on a shared 2-core machine) on top of any stall; measured: at most 288 ms
    /// per change over seven runs at load average 18–34, against 600 ms for the election timeout
    /// alone (docs/testing.md), so a stall of one election still passes and a change that waits
    /// on a slow learner or a second election does not.
    static let slack: Duration = .milliseconds(400)

    /// The bound: one election timeout (its upper end, the longest a follower waits) plus ``slack``.
    static func bound(electionTimeoutMs: Int) -> Duration { .milliseconds(electionTimeoutMs) + slack }

    /// The longest interval between consecutive acknowledgements (`acks`, sorted) that overlaps
    /// `phase`; an interval reaching into the phase from before it counts whole.
    static func longest(in phase: Phase, acks: [ContinuousClock.Instant]) -> Duration {
        zip(acks, acks.dropFirst()).filter { $1 >= phase.start && $0 <= phase.end }.map { $1 - $0 }.max() ?? .zero
    }
}

extension TestCluster {
    /// Adds spare `id` as a learner through `leader`'s API (201 expected).
    fileprivate func addLearner(_ id: String, via leader: String) async throws {
        let (raft, api) = try addresses(of: id)
        let response = try await self.api(leader).post("/api/cluster/nodes", json: AddNode(id: id, raft: raft, api: api))
        guard response.status == 201 else { throw ClusterError("add \(id): \(response.status) \(response.text)") }
    }

    /// Promotes `id` through `leader`, retrying while it answers 409 `change_in_progress` (the
    /// learner is catching up); returns how many 409s came first.
    @discardableResult
    fileprivate func promoteWhenCaughtUp(_ id: String, via leader: String, timeout: Duration = .seconds(30)) async throws -> Int {
        var refusals = 0
        try await eventually("\(id) promoted", timeout: timeout, poll: .milliseconds(200)) { () -> Bool? in
            let response = try await api(leader).post("/api/cluster/nodes/\(id)/promote")
            if response.status == 200 { return true }
            guard response.status == 409, (try? response.decode(ErrorBody.self))?.error.code == "change_in_progress" else {
                throw ClusterError("promote \(id): \(response.status) \(response.text)")
            }
            refusals += 1
            return nil
        }
        return refusals
    }

    /// Sends a membership write to `node` until it is not a 409 `change_in_progress` (a change
    /// in flight, e.g. the leader recording a new voter's incarnation); returns the answer.
    fileprivate func retryingChange(_ what: String, _ send: () async throws -> APIResponse) async throws -> APIResponse {
        try await eventually(what, timeout: .seconds(15), poll: .milliseconds(100)) { () -> APIResponse? in
            let response = try await send()
            if response.status == 409, (try? response.decode(ErrorBody.self))?.error.code == "change_in_progress" { return nil }
            return response
        }
    }

    /// The roles `id` reports for every member (`/api/cluster`).
    fileprivate func roles(on id: String) async -> [String: String]? {
        guard let info = await clusterInfo(id) else { return nil }
        return Dictionary(uniqueKeysWithValues: info.nodes.map { ($0.id, $0.role) })
    }
}

extension RealClusterTests {
    @Suite("membership changes at run time (issue #16)")
    struct MembershipChangeTests {
        @Test("grow 3 → 4 (add a learner, join, catch up, promote) and back (remove) under a trickle of writes; nothing acknowledged is lost")
        func growAndShrink() async throws {
            try await TestCluster.with(nodes: 3, spares: 1) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let stream = SubmissionStream(cluster: cluster)
                let submitting = Task { await stream.run(clients: 2) }
                defer { submitting.cancel() }
                try await eventually("5 acknowledged writes") { stream.acks.count >= 5 ? true : nil }

                try await cluster.addLearner("n4", via: leader)
                let again = try await cluster.api(leader).post("/api/cluster/nodes",
                                                                json: AddNode(id: "n4", raft: "127.0.0.1:1", api: "127.0.0.1:2"))
                #expect(again.status == 409, "adding an existing id: \(again.status) \(again.text)")
                // Not started yet: nothing replicated, so promotion is refused.
                let early = try await cluster.api(leader).post("/api/cluster/nodes/n4/promote")
                #expect(early.status == 409, "\(early.text)")
                #expect((try? early.decode(ErrorBody.self))?.error.code == "change_in_progress")

                try cluster.startSpare("n4")
                let refusals = try await cluster.promoteWhenCaughtUp("n4", via: leader)
                try await eventually("n4 sees itself as a voter among 4") { () -> Bool? in
                    guard let roles = await cluster.roles(on: "n4"), roles.count == 4, roles["n4"] != "learner" else { return nil }
                    return true
                }
                try await eventually("10 more writes with 4 voters") { stream.acks.count >= 15 ? true : nil }

                let removed = try await cluster.retryingChange("remove n4") { try await cluster.api(leader).delete("/api/cluster/nodes/n4") }
                #expect(removed.status == 200, "\(removed.text)")
                try await eventually("n4 exits, saying it was removed", timeout: .seconds(20)) { () -> Bool? in
                    cluster.isRunning("n4") ? nil : true
                }
                #expect(cluster.exitStatus("n4") != 0)
                #expect(cluster.logTail("n4").contains("was removed from the cluster"), "\(cluster.logTail("n4", lines: 20))")
                let readd = try await cluster.api(leader).post("/api/cluster/nodes",
                                                                json: AddNode(id: "n4", raft: "127.0.0.1:1", api: "127.0.0.1:2"))
                #expect(readd.status == 409, "a removed id came back: \(readd.status) \(readd.text)")
                let roles = try #require(await cluster.roles(on: leader))
                #expect(Set(roles.keys) == ["n1", "n2", "n3"], "\(roles)")

                let before = stream.acks.count
                try await eventually("writes go on after the removal") { stream.acks.count >= before + 5 ? true : nil }
                stream.stop()
                await submitting.value
                let acks = stream.acks
                for ack in acks {
                    try await cluster.waitForJob(ack.jobID, on: leader, state: "succeeded", timeout: .seconds(60))
                }
                print("membership grow/shrink: \(acks.count) acknowledged, refused by status \(stream.refused), promote refused \(refusals)× while catching up")
            }
        }

        @Test("grow 3 → 5 voters and back to 3 under two submitting clients: every acknowledged job succeeds and writes never stop for long")
        func growToFiveAndBack() async throws {
            try await TestCluster.with(nodes: 3, spares: 2) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let stream = SubmissionStream(cluster: cluster)
                let submitting = Task { await stream.run(clients: 2) }
                defer { submitting.cancel() }
                try await eventually("5 acknowledged writes") { stream.acks.count >= 5 ? true : nil }
                let started = ContinuousClock.now
                var phases: [WriteGaps.Phase] = []
                for spare in ["n4", "n5"] {
                    var begin = ContinuousClock.now
                    try await cluster.addLearner(spare, via: leader)
                    try cluster.startSpare(spare)
                    phases.append(WriteGaps.Phase(name: "add \(spare)", start: begin, end: .now))
                    begin = .now
                    try await cluster.promoteWhenCaughtUp(spare, via: leader)
                    phases.append(WriteGaps.Phase(name: "promote \(spare)", start: begin, end: .now))
                }
                try await eventually("5 voters") { () -> Bool? in
                    guard let info = await cluster.clusterInfo(leader) else { return nil }
                    return info.nodes.filter { $0.voter == true }.count == 5 ? true : nil
                }
                let withFive = stream.acks.count
                try await eventually("writes with 5 voters") { stream.acks.count >= withFive + 10 ? true : nil }
                for spare in ["n5", "n4"] {
                    let begin = ContinuousClock.now
                    let removed = try await cluster.retryingChange("remove \(spare)") {
                        try await cluster.api(leader).delete("/api/cluster/nodes/\(spare)")
                    }
                    #expect(removed.status == 200, "\(removed.text)")
                    try await eventually("\(spare) exits", timeout: .seconds(20)) { cluster.isRunning(spare) ? nil : true }
                    phases.append(WriteGaps.Phase(name: "remove \(spare)", start: begin, end: .now))
                }
                let roles = try #require(await cluster.roles(on: leader))
                #expect(Set(roles.keys) == ["n1", "n2", "n3"], "\(roles)")
                let withThree = stream.acks.count
                try await eventually("writes with 3 voters again") { stream.acks.count >= withThree + 10 ? true : nil }
                let finished = ContinuousClock.now
                stream.stop()
                await submitting.value
                let acks = stream.acks
                for ack in acks {
                    try await cluster.waitForJob(ack.jobID, on: leader, state: "succeeded", timeout: .seconds(60))
                }
                // The longest stretch without an acknowledged write during each change, against one
                // election timeout plus WriteGaps.slack (docs/testing.md says what it measures).
                let times = acks.map(\.at).filter { $0 >= started && $0 <= finished }.sorted()
                let longest = zip(times, times.dropFirst()).map { $1 - $0 }.max() ?? .zero
                let gaps = phases.map { ($0.name, WriteGaps.longest(in: $0, acks: times)) }
                let bound = WriteGaps.bound(electionTimeoutMs: TestCluster.Timing().electionMs.1)
                for (name, gap) in gaps {
                    #expect(gap < bound, "writes stopped for \(gap) during '\(name)' (bound \(bound))")
                }
                print("membership 3 → 5 → 3: \(acks.count) acknowledged, longest gap between acknowledgements \(longest), "
                      + "per change: \(gaps.map { "\($0.0) \($0.1)" }.joined(separator: ", ")), refused by status \(stream.refused)")
            }
        }

        @Test("`quorum node --join URLS --voter` asks to be added, catches up and is promoted with no operator step; removed, its id cannot come back with a wiped data directory")
        func joinAsksAndPromotes() async throws {
            try await TestCluster.with(nodes: 3, spares: 1) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let before = try await cluster.submit(JobSubmission(name: "before-join", task: .noop), to: leader)
                try cluster.startSpare("n4", adding: ["--voter"])
                try await eventually("n4 added itself and became a voter", timeout: .seconds(40)) { () -> Bool? in
                    guard let roles = await cluster.roles(on: leader), roles.count == 4, let role = roles["n4"], role != "learner" else {
                        return nil
                    }
                    return true
                }
                #expect(cluster.logTail("n4").contains("the cluster accepted: add n4 as a learner"), "\(cluster.logTail("n4", lines: 30))")
                try await cluster.waitForJob(before, on: "n4", state: "succeeded", stale: true)

                let removed = try await cluster.retryingChange("remove n4") { try await cluster.api(leader).delete("/api/cluster/nodes/n4") }
                #expect(removed.status == 200, "\(removed.text)")
                try await eventually("n4 exits after its removal", timeout: .seconds(20)) { cluster.isRunning("n4") ? nil : true }
                // The same id on a wiped machine asks again: the cluster refuses, and the node says so and stops.
                try FileManager.default.removeItem(atPath: "\(cluster.directory)/data/n4")
                try cluster.startSpare("n4", adding: ["--voter"])
                try await eventually("the re-joining n4 stops", timeout: .seconds(30)) { cluster.isRunning("n4") ? nil : true }
                #expect(cluster.exitStatus("n4") != 0)
                #expect(cluster.logTail("n4").contains("could not join: the cluster refused to add n4 as a learner"),
                        "\(cluster.logTail("n4", lines: 20))")
                #expect(cluster.logTail("n4").contains("never reused"), "\(cluster.logTail("n4", lines: 20))")
                let roles = try #require(await cluster.roles(on: leader))
                #expect(Set(roles.keys) == ["n1", "n2", "n3"], "\(roles)")
            }
        }

        @Test("a follower removed while dead and restarted on its old data after the farewell window is sent a removal notice and exits")
        func removedWhileDeadIsToldOnReturn() async throws {
            let timing = TestCluster.Timing()
            try await TestCluster.with(nodes: 4, timing: timing) { cluster in
                _ = try await cluster.waitForLeader()
                try await cluster.kill("n4", SIGKILL)
                let (leader, _) = try await cluster.waitForLeader(among: ["n1", "n2", "n3"])
                let removed = try await cluster.retryingChange("remove n4") { try await cluster.api(leader).delete("/api/cluster/nodes/n4") }
                #expect(removed.status == 200, "\(removed.text)")
                // The members linger two election timeouts (the longest) after they see the
                // removal; past that no farewell reaches n4 and only the notice can tell it.
                let lingerEnds = ContinuousClock.now + .milliseconds(2 * timing.electionMs.1)
                try await eventually("every member's configuration left n4 out and the farewell window passed",
                                     timeout: .seconds(20), poll: .milliseconds(100)) { () -> Bool? in
                    for member in ["n1", "n2", "n3"] {
                        guard let roles = await cluster.roles(on: member), roles["n4"] == nil else { return nil }
                    }
                    return ContinuousClock.now >= lingerEnds ? true : nil
                }

                let restarted = ContinuousClock.now
                try cluster.restart("n4")
                try await eventually("n4 exits, told it was removed", timeout: .seconds(15)) { () -> Bool? in
                    cluster.isRunning("n4") ? nil : true
                }
                let took = ContinuousClock.now - restarted
                let tail = cluster.logTail("n4", lines: 40)
                #expect(cluster.exitStatus("n4") != 0)
                #expect(tail.contains("says this node was removed from the cluster"), "\(tail)")
                #expect(tail.contains("was removed from the cluster"), "\(tail)")
                let told = ["n1", "n2", "n3"].filter { cluster.logTail($0, lines: 400).contains("sent it a removal notice") }
                #expect(!told.isEmpty, "no member logged sending the notice")
                let roles = try #require(await cluster.roles(on: leader))
                #expect(Set(roles.keys) == ["n1", "n2", "n3"], "\(roles)")
                print("removal notice: n4 exited \(took) after its restart; told by \(told)")
            }
        }

        @Test("replace a SIGKILLed follower by a new node with a new id; the new voter then carries the quorum")
        func replaceKilledFollower() async throws {
            try await TestCluster.with(nodes: 3, spares: 1) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let followers = cluster.others(than: leader)
                let dead = followers[0]
                let survivor = followers[1]
                try await cluster.kill(dead, SIGKILL)
                let during = try await cluster.submit(JobSubmission(name: "while-one-is-dead", task: .noop), to: leader)

                try await cluster.addLearner("n4", via: leader)
                try cluster.startSpare("n4")
                try await cluster.promoteWhenCaughtUp("n4", via: leader)
                let removed = try await cluster.retryingChange("remove \(dead)") {
                    try await cluster.api(leader).delete("/api/cluster/nodes/\(dead)")
                }
                #expect(removed.status == 200, "\(removed.text)")
                let roles = try #require(await cluster.roles(on: leader))
                #expect(Set(roles.keys) == Set([leader, survivor, "n4"]), "\(roles)")

                // n4 is a real voter: with the other original follower gone too, leader + n4 commit.
                try await cluster.kill(survivor, SIGKILL)
                let after = try await cluster.submitRetrying(JobSubmission(name: "after-replacement", task: .noop), to: leader,
                                                             key: "after-replacement", within: .seconds(15))
                try await cluster.waitForJob(after, on: leader, state: "succeeded")
                try await cluster.waitForJob(during, on: "n4", state: "succeeded", stale: true)
            }
        }

        /// The successor never hears the dead leader's build; whether it may write a member
        /// directory record naming it depends on whether the dead leader's build was recorded in
        /// the log before it died (docs/upgrades.md, "Recorded builds"), so the test removes the
        /// dead node first — which must work either way (before directoryGateMembers it was
        /// refused for good) — and then adds the new one.
        @Test("replace a SIGKILLed leader: its successor, which never heard its build, removes it, then adds and promotes a new node")
        func replaceKilledLeader() async throws {
            try await TestCluster.with(nodes: 3, spares: 1) { cluster in
                let (dead, _) = try await cluster.waitForLeader()
                try await cluster.kill(dead, SIGKILL)
                let (leader, _) = try await cluster.waitForLeader(among: cluster.others(than: dead))
                let (raft, api) = try cluster.addresses(of: "n4")
                let removed = try await cluster.retryingChange("remove \(dead)") {
                    try await cluster.api(leader).delete("/api/cluster/nodes/\(dead)")
                }
                #expect(removed.status == 200, "\(removed.text)")
                let added = try await cluster.retryingChange("add n4") {
                    try await cluster.api(leader).post("/api/cluster/nodes", json: AddNode(id: "n4", raft: raft, api: api))
                }
                #expect(added.status == 201, "\(added.text)")
                try cluster.startSpare("n4")
                try await cluster.promoteWhenCaughtUp("n4", via: leader)
                let roles = try #require(await cluster.roles(on: leader))
                #expect(Set(roles.keys) == Set(cluster.others(than: dead) + ["n4"]), "\(roles)")
                let job = try await cluster.submitRetrying(JobSubmission(name: "after-leader-replacement", task: .noop), to: leader,
                                                           key: "after-leader-replacement", within: .seconds(15))
                try await cluster.waitForJob(job, on: "n4", state: "succeeded", stale: true)
            }
        }

        @Test("removing the leader hands leadership over first, then the new leader removes it (forwarded) and it exits")
        func removeLeader() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (oldLeader, _) = try await cluster.waitForLeader()
                let removed = try await cluster.retryingChange("remove the leader") {
                    try await cluster.api(oldLeader).delete("/api/cluster/nodes/\(oldLeader)")
                }
                #expect(removed.status == 200, "\(removed.text)")
                let (newLeader, _) = try await cluster.waitForLeader(among: cluster.others(than: oldLeader))
                #expect(newLeader != oldLeader)
                try await eventually("the removed node exits", timeout: .seconds(20)) { cluster.isRunning(oldLeader) ? nil : true }
                let roles = try #require(await cluster.roles(on: newLeader))
                #expect(Set(roles.keys) == Set(cluster.ids).subtracting([oldLeader]), "\(roles)")
                let job = try await cluster.submit(JobSubmission(name: "two-voters", task: .noop), to: newLeader)
                try await cluster.waitForJob(job, on: newLeader, state: "succeeded")
            }
        }

        @Test("POST /api/cluster/leader, sent to a follower, hands leadership to the named voter")
        func transferToNamedNode() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, term) = try await cluster.waitForLeader()
                let (follower, target) = (cluster.others(than: leader)[0], cluster.others(than: leader)[1])
                // Sent to a follower: forwarded to the leader like other writes.
                let response = try await cluster.api(follower).post("/api/cluster/leader", json: TransferTo(to: target))
                #expect(response.status == 200, "\(response.text)")
                let (now, newTerm) = try await cluster.waitForLeader()
                #expect(now == target)
                #expect(newTerm > term)
                let unknown = try await cluster.api(target).post("/api/cluster/leader", json: TransferTo(to: "n9"))
                #expect(unknown.status == 422, "\(unknown.text)")
            }
        }

        @Test("a learner runs jobs but does not vote: with two of three voters killed, writes stop though it is up")
        func learnerDoesNotVote() async throws {
            try await TestCluster.with(nodes: 3, spares: 1) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                try await cluster.addLearner("n4", via: leader)
                try cluster.startSpare("n4")
                try await eventually("n4 lists 4 members with itself a learner") { () -> Bool? in
                    await cluster.roles(on: "n4")?["n4"] == "learner" ? true : nil
                }
                let view = try #require(await cluster.clusterInfo(leader))
                #expect(view.nodes.map { "\($0.id):\($0.voter.map(String.init) ?? "-")" } == ["n1:true", "n2:true", "n3:true", "n4:false"])
                // Enough jobs at once that the leader spreads them over every executor, n4 included.
                var ranOnLearner = false
                for round in 0..<10 where !ranOnLearner {
                    var jobs: [String] = []
                    for index in 0..<16 {
                        jobs.append(try await cluster.submit(JobSubmission(name: "spread-\(round)-\(index)", task: .sleep(0.5)), to: leader))
                    }
                    for job in jobs {
                        let done = try await cluster.waitForJob(job, on: leader, state: "succeeded")
                        if done.runs.contains(where: { $0.executor == "n4" }) { ranOnLearner = true }
                    }
                }
                #expect(ranOnLearner, "no job ran on the learner n4")

                for voter in cluster.others(than: leader) where voter != "n4" {
                    try await cluster.kill(voter, SIGKILL)
                }
                // Observe for a few election timeouts: no write is acknowledged anywhere.
                let window = ContinuousClock.now + .seconds(3)
                var acknowledged: [Int] = []
                while ContinuousClock.now < window {
                    for node in [leader, "n4"] {
                        let response = try? await cluster.api(node).post("/api/jobs", json: JobSubmission(name: "no-quorum", task: .noop),
                                                                         timeout: .seconds(2))
                        if let status = response?.status, status == 201 || status == 200 { acknowledged.append(status) }
                    }
                }
                #expect(acknowledged.isEmpty, "a write was acknowledged with one voter of three and a learner up")
                #expect(cluster.isRunning("n4"))
            }
        }
    }
}
