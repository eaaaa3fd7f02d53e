import NIOCore
import RaftCore
import Synchronization

extension Transport {
    /// Frames received from authenticated peers (``PeerTransport/inbound``): an `AsyncStream`
    /// that also returns each frame's bytes to its peer's inbound budget
    /// (``Configuration/inboundBytesPerPeer``) when the consumer takes it.
    public struct InboundMessages: AsyncSequence, Sendable {
        /// One frame and the peer it came from.
        public typealias Element = InboundMessage
        /// Iterating never throws.
        public typealias Failure = Never

        let stream: AsyncStream<InboundMessage>
        let budget: InboundBudget

        /// Iterates the frames in arrival order.
        public struct AsyncIterator: AsyncIteratorProtocol {
            /// Iterating never throws.
            public typealias Failure = Never
            var base: AsyncStream<InboundMessage>.AsyncIterator
            let budget: InboundBudget

            /// The next frame, or `nil` once the transport stopped.
            public mutating func next() async -> InboundMessage? {
                guard let message = await base.next() else { return nil }
                budget.release(message.payload.readableBytes, from: message.from)
                return message
            }
        }

        /// An iterator (the stream has a single consumer: iterate it from one task only).
        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: stream.makeAsyncIterator(), budget: budget)
        }
    }

    /// The payload bytes each peer has waiting for the consumer of ``PeerTransport/inbound``, so
    /// one fast or hostile peer cannot fill the node's memory (or the shared buffer) for all.
    final class InboundBudget: Sendable {
        private let limit: Int
        private let waiting = Mutex<[Raft.NodeID: Int]>([:])

        init(bytesPerPeer limit: Int) { self.limit = limit }

        /// Takes `size` bytes of `peer`'s budget; false (nothing taken) if that would exceed it.
        func reserve(_ size: Int, from peer: Raft.NodeID) -> Bool {
            waiting.withLock { waiting in
                let current = waiting[peer] ?? 0
                guard size <= limit - current else { return false }
                waiting[peer] = current + size
                return true
            }
        }

        /// Returns `size` bytes to `peer`'s budget.
        func release(_ size: Int, from peer: Raft.NodeID) {
            waiting.withLock { waiting in
                let remaining = (waiting[peer] ?? 0) - size
                waiting[peer] = remaining > 0 ? remaining : nil
            }
        }

        /// The bytes waiting now, per peer.
        var bytesWaiting: [Raft.NodeID: Int] { waiting.withLock { $0 } }
    }
}
