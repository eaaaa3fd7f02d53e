import NodeCore
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Synchronization
import Testing

@Suite("PeerLink: batched forwarding over loopback TLS", .timeLimit(.minutes(2)))
struct PeerLinkBatchTests {
    /// A submit whose job id names `index`.
    static func submit(_ index: Int) -> UnstampedCommand {
        .submit(SubmitJob(jobID: JobID("j\(index)"), spec: JobSpec(name: "a"), runID: RunID("r\(index)")), .afterStamp(milliseconds: 0))
    }

    /// The leader's answer in these tests: `invalid` for job ids ending in 3, else applied at 100 + the job's number.
    static func answer(_ request: PeerLink.ForwardRequest) -> ForwardedOutcome.Result {
        guard case .unstamped(let command) = request, case .submitJob(let submit) = command.template,
              let number = Int(submit.jobID.rawValue.dropFirst()) else { return .outcomeUnknown(message: "unexpected") }
        if number % 10 == 3 { return .invalid(UnstampedCommand.ResolveError(batchIndex: nil, field: "schedule", message: "no")) }
        return .applied(Raft.LogIndex(UInt64(100 + number)))
    }

    /// Connects `n1` (follower) to `n2` (leader) until n1 holds n2's echo (so it knows n2's features).
    static func connect(_ n1: PeerLink, to n2: PeerLink, clock: NodeClock) async throws {
        let port2 = try #require(try await n2.transport.listeningAddress().port)
        let port1 = try #require(try await n1.transport.listeningAddress().port)
        n1.transport.setPeers(["n2": .init(host: "127.0.0.1", port: port2)])
        n2.transport.setPeers(["n1": .init(host: "127.0.0.1", port: port1)])
        n2.setLeading(since: clock.monotonic())
        try await waitUntil("n1 to hold an echo of n2") {
            _ = n1.executorTick(leader: "n2", appliedIndex: Raft.LogIndex(1), wallClock: Timestamp(1_800_000_000_000))
            return n1.leaderTakesUnstamped("n2")
        }
    }

    @Test("concurrent forwards to a leader advertising batches go in frame 20: the first alone, the rest together, each with its own outcome")
    func coalescedForwards() async throws {
        let pair = try LinkPair()
        let (n1, n2) = (try pair.link("n1"), try pair.link("n2"))
        let batches = Mutex<[[Int]]>([])
        let singles = Mutex(0)
        let count = 20
        n2.setForwardHandler({ request in
            singles.withLock { $0 += 1 }
            return Self.answer(request)
        }, batchHandler: { requests in
            let numbers = requests.map { request -> Int in
                guard case .unstamped(let command) = request, case .submitJob(let submit) = command.template else { return -1 }
                return Int(submit.jobID.rawValue.dropFirst()) ?? -1
            }
            let first = batches.withLock { batches in
                batches.append(numbers)
                return batches.count == 1
            }
            // Hold the first batch until every other forward waits behind it: the coalescing is then certain.
            if first { try? await waitUntil("the other forwards to wait") { n1.coalescedForwards(to: "n2").waiting == count - 1 } }
            return requests.map(Self.answer)
        })
        try await withRunning([n1, n2]) {
            try await Self.connect(n1, to: n2, clock: pair.clock)
            #expect(n1.leaderTakesBatches("n2"))
            let results = await withTaskGroup(of: (Int, ForwardedOutcome.Result).self) { group in
                for index in 0..<count {
                    group.addTask {
                        (index, await n1.forward(unstamped: Self.submit(index), to: "n2", timeout: .seconds(30), poll: .milliseconds(10)))
                    }
                }
                var results: [Int: ForwardedOutcome.Result] = [:]
                for await (index, result) in group { results[index] = result }
                return results
            }
            for index in 0..<count {
                #expect(results[index] == Self.answer(.unstamped(Self.submit(index))), "forward \(index)")
            }
            let sent = batches.withLock { $0 }
            #expect(sent.count == 2)
            #expect(sent.first?.count == 1)
            // The rest went together, in the order they were enqueued.
            let second = sent.last ?? []
            #expect(second.count == count - 1)
            #expect(Set(second + (sent.first ?? [])) == Set(0..<count))
            #expect(singles.withLock { $0 } == 0)
            #expect(n1.coalescedForwards(to: "n2") == (waiting: 0, inFlight: 0))
        }
    }

