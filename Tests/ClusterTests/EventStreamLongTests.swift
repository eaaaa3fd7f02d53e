import Foundation
import Testing

extension RealClusterTests.EventStreamClusterTests {
    /// Checks a stream's numbered events: ids strictly increasing (log order, no duplicate);
    /// per run, between two finished attempts, states in lifecycle order with none repeated (a
    /// retried or lost attempt starts over at pending or queued); one outcome per attempt.
    /// Returns the problems found (empty when none).
    static func lifecycleProblems(_ events: [StreamedEvent]) -> [String] {
        var problems: [String] = []
        let ids = events.compactMap(\.id)
        for (earlier, later) in zip(ids, ids.dropFirst()) where later <= earlier {
            problems.append("id \(later) after \(earlier): a duplicate or out of log order")
        }
        let rank = ["pending": 0, "queued": 1, "running": 2, "succeeded": 3, "dead": 3, "cancelled": 3]
        var segments: [String: [[String]]] = [:]
        var outcomes: [String: Int] = [:]
        for event in events where event.type == "run" {
            guard let run = event.runID else {
                problems.append("a run event without run_id: \(event)")
                continue
            }
            if let state = event.state {
                var runSegments = segments[run] ?? [[]]
                runSegments[runSegments.count - 1].append(state)
                segments[run] = runSegments
            }
            if event.outcome != nil {
                outcomes["\(run) attempt \(event.attempt ?? -1)", default: 0] += 1
                segments[run, default: [[]]].append([])
            }
        }
        for (run, runSegments) in segments {
            for states in runSegments {
                let ranks = states.map { rank[$0] ?? -1 }
                if ranks != ranks.sorted() || Set(states).count != states.count {
                    problems.append("run \(run)'s states out of order or repeated: \(runSegments)")
                }
            }
        }
        for (attempt, count) in outcomes where count > 1 {
            problems.append("\(attempt) finished \(count) times")
        }
        return problems
    }

    @Test("50 jobs and a DAG, read on a follower, disconnected midway and resumed with Last-Event-ID: every state change exactly once, in log order")
    func fiftyJobsAndADAGResumedMidway() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let (leader, _) = try await cluster.waitForLeader()
            let follower = try #require(cluster.others(than: leader).first)
            let base = cluster.api(follower).baseURL
            // The reference follows the whole time; the first reader is cut midway and resumed.
            let reference = EventStreamReader(baseURL: base)
            let first = EventStreamReader(baseURL: base)
            defer { reference.stop(); first.stop() }
            try await eventually("both streams to open") { reference.opened && first.opened ? true : nil }

            func succeeded(_ events: [StreamedEvent]) -> Set<String> {
                Set(events.filter { $0.type == "run" && $0.state == "succeeded" }.compactMap(\.jobID))
            }
            // Two batches of 20 (many events per entry) while the first reader follows.
            var jobs: [String] = []
            for batch in 0..<2 {
                let body = JobBatch(jobs: (0..<20).map { JobSubmission(name: "batch-\(batch)-\($0)", task: .noop) })
                jobs += try await cluster.api(leader).post("/api/jobs/batch", json: body).expect(201, as: BatchCreated.self).ids
            }
            // Midway: disconnect once 10 jobs are done; what follows is only in the node's window.
            try await eventually("10 jobs to succeed on the first stream") { succeeded(first.events).count >= 10 ? true : nil }
            first.stop()
            try await eventually("the first stream to end") { first.ended ? true : nil }
            let seenFirst = first.events
            let lastID = try #require(seenFirst.compactMap(\.id).last)
            // Ten single submits (to both nodes) and a DAG while disconnected.
            for index in 0..<10 {
                jobs.append(try await cluster.submit(JobSubmission(name: "single-\(index)", task: .noop), to: index % 2 == 0 ? leader : follower))
            }
            let dag = DAGSubmission(name: "chain", tasks: [
                .init(id: "a", task: .noop), .init(id: "b", task: .noop, dependsOn: ["a"]), .init(id: "c", task: .noop, dependsOn: ["b"]),
            ])
            let dagID = try await cluster.api(leader).post("/api/dags", json: dag).expect(201, as: Created.self).id
            #expect(jobs.count == 50)
            func dagDone(_ events: [StreamedEvent]) -> Bool {
                events.contains { $0.type == "dag" && $0.dagID == dagID && $0.state == "succeeded" }
            }

