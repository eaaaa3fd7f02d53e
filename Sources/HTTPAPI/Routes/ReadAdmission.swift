import Synchronization

/// The read admission gate (issue #12): how many list reads — the requests that walk a table,
/// `GET /api/jobs`, `/api/dags`, `/api/dlq`, `/api/notifications` — a node serves at once, how
/// many wait, and where they run.
///
/// Reads must not starve writes. A list page costs CPU (a ReadIndex round, the walk, rendering
/// and encoding up to 1,000 items) on the same cores the node applies, replicates and answers
/// writes with, and a few clients looping over pages can take all of it. At most
/// ``maxInFlight`` run at once (`[api] max_concurrent_reads`); up to ``maxQueued`` more wait
/// in arrival order (`[api] max_queued_reads`); beyond that the request is refused at once with
/// 429 `rate_limited` and `Retry-After: 1`, naming both keys, so a client backs off instead of
/// piling up. An admitted read runs on ``executor`` (the node's low-priority reader thread),
/// its walk, rendering and JSON encoding included, so the OS gives the CPU to writes first.
///
/// With a ``Budget`` (`[api] max_read_cpu_percent`), an admitted read also waits, holding its
/// place, while the list reads' CPU is over budget (``ReadCPUBudget``): the count bounds reads
/// at once, the budget bounds what they cost per second.
///
/// Writes, event streams, health checks and single-resource GETs never pass the gate: what it
/// bounds is the reads that can be expensive, and nothing it holds is needed by anything else.
public final class ReadAdmission: Sendable {
    /// The CPU budget of list reads and where its inputs come from.
    public struct Budget: Sendable {
        /// The token bucket (its share of a core, burst, per-read charge and longest wait).
        public var bucket: ReadCPUBudget
        /// The list reads' CPU so far: the node passes its reader thread's CPU clock.
        public var spent: @Sendable () -> Duration
        /// A monotonic clock: the node passes its own (tests a fake one).
        public var now: @Sendable () -> Duration
        /// Waits that long on the same clock; throws when the read is cancelled.
        public var sleep: @Sendable (Duration) async throws -> Void

        /// The budget `bucket`, charged from `spent`, timed by `now` and `sleep`.
        public init(bucket: ReadCPUBudget, spent: @escaping @Sendable () -> Duration, now: @escaping @Sendable () -> Duration,
                    sleep: @escaping @Sendable (Duration) async throws -> Void) {
            self.bucket = bucket
            self.spent = spent
            self.now = now
            self.sleep = sleep
        }
    }

    /// List reads served at once (`[api] max_concurrent_reads`).
    public let maxInFlight: Int
    /// List reads waiting for a place (`[api] max_queued_reads`); more are refused with 429.
    public let maxQueued: Int
    /// Where admitted reads run; `nil`, on the caller's executor.
    public let executor: (any TaskExecutor)?
    /// Called once for each refused read (the node counts `quorum_api_reads_rejected_total`).
    private let onRejected: @Sendable () -> Void
    /// The CPU budget's inputs; `nil`, no budget.
    private let budgetInputs: Budget?
    /// Called with how long a read waited for the budget (the node counts
    /// `quorum_api_reads_budget_wait_seconds_total`).
    private let onBudgetWait: @Sendable (Duration) -> Void