    @Test("a leader that does not advertise batched forwards (an older build) gets frame 8, one forward each")
    func olderLeaderGetsFrame8() async throws {
        let pair = try LinkPair()
        let (n1, n2) = (try pair.link("n1"), try pair.link("n2"))
        n2.setAdvertisedFeatures(PeerFeatures.thisBuild.subtracting(.batchedForwarding))
        let batchCalls = Mutex(0)
        let singles = Mutex(0)
        n2.setForwardHandler({ request in
            singles.withLock { $0 += 1 }
            return Self.answer(request)
        }, batchHandler: { requests in
            batchCalls.withLock { $0 += 1 }
            return requests.map(Self.answer)
        })
        try await withRunning([n1, n2]) {
            try await Self.connect(n1, to: n2, clock: pair.clock)
            #expect(!n1.leaderTakesBatches("n2"))
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<5 {
                    group.addTask {
                        let result = await n1.forward(unstamped: Self.submit(index), to: "n2", timeout: .seconds(30), poll: .milliseconds(10))
                        #expect(result == Self.answer(.unstamped(Self.submit(index))))
                    }
                }
            }
            #expect(singles.withLock { $0 } == 5)
            #expect(batchCalls.withLock { $0 } == 0)
        }
    }

    @Test("a batch the leader never answers: each forward ends at its own timeout as outcome unknown, and the ones waiting behind it as not proposed")
    func unansweredBatch() async throws {
        let pair = try LinkPair()
        let (n1, n2) = (try pair.link("n1"), try pair.link("n2"))
        let release = Mutex(false)
        n2.setForwardHandler({ Self.answer($0) }, batchHandler: { requests in
            // Answers only after the test is over: the follower must not wait for it.
            try? await waitUntil("the test to end", within: .seconds(60)) { release.withLock { $0 } }
            return requests.map(Self.answer)
        })
        try await withRunning([n1, n2]) {
            try await Self.connect(n1, to: n2, clock: pair.clock)
            let first = Task { await n1.forward(unstamped: Self.submit(1), to: "n2", timeout: .milliseconds(600), poll: .milliseconds(10)) }
            try await waitUntil("the first batch in flight") { n1.coalescedForwards(to: "n2").inFlight == 1 }
            let second = await n1.forward(unstamped: Self.submit(2), to: "n2", timeout: .milliseconds(300), poll: .milliseconds(10))
            guard case .notProposed = second else {
                Issue.record("expected the unsent forward to be not proposed, got \(second)")
                return
            }
            guard case .outcomeUnknown = await first.value else {
                Issue.record("expected the sent forward's outcome to be unknown")
                return
            }
            #expect(n1.coalescedForwards(to: "n2") == (waiting: 0, inFlight: 0))
            release.withLock { $0 = true }
        }
    }

    @Test("a forward whose caller is cancelled ends at once, long before its timeout: outcome unknown if sent, not proposed if it waited; the next forward still goes")
    func cancelledForwards() async throws {
        let pair = try LinkPair()
        let (n1, n2) = (try pair.link("n1"), try pair.link("n2"))
        let release = Mutex(false)
        let answered = Mutex(0)
        n2.setForwardHandler({ Self.answer($0) }, batchHandler: { requests in
            // The first batch is answered only after the test is over; later ones at once.
            if answered.withLock({ $0 += 1; return $0 == 1 }) {
                try? await waitUntil("the test to end", within: .seconds(60)) { release.withLock { $0 } }
            }
            return requests.map(Self.answer)
        })
        try await withRunning([n1, n2]) {
            try await Self.connect(n1, to: n2, clock: pair.clock)
            let started = pair.clock.monotonic()
            let sent = Task { await n1.forward(unstamped: Self.submit(1), to: "n2", timeout: .seconds(60), poll: .milliseconds(10)) }
            try await waitUntil("the first batch in flight") { n1.coalescedForwards(to: "n2").inFlight == 1 }
            let waiting = Task { await n1.forward(unstamped: Self.submit(2), to: "n2", timeout: .seconds(60), poll: .milliseconds(10)) }
            try await waitUntil("the second forward to wait") { n1.coalescedForwards(to: "n2").waiting == 1 }
            waiting.cancel()
            guard case .notProposed = await waiting.value else {
                Issue.record("expected the cancelled unsent forward to be not proposed")
                return
            }
            sent.cancel()
            guard case .outcomeUnknown = await sent.value else {
                Issue.record("expected the cancelled sent forward's outcome to be unknown")
                return
            }
            #expect(pair.clock.monotonic() - started < .seconds(30))
            #expect(n1.coalescedForwards(to: "n2") == (waiting: 0, inFlight: 0))
            // Nothing is left in flight, so the next forward goes at once and is answered.
            let next = await n1.forward(unstamped: Self.submit(4), to: "n2", timeout: .seconds(30), poll: .milliseconds(10))
            #expect(next == Self.answer(.unstamped(Self.submit(4))))
            release.withLock { $0 = true }
        }
    }
}
