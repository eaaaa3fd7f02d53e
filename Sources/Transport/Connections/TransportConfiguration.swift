import Foundation
import NIOCore
import RaftCore

extension Transport {
    /// Where a peer listens for Raft connections (the `raft` address of its `[[nodes]]` entry).
    public struct PeerAddress: Sendable, Hashable, CustomStringConvertible {
        /// Host name or IP literal.
        public var host: String
        /// TCP port.
        public var port: Int

        /// Creates an address.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port`.
        public var description: String { "\(host):\(port)" }
    }

    /// Settings of a ``PeerTransport``.
    public struct Configuration: Sendable {
        /// This node's credentials at start; their node id is this node's id.
        /// ``PeerTransport/reloadCredentials(_:)`` replaces them later (``PeerTransport/currentCredentials()``).
        public var credentials: TLSCredentials
        /// The address to listen on (`port` 0 picks a free port; see ``PeerTransport/listeningAddress()``).
        public var listen: PeerAddress
        /// The largest accepted frame length (the length prefix). Default 16 MiB.
        public var maximumFrameLength: Int
        /// Bounds of each peer's send queue.
        public var sendQueue: SendQueueLimits
        /// Inbound frames buffered for the consumer of ``PeerTransport/inbound`` before new ones
        /// are dropped (and counted).
        public var inboundBufferCapacity: Int
        /// Payload bytes one peer may have waiting for the consumer of ``PeerTransport/inbound``;
        /// its frames beyond that are dropped (and counted as `inbound_queue_full`), so one peer
        /// cannot take the memory or the buffer the others need. Default 64 MiB.
        public var inboundBytesPerPeer: Int
        /// Reconnection delays.
        public var backoff: Backoff
        /// How long a TCP connect may take.
        public var connectTimeout: TimeAmount
        /// How long a TLS handshake may take before the connection is closed.
        public var handshakeTimeout: TimeAmount
        /// The most accepted connections that may be in their TLS handshake at once; a connection
        /// beyond it is closed at once and counted as a `too_many_handshakes` rejection, so a flood
        /// of connections that never authenticate cannot exhaust memory or file descriptors.
        /// Default 64 (a cluster has a handful of peers, each with one connection).
        public var maximumPendingHandshakes: Int
        /// An authenticated connection on which nothing arrives for this long is closed (the peer
        /// redials). Each side sends a keepalive frame after a third of it without writing, so
        /// only a dead or silent peer is cut off. Default 30 s.
        public var idleTimeout: TimeAmount
        /// Deliver a ``FrameFormat/connectionClosedType`` notice on ``PeerTransport/inbound`` after
        /// the last frame of every authenticated inbound connection that ends, so the consumer
        /// learns at once (in order with that connection's frames) that a peer's process died or
        /// its connection broke. Default `false` (the consumer sees only real frames).
        public var announcesClosedConnections = false
        /// Called with every frame the transport loses and why, for
        /// `quorum_transport_dropped_frames_total`. Must not block.
        public var onDroppedFrames: (@Sendable (FrameDropReason, Int) -> Void)?
        /// The clock certificates are checked against. Defaults to the system clock.
        public var now: @Sendable () -> Date

        /// Settings with defaults for everything but the credentials and the listen address.
        public init(
            credentials: TLSCredentials,
            listen: PeerAddress,
            maximumFrameLength: Int = FrameFormat.defaultMaximumFrameLength,
            sendQueue: SendQueueLimits = SendQueueLimits(),
            inboundBufferCapacity: Int = 16_384,
            inboundBytesPerPeer: Int = 64 * 1024 * 1024,
            backoff: Backoff = Backoff(),
            connectTimeout: TimeAmount = .seconds(5),
            handshakeTimeout: TimeAmount = .seconds(10),
            maximumPendingHandshakes: Int = 64,
            idleTimeout: TimeAmount = .seconds(30),
            onDroppedFrames: (@Sendable (FrameDropReason, Int) -> Void)? = nil,
            now: @escaping @Sendable () -> Date = { Date() }
        ) {
            self.credentials = credentials
            self.listen = listen
            self.maximumFrameLength = maximumFrameLength
            self.sendQueue = sendQueue
            self.inboundBufferCapacity = inboundBufferCapacity
            self.inboundBytesPerPeer = inboundBytesPerPeer
            self.backoff = backoff
            self.connectTimeout = connectTimeout
            self.handshakeTimeout = handshakeTimeout
            self.maximumPendingHandshakes = maximumPendingHandshakes
            self.idleTimeout = idleTimeout
            self.onDroppedFrames = onDroppedFrames
            self.now = now
        }

        /// This node's id (from its certificate).
        public var nodeID: Raft.NodeID { credentials.nodeID }
    }

    /// A frame received from an authenticated peer.
    public struct InboundMessage: Sendable, Hashable {
        /// The member the connection authenticated as (from its certificate, never from the frame).
        public var from: Raft.NodeID
        /// The frame's message type.
        public var type: UInt8
        /// The frame's payload.
        public var payload: ByteBuffer
    }

    /// Counters of one peer's outbound side.
    public struct PeerStatistics: Sendable, Hashable {
        /// Frames accepted into the send queue.
        public var queued: UInt64 = 0
        /// Frames written to the peer's connection (written, not acknowledged: a peer that then
        /// refuses the connection, or a connection that breaks, loses them, as Raft allows).
        public var sent: UInt64 = 0
        /// Frames dropped because the send queue was full (either policy).
        public var dropped: UInt64 = 0
        /// Frames currently waiting in the queue.
        public var pending: Int = 0
        /// Successful (authenticated) connections made to the peer.
        public var connections: UInt64 = 0
        /// Failed connection attempts (refused, timed out, rejected).
        public var connectionFailures: UInt64 = 0
        /// Whether a connection to the peer is up now.
        public var connected = false
    }

    /// Counters of the whole transport.
    public struct Statistics: Sendable, Hashable {
        /// Per configured peer.
        public var peers: [Raft.NodeID: PeerStatistics]
        /// Inbound frames dropped because the consumer of ``PeerTransport/inbound`` fell behind.
        public var inboundDropped: UInt64
        /// Inbound frames delivered.
        public var inboundDelivered: UInt64
        /// Rejected connections (both directions) by ``PeerRejection/code``.
        public var rejections: [String: UInt64]
        /// Frames lost (both directions, all peers) by reason; every loss is also logged.
        public var droppedFrames: [FrameDropReason: UInt64] = [:]
        /// Accepted connections in their TLS handshake now.
        public var pendingHandshakes: Int = 0
        /// Keepalive frames received on all connections (``Configuration/idleTimeout``).
        public var keepalivesReceived: UInt64 = 0
    }
}
