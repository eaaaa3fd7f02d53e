import RaftCore

/// Who waits for one pending proposal's outcome: the caller of ``RaftDriver/propose(_:)``, or one
/// slot of a ``RaftDriver/propose(batch:)``, whose caller is resumed once every slot has its outcome
/// (each entry of a batch commits, is overwritten or is lost on its own). Lives on the driver's
/// actor only.
struct ProposalWaiter {
    private enum Waiter {
        case single(CheckedContinuation<Result<Raft.LogIndex, RaftDriverError>, Never>)
        case slot(BatchOutcomes, Int)
    }

    private let waiter: Waiter

    init(_ continuation: CheckedContinuation<Result<Raft.LogIndex, RaftDriverError>, Never>) {
        waiter = .single(continuation)
    }

    init(slot: Int, of batch: BatchOutcomes) {
        waiter = .slot(batch, slot)
    }

    /// Hands over the outcome (once per waiter).
    func resume(returning result: Result<Raft.LogIndex, RaftDriverError>) {
        switch waiter {
        case .single(let continuation): continuation.resume(returning: result)
        case .slot(let batch, let slot): batch.record(result, at: slot)
        }
    }
}

/// The outcomes of a batch's entries as they become known; resumes the batch's caller with all
/// of them, in the batch's order, when the last is recorded.
final class BatchOutcomes {
    private var results: [Result<Raft.LogIndex, RaftDriverError>?]
    private var remaining: Int
    private let continuation: CheckedContinuation<[Result<Raft.LogIndex, RaftDriverError>], Never>

    init(count: Int, continuation: CheckedContinuation<[Result<Raft.LogIndex, RaftDriverError>], Never>) {
        results = Array(repeating: nil, count: count)
        remaining = count
        self.continuation = continuation
    }

    func record(_ result: Result<Raft.LogIndex, RaftDriverError>, at slot: Int) {
        guard results.indices.contains(slot), results[slot] == nil else { return }
        results[slot] = result
        remaining -= 1
        guard remaining == 0 else { return }
        continuation.resume(returning: results.compactMap { $0 })  // every slot is set by now
    }
}
