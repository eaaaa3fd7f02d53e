import Synchronization
import Testing
@testable import NodeRuntime

@Suite("ProposalBatcher: proposals made on a node, handed to the log together", .timeLimit(.minutes(1)))
struct ProposalBatcherTests {
    /// What a batcher under test handed to `proposeTogether`, and a gate holding each batch until
    /// the test opens it.
    final class Log: Sendable {
        private let state = Mutex<(batches: [[Int]], gates: [CheckedContinuation<Void, Never>], open: Bool)>(([], [], false))

        var batches: [[Int]] { state.withLock { $0.batches } }
        var held: Int { state.withLock { $0.gates.count } }

        /// Records `items`, and waits until the gate is opened (at once if it is).
        func record(_ items: [Int]) async {
            await withCheckedContinuation { continuation in
                let goes = state.withLock { state in
                    state.batches.append(items)
                    if !state.open { state.gates.append(continuation) }
                    return state.open
                }
                if goes { continuation.resume() }
            }
        }

        /// Lets every held batch and every later one through.
        func open() {
            let gates = state.withLock { state in
                state.open = true
                defer { state.gates = [] }
                return state.gates
            }
            for gate in gates { gate.resume() }
        }
    }

    /// A batcher whose outcome for item `n` is `n * 10`; with `answering` fewer outcomes than items
    /// when set.
    static func batcher(_ log: Log, maxItems: Int = 256, maxBytes: Int = 1 << 20,
                        answering: Int? = nil) -> ProposalBatcher<Int, Int> {
        ProposalBatcher(maxItems: maxItems, maxBytes: maxBytes, size: { $0 }, proposeTogether: { items in
            await log.record(items)
            return Array(items.map { $0 * 10 }.prefix(answering ?? items.count))
        }, unanswered: { -$0 })
    }

    /// Waits until `condition` holds, for at most 10 s.
    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw Failure("timed out waiting until \(what)") }
            await Task.yield()
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test("a proposal that finds nothing in flight goes at once, alone")
    func alone() async {
        let log = Log()
        log.open()
        let batcher = Self.batcher(log)
        #expect(await batcher.propose(7) == 70)
        #expect(await batcher.propose(8) == 80)
        #expect(log.batches == [[7], [8]])
        #expect(batcher.batchesProposed == 2)
    }

    @Test("proposals arriving while a batch is in flight go together, in order, once it has its outcomes; each gets its own")
    func together() async throws {
        let log = Log()
        let batcher = Self.batcher(log)
        let first = Task { await batcher.propose(1) }
        try await Self.waitUntil("the first batch is in flight") { log.held == 1 }
        var later: [Task<Int, Never>] = []
        for item in 2...6 {
            later.append(Task { await batcher.propose(item) })
            // One at a time, so the order they arrive in is known.
            try await Self.waitUntil("proposal \(item) waits") { batcher.waitingCount == item - 1 }
        }
        #expect(log.batches == [[1]])
        log.open()
        #expect(await first.value == 10)
        for (offset, task) in later.enumerated() {
            #expect(await task.value == (offset + 2) * 10)
        }
        #expect(log.batches == [[1], [2, 3, 4, 5, 6]])
        #expect(batcher.waitingCount == 0)
        // Nothing in flight any more: the next goes alone.
        #expect(await batcher.propose(9) == 90)
        #expect(log.batches.last == [9])
    }

    @Test("a batch takes at most maxItems proposals and maxBytes of them, but always at least one")
    func limits() async throws {
        let log = Log()
        let batcher = Self.batcher(log, maxItems: 3, maxBytes: 10)
        let first = Task { await batcher.propose(1) }
        try await Self.waitUntil("the first batch is in flight") { log.held == 1 }
        let sizes = [2, 2, 2, 2, 50, 3, 3]
        var later: [Task<Int, Never>] = []
        for (position, size) in sizes.enumerated() {
            later.append(Task { await batcher.propose(size) })
            try await Self.waitUntil("proposal \(position) waits") { batcher.waitingCount == position + 1 }
        }
        log.open()
        _ = await first.value
        for (position, task) in later.enumerated() {
            #expect(await task.value == sizes[position] * 10)
        }
        // 3 items at most; then 2 + 50 is over 10 bytes; 50 goes alone; 3 + 3 fit.
        #expect(log.batches == [[1], [2, 2, 2], [2], [50], [3, 3]])
    }

    @Test("an item left without an outcome gets the unanswered one, never a trap")
    func unanswered() async throws {
        let log = Log()
        let batcher = Self.batcher(log, answering: 1)
        let first = Task { await batcher.propose(1) }
        try await Self.waitUntil("the first batch is in flight") { log.held == 1 }
        let second = Task { await batcher.propose(2) }
        try await Self.waitUntil("proposal 2 waits") { batcher.waitingCount == 1 }
        let third = Task { await batcher.propose(3) }
        try await Self.waitUntil("proposal 3 waits") { batcher.waitingCount == 2 }
        log.open()
        #expect(await first.value == 10)
        #expect(await second.value == 20)
        #expect(await third.value == -3)
    }

    @Test("many concurrent proposers: every one answered with its own outcome, each proposed once, no batch over maxItems",
          arguments: [400])
    func concurrent(proposers: Int) async {
        let log = Log()
        log.open()
        let batcher = Self.batcher(log, maxItems: 16)
        let outcomes = await withTaskGroup(of: (Int, Int).self) { group in
            for item in 1...proposers { group.addTask { (item, await batcher.propose(item)) } }
            var outcomes: [Int: Int] = [:]
            for await (item, outcome) in group { outcomes[item] = outcome }
            return outcomes
        }
        #expect(outcomes.count == proposers)
        #expect(outcomes.allSatisfy { $0.value == $0.key * 10 })
        let proposed = log.batches.flatMap { $0 }
        #expect(proposed.sorted() == Array(1...proposers))
        #expect(log.batches.allSatisfy { $0.count <= 16 })
        #expect(batcher.waitingCount == 0)
    }
}
