import Synchronization

/// Proposals made on this node, handed to the log together: at most one batch is in flight; the
/// proposals that arrive meanwhile wait and go together as the next batch once the one in flight
/// has its outcomes. A proposal that finds nothing in flight goes at once, alone, on the caller's
/// own task — no timer adds latency at low load; under load the batches grow by themselves
/// (as ``ForwardCoalescer`` does for a follower's forwards).
///
/// Why: each proposal made alone is an actor hop to the driver, an append and one
/// AppendEntries per follower — each of which the follower receives, persists and answers on
/// its own. Batched, they cost one of each per batch (``LeaderAppendGate``; docs/node.md,
/// "Batched proposals").
///
/// Order is kept: a batch holds proposals in the order they arrived, and batches go in order.
/// Each proposal gets its own outcome from `proposeTogether`, which returns one per item, in
/// order (an item it left without one gets `unanswered`'s).
final class ProposalBatcher<Item: Sendable, Outcome: Sendable>: Sendable {
    private struct Waiting: Sendable {
        var item: Item
        var continuation: CheckedContinuation<Outcome, Never>
    }

    private struct Queue: Sendable {
        var waiting: [Waiting] = []
        var inFlight = false
        /// Batches handed to `proposeTogether` so far (tests, the docs' picture).
        var batches: UInt64 = 0
    }

    /// Proposals in one batch at most.
    let maxItems: Int
    /// The sum of `size` over one batch at most (a batch always takes at least one proposal).
    let maxBytes: Int
    private let size: @Sendable (Item) -> Int
    private let proposeTogether: @Sendable ([Item]) async -> [Outcome]
    private let unanswered: @Sendable (Item) -> Outcome
    private let queue = Mutex(Queue())

    /// A batcher handing at most `maxItems` proposals, of at most `maxBytes` by `size`, at once
    /// to `proposeTogether`; an item it returns no outcome for gets `unanswered(item)`.
    init(maxItems: Int, maxBytes: Int, size: @escaping @Sendable (Item) -> Int,
         proposeTogether: @escaping @Sendable ([Item]) async -> [Outcome],
         unanswered: @escaping @Sendable (Item) -> Outcome) {
        self.maxItems = max(1, maxItems)
        self.maxBytes = maxBytes
        self.size = size
        self.proposeTogether = proposeTogether
        self.unanswered = unanswered
    }

    /// Batches handed to `proposeTogether` so far.
    var batchesProposed: UInt64 { queue.withLock { $0.batches } }

    /// Proposals waiting for the batch in flight to end.
    var waitingCount: Int { queue.withLock { $0.waiting.count } }

    /// Proposes `item` — now if no batch is in flight, else with the next batch — and returns
    /// its outcome.
    func propose(_ item: Item) async -> Outcome {
        let goesNow = queue.withLock { queue in
            guard !queue.inFlight else { return false }
            queue.inFlight = true
            queue.batches += 1
            return true
        }
        if goesNow {
            let outcome = await answers(for: [item])[0]
            if let next = takeNextOrIdle() {
                Task { await self.drain(next) }
            }
            return outcome
        }
        return await withCheckedContinuation { continuation in
            // Registered and checked under one lock with `takeNextOrIdle`, so no proposal is left
            // waiting with nothing in flight: if the batch in flight ended since the check above,
            // this one starts the next.
            let start: [Waiting]? = queue.withLock { queue in
                queue.waiting.append(Waiting(item: item, continuation: continuation))
                guard !queue.inFlight else { return nil }
                queue.inFlight = true
                return take(from: &queue)
            }
            if let start { Task { await self.drain(start) } }
        }
    }

    /// One outcome per item of `items`, in order.
    private func answers(for items: [Item]) async -> [Outcome] {
        var outcomes = await proposeTogether(items)
        if outcomes.count > items.count { outcomes.removeLast(outcomes.count - items.count) }
        while outcomes.count < items.count { outcomes.append(unanswered(items[outcomes.count])) }
        return outcomes
    }

    /// Proposes `batch`, resumes its proposers, and goes on with whatever waited meanwhile.
    private func drain(_ first: [Waiting]) async {
        var batch = first
        while true {
            let outcomes = await answers(for: batch.map(\.item))
            let next = takeNextOrIdle()
            for (position, waiting) in batch.enumerated() {
                waiting.continuation.resume(returning: outcomes[position])
            }
            guard let next else { return }
            batch = next
        }
    }

    /// The next batch, marking it in flight; or, when nothing waits, nothing in flight any more.
    private func takeNextOrIdle() -> [Waiting]? {
        queue.withLock { queue in
            guard !queue.waiting.isEmpty else {
                queue.inFlight = false
                return nil
            }
            return take(from: &queue)
        }
    }

    /// The next batch from `queue`: its first proposals up to `maxItems` and `maxBytes`, and at
    /// least one.
    private func take(from queue: inout Queue) -> [Waiting] {
        var count = 0
        var bytes = 0
        while count < queue.waiting.count, count < maxItems {
            let next = size(queue.waiting[count].item)
            guard count == 0 || bytes + next <= maxBytes else { break }
            bytes += next
            count += 1
        }
        let batch = Array(queue.waiting.prefix(count))
        queue.waiting.removeFirst(count)
        queue.batches += 1
        return batch
    }
}