    /// How a read's turn came out.
    private enum Turn {
        case admitted
        case cancelled
        case refused(inFlight: Int, queued: Int)
    }

    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var inFlight = 0
        var queue: [Waiter] = []
        var nextID: UInt64 = 0
        var rejected = 0
        var budget: ReadCPUBudget?
    }

    private let state: Mutex<State>

    /// A gate admitting `maxInFlight` reads at once with `maxQueued` waiting (each at least 0,
    /// `maxInFlight` at least 1), running them on `executor`, within `budget` if one is given.
    public init(maxInFlight: Int = 1, maxQueued: Int = 64, executor: (any TaskExecutor)? = nil, budget: Budget? = nil,
                onRejected: @escaping @Sendable () -> Void = {}, onBudgetWait: @escaping @Sendable (Duration) -> Void = { _ in }) {
        self.maxInFlight = max(1, maxInFlight)
        self.maxQueued = max(0, maxQueued)
        self.executor = executor
        self.onRejected = onRejected
        self.budgetInputs = budget
        self.onBudgetWait = onBudgetWait
        state = Mutex(State(budget: budget?.bucket))
    }

    /// What the gate holds now, for metrics and tests.
    public struct Counts: Hashable, Sendable {
        /// Reads running.
        public var inFlight: Int
        /// Reads waiting for a place.
        public var queued: Int
        /// Reads refused since start.
        public var rejected: Int

        /// Counts (tests compare whole values).
        public init(inFlight: Int, queued: Int, rejected: Int) {
            self.inFlight = inFlight
            self.queued = queued
            self.rejected = rejected
        }
    }

    /// What the gate holds now.
    public var counts: Counts {
        state.withLock { Counts(inFlight: $0.inFlight, queued: $0.queue.count, rejected: $0.rejected) }
    }

    /// Runs `read` once admitted and within the CPU budget, on ``executor``; throws 429
    /// `rate_limited` at once when ``maxInFlight`` reads run and ``maxQueued`` wait. A read
    /// cancelled while it waits leaves the queue and throws `CancellationError`.
    public func run<T>(_ read: () async throws -> T) async throws -> T {
        try await admit()
        defer { release() }
        try await awaitBudget()
        return try await Self.$offloadExecutor.withValue(executor) { try await read() }
    }

    /// Waits, holding the place, until the list reads' CPU is back within the budget. Bounded:
    /// each pass sleeps as long as the overdraft needs (at most the bucket's `maxWait`), and
    /// the reads that overdrew it are over unless several run at once.
    private func awaitBudget() async throws {
        guard let inputs = budgetInputs else { return }
        let start = inputs.now()
        defer {
            let waited = inputs.now() - start
            if waited > .zero { onBudgetWait(waited) }
        }
        while true {
            // Read outside the lock: the CPU clock is a system call.
            let now = inputs.now()
            let spent = inputs.spent()
            guard let wait = state.withLock({ state in state.budget?.wait(now: now, spent: spent) }) else { return }
            try await inputs.sleep(wait)
        }
    }

    /// The gate's executor while an admitted read runs (nil outside one, or for a gate without
    /// an executor). Only *synchronous* work goes there, through ``offloaded(_:)``: the walk and
    /// rendering (the node's replica reads a view on it) and the page's encoding. The read's
    /// awaits — the ReadIndex round, the state machine's view — stay on the cooperative pool,
    /// because a default actor entered from a task with an executor preference runs on that
    /// executor: the Raft driver or the applier would then hold their actor on the low-priority
    /// reader thread, and a write waiting for either would wait for that thread to be scheduled
    /// again (a priority inversion: write p99 10–25× with 4 readers on a busy machine).
    @TaskLocal public static var offloadExecutor: (any TaskExecutor)?

    /// Runs synchronous `work` on ``offloadExecutor`` when inside an admitted read, else here.
    public static func offloaded<T: Sendable, E: Error>(_ work: () throws(E) -> T) async throws(E) -> T {
        guard let executor = offloadExecutor else { return try work() }
        return try await withTaskExecutorPreference(executor) { () async throws(E) -> T in try work() }
    }

    /// Takes a place, waiting in line for one when all are taken. Deciding and queueing happen
    /// under one lock, so a place freed meanwhile is never missed and the queue never passes
    /// ``maxQueued``.
    private func admit() async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        let turn = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
                let decided: Turn? = self.state.withLock { state in
                    if state.inFlight < self.maxInFlight {
                        state.inFlight += 1
                        return .admitted
                    }
                    // Cancelled before it could queue: onCancel found nothing to remove.
                    guard !Task.isCancelled else { return .cancelled }
                    guard state.queue.count < self.maxQueued else {
                        state.rejected += 1
                        return .refused(inFlight: state.inFlight, queued: state.queue.count)
                    }
                    state.queue.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let decided { continuation.resume(returning: decided) }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> Waiter? in
                guard let position = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
                return state.queue.remove(at: position)
            }
            waiter?.continuation.resume(returning: .cancelled)
        }
        switch turn {
        case .admitted:
            return
        case .cancelled:
            throw CancellationError()
        case .refused(let inFlight, let queued):
            onRejected()
            throw Self.refusal(inFlight: inFlight, queued: queued, maxInFlight: maxInFlight, maxQueued: maxQueued)
        }
    }

    /// Hands the place to the oldest waiter, or frees it.
    private func release() {
        let next = state.withLock { state -> Waiter? in
            guard !state.queue.isEmpty else {
                state.inFlight -= 1
                return nil
            }
            return state.queue.removeFirst()
        }
        next?.continuation.resume(returning: .admitted)
    }

    /// 429 naming the keys, with what to do.
    static func refusal(inFlight: Int, queued: Int, maxInFlight: Int, maxQueued: Int) -> APIError {
        APIError(.rateLimited,
                 "this node is serving \(inFlight) list reads with \(queued) more waiting, the most [api] max_concurrent_reads "
                     + "(\(maxInFlight)) and max_queued_reads (\(maxQueued)) allow (list reads also wait for their CPU budget, "
                     + "max_read_cpu_percent); retry after Retry-After, read from another node, or ask for fewer pages",
                 retryAfterSeconds: 1)
    }
}
