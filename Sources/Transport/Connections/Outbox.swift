import NIOCore
import RaftCore
import Synchronization

extension Transport {
    /// One peer's bounded send queue, its counters and its dialer's wake-up signal.
    ///
    /// `send` never blocks and never allocates beyond the queue's bounds: when the peer is down
    /// the queue fills and then drops per ``OverflowPolicy``, counting every drop.
    final class Outbox: Sendable {
        private struct State {
            var queue: SendQueue
            var statistics = PeerStatistics()
            var address: PeerAddress
            var stopped = false
        }

        let id: Raft.NodeID
        private let state: Mutex<State>
        /// Yields when frames were queued or the connection changed; holds at most one pending signal.
        let wakeups: AsyncStream<Void>
        private let wakeupContinuation: AsyncStream<Void>.Continuation
        /// Set when the peer dialed us while our own connection to it was down (``requestRedial()``).
        private let redialRequested = Atomic<Bool>(false)

        init(id: Raft.NodeID, address: PeerAddress, limits: SendQueueLimits) {
            self.id = id
            self.state = Mutex(State(queue: SendQueue(limits: limits), address: address))
            (wakeups, wakeupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        }

        /// Where to dial the peer now.
        var address: PeerAddress {
            get { state.withLock { $0.address } }
            set { state.withLock { $0.address = newValue } }
        }

        /// Whether the peer was removed; its dialer exits.
        var isStopped: Bool { state.withLock { $0.stopped } }

        /// The counters.
        var statistics: PeerStatistics { state.withLock { $0.statistics } }

        /// Queues `frame` per the limits.
        func push(_ frame: Frame) -> SendOutcome {
            let outcome = state.withLock { state -> SendOutcome in
                guard !state.stopped else { return .unknownPeer }
                let outcome = state.queue.push(frame)
                switch outcome {
                case .queued:
                    state.statistics.queued += 1
                case .queuedDroppingOldest(let count):
                    state.statistics.queued += 1
                    state.statistics.dropped += UInt64(count)
                case .dropped:
                    state.statistics.dropped += 1
                case .unknownPeer, .frameTooLarge:
                    break
                }
                state.statistics.pending = state.queue.count
                return outcome
            }
            if outcome != .dropped { wake() }
            return outcome
        }

        /// Takes up to `maximum` frames from the front of the queue.
        func pop(upTo maximum: Int) -> [Frame] {
            state.withLock { state in
                let frames = state.queue.pop(upTo: maximum)
                state.statistics.pending = state.queue.count
                return frames
            }
        }

        /// Wakes the dialer.
        func wake() { wakeupContinuation.yield() }

        /// Asks the dialer to stop waiting out its backoff and dial now: the peer just proved it
        /// is up by dialing us. While the peer was down the backoff grew (up to its maximum, 5 s
        /// by default); without this a restarted node would wait that long for our connection —
        /// and with it our answers to its vote requests and every write we forward to it.
        func requestRedial() { redialRequested.store(true, ordering: .sequentiallyConsistent) }

        /// Whether a redial was requested since the last call (and clears the request).
        func takeRedialRequest() -> Bool { redialRequested.exchange(false, ordering: .sequentiallyConsistent) }

        /// Counts frames written to the connection.
        func recordSent(_ count: Int) { state.withLock { $0.statistics.sent += UInt64(count) } }

        /// Records a connection coming up or going down.
        func recordConnected(_ connected: Bool) {
            state.withLock { state in
                if connected && !state.statistics.connected { state.statistics.connections += 1 }
                state.statistics.connected = connected
            }
        }

        /// Counts a failed connection attempt.
        func recordConnectionFailure() { state.withLock { $0.statistics.connectionFailures += 1 } }

        /// Marks the peer removed, discards its queue and ends its dialer. Returns how many
        /// queued frames were discarded.
        func stop() -> Int {
            let discarded = state.withLock { state in
                let discarded = state.queue.count
                state.stopped = true
                state.statistics.dropped += UInt64(discarded)
                _ = state.queue.pop(upTo: discarded)
                state.statistics.pending = 0
                return discarded
            }
            wakeupContinuation.finish()
            return discarded
        }
    }
}
