import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// A door the test opens: reads that wait on it hold their place in the gate.
private actor Door {
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func wait() async {
        if open { return }
        await withCheckedContinuation { waiters.append($0) }
    }
    func openUp() {
        open = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

/// What the reads did, in order, and how many were refused (shared with escaping closures).
private final class Log: Sendable {
    let entries = Mutex<[String]>([])
    let rejections = Atomic<Int>(0)
    func append(_ entry: String) { entries.withLock { $0.append(entry) } }
}

/// An executor that runs jobs on the global pool and counts them: shows where the gate runs a read.
private final class CountingExecutor: TaskExecutor {
    let jobs = Atomic<Int>(0)
    func enqueue(_ job: consuming ExecutorJob) {
        jobs.add(1, ordering: .relaxed)
        let job = UnownedJob(job)
        DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// The read admission gate (issue #12): list reads run at most `max_concurrent_reads` at once,
/// at most `max_queued_reads` wait, and one more is 429 at once; nothing else waits for it.
@Suite("Read admission: list reads cannot starve writes")
struct ReadAdmissionTests {
    @Test("at most max_concurrent_reads run, max_queued_reads wait in order, one more is 429 with Retry-After naming both keys")
    func boundedInFlightAndQueue() async throws {
        let log = Log()
        let gate = ReadAdmission(maxInFlight: 1, maxQueued: 1, onRejected: { log.rejections.add(1, ordering: .relaxed) })
        let door = Door()
        let first = Task { try await gate.run { await door.wait(); log.append("first") } }
        try await eventually("the first read runs") { gate.counts.inFlight == 1 }
        let second = Task { try await gate.run { log.append("second") } }
        try await eventually("the second read waits") { gate.counts.queued == 1 }
        #expect(gate.counts == ReadAdmission.Counts(inFlight: 1, queued: 1, rejected: 0))
        do {
            _ = try await gate.run { Issue.record("a third read ran past max_queued_reads = 1") }
        } catch let error as APIError {
            #expect(error.code == .rateLimited && error.retryAfterSeconds == 1)
            #expect(error.message.contains("[api] max_concurrent_reads (1) and max_queued_reads (1)"), "\(error.message)")
        }
        #expect(gate.counts.rejected == 1 && log.rejections.load(ordering: .relaxed) == 1)
        await door.openUp()
        try await first.value
        try await second.value
        #expect(log.entries.withLock { $0 } == ["first", "second"])
        #expect(gate.counts == ReadAdmission.Counts(inFlight: 0, queued: 0, rejected: 1))
    }

    @Test("a read cancelled while it waits leaves the queue and gives no place away")
    func cancelledWhileQueued() async throws {
        let gate = ReadAdmission(maxInFlight: 1, maxQueued: 4)
        let door = Door()
        let first = Task { try await gate.run { await door.wait() } }
        try await eventually("the first read runs") { gate.counts.inFlight == 1 }
        let waiting = Task { try await gate.run { Issue.record("a cancelled read ran") } }
        try await eventually("the second read waits") { gate.counts.queued == 1 }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(gate.counts.queued == 0 && gate.counts.inFlight == 1)
        await door.openUp()
        try await first.value
        #expect(gate.counts.inFlight == 0)
        try await gate.run {}
    }

    @Test("an admitted read's synchronous work runs on the gate's executor; its awaits do not")
    func runsOnTheExecutor() async throws {
        let executor = CountingExecutor()
        let gate = ReadAdmission(maxInFlight: 1, maxQueued: 0, executor: executor)
        let answer = try await gate.run { () async -> Int in
            // An await inside the read (an actor, a ReadIndex round) is not sent to the executor:
            // an actor entered from there would run on the low-priority thread (priority inversion).
            await Task.yield()
            #expect(executor.jobs.load(ordering: .relaxed) == 0)
            return await ReadAdmission.offloaded { 42 }
        }
        #expect(answer == 42)
        #expect(executor.jobs.load(ordering: .relaxed) > 0)
        // Outside an admitted read, offloaded work runs where it is called.
        let before = executor.jobs.load(ordering: .relaxed)
        #expect(await ReadAdmission.offloaded { 7 } == 7)
        #expect(executor.jobs.load(ordering: .relaxed) == before)
    }

    @Test("with the gate full, list routes answer 429 while writes, single-job reads and health checks are served")
    func onlyListReadsWait() async throws {
        let gate = ReadAdmission(maxInFlight: 1, maxQueued: 1)
        let door = Door()
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware(routes: QuorumRoutes<LocalSchedulerService>.contract))
        QuorumRoutes(service: makeLocalService(), readAdmission: gate).register(on: router)
        try await Application(router: router).test(.router) { client in
            // Fill the gate: one read holding its place, one waiting.
            let held = Task { try await gate.run { await door.wait() } }
            try await eventually("the held read runs") { gate.counts.inFlight == 1 }
            let queued = Task { try await gate.run {} }
            try await eventually("the queued read waits") { gate.counts.queued == 1 }
            for path in ["/api/jobs?label=a:b", "/api/dags", "/api/dlq", "/api/notifications"] {
                let refused = try await client.send(.get, path)
                #expect(refused.status == .tooManyRequests, "\(path)")
                #expect(refused.headers[.retryAfter] == "1", "\(path)")
                #expect(refused.apiError?.code == "rate_limited", "\(path)")
                #expect(refused.apiError?.message.contains("[api] max_concurrent_reads") == true, "\(path)")
            }
            let created = try await client.send(.post, "/api/jobs", json: #"{"name":"w","task":{"kind":"noop"}}"#)
            #expect(created.status == .created)
            let id = try created.decoded(JobResource.self).id
            #expect(try await client.send(.get, "/api/jobs/\(id)").status == .ok)
            #expect(try await client.send(.get, "/api/job-status/\(id)").status == .ok)
            #expect(try await client.send(.get, "/healthz").status == .ok)
            await door.openUp()
            try await held.value
            try await queued.value
            let listed = try await client.send(.get, "/api/jobs")
            #expect(listed.status == .ok)
            #expect(gate.counts == ReadAdmission.Counts(inFlight: 0, queued: 0, rejected: 4))
        }
    }
}
