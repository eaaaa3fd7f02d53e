import NIOCore

extension Transport {
    /// What a per-peer send queue does when it is full.
    public enum OverflowPolicy: Sendable, Hashable {
        /// Drop the oldest queued frames to make room (default: for Raft the newest message —
        /// a later heartbeat, a later term — supersedes older ones).
        case dropOldest
        /// Refuse the new frame and keep what is queued.
        case dropNewest
    }

    /// The bounds of a per-peer send queue. Both bounds apply; the queue never holds more.
    public struct SendQueueLimits: Sendable, Hashable {
        /// The most frames queued for one peer.
        public var maximumFrames: Int
        /// The most payload bytes queued for one peer.
        public var maximumBytes: Int
        /// What to drop when full.
        public var overflow: OverflowPolicy

        /// Creates limits. Defaults: 4096 frames, 64 MiB, drop oldest.
        public init(maximumFrames: Int = 4096, maximumBytes: Int = 64 * 1024 * 1024, overflow: OverflowPolicy = .dropOldest) {
            precondition(maximumFrames > 0 && maximumBytes > 0, "send queue limits must be positive: \(maximumFrames), \(maximumBytes)")
            self.maximumFrames = maximumFrames
            self.maximumBytes = maximumBytes
            self.overflow = overflow
        }
    }

    /// The result of offering a frame to a peer's send queue.
    public enum SendOutcome: Sendable, Hashable {
        /// Queued; nothing dropped.
        case queued
        /// Queued after dropping `count` older frames.
        case queuedDroppingOldest(count: Int)
        /// Dropped: the queue is full and the policy is ``OverflowPolicy/dropNewest``, or the
        /// frame alone is larger than the queue's byte bound.
        case dropped
        /// Not sent: the id is not a configured peer.
        case unknownPeer
        /// Not sent: the frame is larger than the maximum frame length.
        case frameTooLarge
    }

    /// A bounded FIFO of frames for one peer. Pure value; the shell wraps it in a lock.
    struct SendQueue {
        let limits: SendQueueLimits
        private(set) var frames = CircularBuffer<Frame>()
        private(set) var bytes = 0

        init(limits: SendQueueLimits) { self.limits = limits }

        var count: Int { frames.count }

        /// Offers `frame`, dropping per the policy to stay within the limits.
        mutating func push(_ frame: Frame) -> SendOutcome {
            let size = frame.payload.readableBytes
            guard size <= limits.maximumBytes else { return .dropped }
            var droppedOldest = 0
            while frames.count + 1 > limits.maximumFrames || bytes + size > limits.maximumBytes {
                guard limits.overflow == .dropOldest else { return .dropped }
                let oldest = frames.removeFirst()
                bytes -= oldest.payload.readableBytes
                droppedOldest += 1
            }
            frames.append(frame)
            bytes += size
            return droppedOldest == 0 ? .queued : .queuedDroppingOldest(count: droppedOldest)
        }

        /// Removes and returns up to `maximum` frames from the front.
        mutating func pop(upTo maximum: Int) -> [Frame] {
            let n = Swift.min(maximum, frames.count)
            var out: [Frame] = []
            out.reserveCapacity(n)
            for _ in 0..<n {
                let frame = frames.removeFirst()
                bytes -= frame.payload.readableBytes
                out.append(frame)
            }
            return out
        }
    }
}
