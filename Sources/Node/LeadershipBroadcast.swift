import RaftCore
import Synchronization

/// Leadership changes for any number of consumers: each ``subscribe()`` gets its own stream,
/// starting with the latest state, so no consumer polls the driver's status to learn who leads
/// and none steals another's events (a plain `AsyncStream` has a single consumer).
public final class LeadershipBroadcast: Sendable {
    private struct State {
        var latest: Raft.LeaderState?
        var subscribers: [UInt64: AsyncStream<Raft.LeaderState>.Continuation] = [:]
        var next: UInt64 = 0
        var finished = false
    }

    private let state = Mutex(State())

    /// An empty broadcast.
    public init() {}

    /// A stream of every change from now on, starting with the latest one (if any). It
    /// finishes when the driver stops; keep at most the 64 newest changes for a slow consumer.
    public func subscribe() -> AsyncStream<Raft.LeaderState> {
        let (stream, continuation) = AsyncStream.makeStream(of: Raft.LeaderState.self, bufferingPolicy: .bufferingNewest(64))
        let id = state.withLock { state -> UInt64? in
            guard !state.finished else { return nil }
            if let latest = state.latest { continuation.yield(latest) }
            state.next += 1
            state.subscribers[state.next] = continuation
            return state.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// The latest change published (`nil` before the driver runs): who leads as the driver last
    /// said, read under a lock — no hop onto the driver's actor, as its `status` takes.
    public var latest: Raft.LeaderState? {
        state.withLock { $0.latest }
    }

    /// Publishes a change to every subscriber.
    func publish(_ change: Raft.LeaderState) {
        let subscribers = state.withLock { state -> [AsyncStream<Raft.LeaderState>.Continuation] in
            state.latest = change
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(change) }
    }

    /// Ends every stream (the driver stopped).
    func finish() {
        let subscribers = state.withLock { state -> [AsyncStream<Raft.LeaderState>.Continuation] in
            state.finished = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}