            let resumed = EventStreamReader(baseURL: base, lastEventID: lastID)
            defer { resumed.stop() }
            try await eventually("all 50 jobs and the DAG done on the resumed and the reference stream", timeout: .seconds(60)) {
                let combined = seenFirst + resumed.events
                return succeeded(combined).isSuperset(of: jobs) && dagDone(combined)
                    && succeeded(reference.events).isSuperset(of: jobs) && dagDone(reference.events) ? true : nil
            }
            #expect(resumed.resets == 0)
            #expect(resumed.events.contains { $0.type == "job" && $0.jobID == jobs.last }, "the resume replays what happened while disconnected")
            let combined = (seenFirst + resumed.events).filter { $0.id != nil }
            let problems = Self.lifecycleProblems(combined)
            #expect(problems.isEmpty, "\(problems.prefix(10))")
            // Exactly the reference's events: nothing missed at the reconnect, nothing twice.
            let expected = reference.events.filter { $0.id != nil }
            let upTo = min(expected.last?.id ?? 0, combined.last?.id ?? 0)
            #expect(combined.filter { ($0.id ?? 0) <= upTo } == expected.filter { ($0.id ?? 0) <= upTo })
            for job in jobs {
                let states = combined.filter { $0.type == "run" && $0.jobID == job }.compactMap(\.state)
                #expect(states.last == "succeeded" && states.filter { $0 == "succeeded" }.count == 1, "job \(job): \(states)")
            }
            let dagStates = combined.filter { $0.type == "dag" && $0.dagID == dagID }.compactMap(\.state)
            #expect(dagStates.last == "succeeded" && Set(dagStates).count == dagStates.count, "DAG \(dagID): \(dagStates)")
            let taskRuns = Set(combined.filter { $0.type == "run" && $0.dagID == dagID && $0.state == "succeeded" }.compactMap(\.runID))
            #expect(taskRuns.count == 3, "the DAG's three task runs succeed once each: \(taskRuns)")
        }
    }

    @Test("SIGKILL the leader: a surviving follower's stream goes on, with a leader event, a node event (old leader unreachable) and the events of a job submitted to the new leader")
    func streamContinuesAcrossLeaderKill() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let (leader, _) = try await cluster.waitForLeader()
            let survivor = try #require(cluster.others(than: leader).first)
            let reader = EventStreamReader(baseURL: cluster.api(survivor).baseURL)
            defer { reader.stop() }
            try await eventually("the stream to open") { reader.opened ? true : nil }
            let before = try await cluster.submit(JobSubmission(name: "before-kill", task: .noop), to: leader)
            try await eventually("the first job's success") { Self.finished(before, in: reader.events) ? true : nil }
            let seenBefore = reader.events.count

            try await cluster.kill(leader, SIGKILL)
            let (newLeader, _) = try await cluster.waitForLeader(excluding: [leader])
            let after = try await cluster.submitRetrying(JobSubmission(name: "after-kill", task: .noop), to: newLeader,
                                                         key: "after-kill-\(UUID().uuidString)")
            try await eventually("the second job's success on the same stream", timeout: .seconds(60)) {
                Self.finished(after, in: reader.events) ? true : nil
            }
            // The survivor also says, as a node event, that it lost the old leader.
            try await eventually("a node event: \(leader) unreachable", timeout: .seconds(30)) {
                reader.events.contains { $0.type == "node" && $0.node == leader && $0.state == "unreachable" && $0.id == nil } ? true : nil
            }
            #expect(!reader.ended)
            #expect(reader.resets == 0)
            let later = Array(reader.events.dropFirst(seenBefore))
            #expect(later.contains { $0.type == "leader" && $0.id == nil && $0.state == newLeader },
                    "a leader event naming \(newLeader): \(later.filter { $0.type == "leader" })")
            let problems = Self.lifecycleProblems(reader.events.filter { $0.id != nil })
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    @Test("a Last-Event-ID far ahead of the cluster (another cluster's) gets a reset within the bounded wait, then live events")
    func aheadOfTheClusterResets() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let (leader, _) = try await cluster.waitForLeader()
            let follower = try #require(cluster.others(than: leader).first)
            let started = ContinuousClock.now
            let reader = EventStreamReader(baseURL: cluster.api(follower).baseURL, lastEventID: 987_654_000_000_000)
            defer { reader.stop() }
            try await eventually("a reset", timeout: .seconds(20)) { reader.resets == 1 ? true : nil }
            // The node waits its 5 s for the commit index to reach the id's entry, no longer.
            #expect(ContinuousClock.now - started < .seconds(15))
            let job = try await cluster.submit(JobSubmission(name: "after-reset", task: .noop), to: leader)
            try await eventually("the live job's events after the reset") { Self.finished(job, in: reader.events) ? true : nil }
        }
    }
}
