import Logging
import RaftCore
import Synchronization

extension Transport {
    /// Why the transport lost a frame. The raw value is the `reason` label of
    /// `quorum_transport_dropped_frames_total` (docs/metrics.md).
    public enum FrameDropReason: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// ``PeerTransport/send(_:to:)`` of a frame longer than ``Configuration/maximumFrameLength``.
        case frameTooLarge = "frame_too_large"
        /// ``PeerTransport/send(_:to:)`` to an id that is not a configured peer.
        case unknownPeer = "unknown_peer"
        /// The peer's send queue was full (``SendQueueLimits``): the oldest or the new frame went.
        case queueFull = "queue_full"
        /// Frames still queued for a peer that ``PeerTransport/setPeers(_:)`` removed.
        case peerRemoved = "peer_removed"
        /// Frames taken from the queue whose write failed because the connection broke.
        case connectionLost = "connection_lost"
        /// Inbound frames dropped because the consumer of ``PeerTransport/inbound`` fell behind.
        case inboundQueueFull = "inbound_queue_full"
        /// Inbound frames the node dropped above the transport because their sender presented
        /// another cluster's id (the node's peer link; docs/security.md, "Cluster identity").
        case foreignCluster = "foreign_cluster"

        public var description: String { rawValue }
    }

    /// Counts and logs every lost frame, so none is lost in silence. The first loss of each
    /// reason for each peer is a warning, then every 1000th (a peer that is down loses frames at
    /// the send rate; the counter has them all).
    final class FrameDropLedger: Sendable {
        private struct Key: Hashable {
            var peer: Raft.NodeID
            var reason: FrameDropReason
        }

        private let counts = Mutex<[Key: UInt64]>([:])
        private let logger: Logger
        private let onDropped: (@Sendable (FrameDropReason, Int) -> Void)?

        init(logger: Logger, onDropped: (@Sendable (FrameDropReason, Int) -> Void)?) {
            self.logger = logger
            self.onDropped = onDropped
        }

        /// Records `count` frames to or from `peer` lost for `reason`.
        func record(_ count: Int, _ reason: FrameDropReason, peer: Raft.NodeID) {
            guard count > 0 else { return }
            let (before, after) = counts.withLock { counts -> (UInt64, UInt64) in
                let key = Key(peer: peer, reason: reason)
                let before = counts[key] ?? 0
                counts[key] = before + UInt64(count)
                return (before, before + UInt64(count))
            }
            if before == 0 || before / 1000 != after / 1000 {
                logger.warning("dropped peer frames", metadata: [
                    "peer": "\(peer)", "reason": "\(reason)", "frames": "\(count)", "total": "\(after)",
                ])
            }
            onDropped?(reason, count)
        }

        /// Frames lost so far, by reason (all peers).
        var totals: [FrameDropReason: UInt64] {
            counts.withLock { counts in
                var totals: [FrameDropReason: UInt64] = [:]
                for (key, count) in counts { totals[key.reason, default: 0] += count }
                return totals
            }
        }
    }
}
