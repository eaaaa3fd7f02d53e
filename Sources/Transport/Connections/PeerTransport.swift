import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RaftCore
import Synchronization

extension Transport {
    /// Carries frames between this node and its peers over mutually authenticated TLS 1.3.
    ///
    /// - Listens on ``Configuration/listen`` and accepts connections only from peers whose
    ///   certificate chains to the cluster CA and names a current member (``setPeers(_:)``).
    /// - Keeps one outbound connection per peer, redialing with ``Backoff`` after any failure.
    /// - ``send(_:to:)`` queues without blocking into a bounded per-peer queue.
    /// - Frames from every authenticated connection arrive on ``inbound``, tagged with the id
    ///   the peer's certificate names.
    ///
    /// Lifecycle: create it, call ``setPeers(_:)`` (any time, also later for membership changes)
    /// and run ``run()`` in a task (a service-lifecycle `Service`'s `run`). Cancelling that task
    /// closes every connection and the listener; all work lives in structured child tasks of
    /// `run()`.
    public final class PeerTransport: Sendable {
        /// The settings.
        public let configuration: Configuration
        /// Frames received from authenticated peers, in order per connection. Ends when ``run()``
        /// returns. Iterate it from one task only (it is a single-consumer `AsyncStream`); when
        /// that consumer falls ``Configuration/inboundBufferCapacity`` frames behind, new frames
        /// are dropped and counted in ``Statistics/inboundDropped``, as are a peer's frames beyond
        /// ``Configuration/inboundBytesPerPeer`` waiting bytes.
        public let inbound: InboundMessages

        private struct State {
            var peers: [Raft.NodeID: Outbox] = [:]
            /// Says which removed ids are answered with a frame instead of refused (``setRemovalNotices(_:)``).
            var removalNotices: (@Sendable (Raft.NodeID) -> Frame?)?
            var rejections: [String: UInt64] = [:]
            var listeningAddress: SocketAddress?
            var listeningWaiters: [CheckedContinuation<SocketAddress, any Error>] = []
            var runStarted = false
            var runEnded = false
        }

        private let state = Mutex(State())
        private let inboundContinuation: AsyncStream<InboundMessage>.Continuation
        private let inboundBudget: InboundBudget
        private let inboundDropped = Atomic<UInt64>(0)
        private let inboundDelivered = Atomic<UInt64>(0)
        /// Accepted connections still in their TLS handshake (``Configuration/maximumPendingHandshakes``).
        let pendingHandshakes = Atomic<Int>(0)
        /// Keepalive frames received (swallowed, never delivered).
        let keepalivesReceived = Atomic<UInt64>(0)
        /// Every lost frame, counted and logged.
        let drops: FrameDropLedger
        private let additions: AsyncStream<Outbox>
        private let additionsContinuation: AsyncStream<Outbox>.Continuation
        let eventLoopGroup: any EventLoopGroup
        /// What new connections authenticate with; replaced by ``reloadCredentials(_:)``.
        private let active: Mutex<ActiveCredentials>
        let logger: Logger

        /// The most frames written to a connection in one batch.
        static let writeBatch = 256

        /// Creates a transport; nothing is bound or dialed until ``run()``.
        ///
        /// - Parameters:
        ///   - configuration: the settings, including this node's credentials.
        ///   - eventLoopGroup: NIO's event loops to run connections on.
        ///   - logger: where connections, rejections (with a `reason`) and failures are logged.
        public init(
            configuration: Configuration,
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
            logger: Logger
        ) throws {
            precondition(
                configuration.maximumFrameLength >= FrameFormat.headerBytesAfterLength
                    && configuration.maximumFrameLength <= Int(UInt32.max),
                "maximumFrameLength \(configuration.maximumFrameLength) must fit the UInt32 length prefix")
            self.configuration = configuration
            self.eventLoopGroup = eventLoopGroup
            var logger = logger
            logger[metadataKey: "node"] = "\(configuration.nodeID)"
            self.logger = logger
            self.drops = FrameDropLedger(logger: logger, onDropped: configuration.onDroppedFrames)
            self.active = Mutex(try ActiveCredentials(configuration.credentials))
            let (stream, continuation) = AsyncStream.makeStream(
                of: InboundMessage.self, bufferingPolicy: .bufferingOldest(configuration.inboundBufferCapacity))
            inboundBudget = InboundBudget(bytesPerPeer: configuration.inboundBytesPerPeer)
            inbound = InboundMessages(stream: stream, budget: inboundBudget)
            inboundContinuation = continuation
            (additions, additionsContinuation) = AsyncStream.makeStream(of: Outbox.self)
        }

        /// Sets the cluster's other members and where they listen. Connections are made to new
        /// members, dropped members' queues are discarded and their dialers stop, and only the
        /// listed ids may connect to this node. This node's own id is ignored if present.
        public func setPeers(_ peers: [Raft.NodeID: PeerAddress]) {
            let selfID = configuration.nodeID
            let (added, removed) = state.withLock { state -> ([Outbox], [Outbox]) in
                var added: [Outbox] = []
                var removed: [Outbox] = []
                for (id, outbox) in state.peers where peers[id] == nil {
                    removed.append(outbox)
                    state.peers[id] = nil
                }
                for (id, address) in peers where id != selfID {
                    if let outbox = state.peers[id] {
                        outbox.address = address
                    } else {
                        let outbox = Outbox(id: id, address: address, limits: configuration.sendQueue)
                        state.peers[id] = outbox
                        added.append(outbox)
                    }
                }
                return (added, removed)
            }
            for outbox in removed { drops.record(outbox.stop(), .peerRemoved, peer: outbox.id) }
            for outbox in added { additionsContinuation.yield(outbox) }
        }

        /// Sets who answers which dialing ids this cluster removed, and with what frame: `notice`
        /// returns the frame for an id to be told, `nil` for one to refuse as today. It is asked
        /// on the connection's event loop during the handshake, so it must be quick and not block.
        ///
        /// A dialing peer whose certificate is valid but names one of these ids (and no current
        /// peer) completes its TLS handshake instead of being refused; the transport writes it
        /// exactly its frame, closes the connection and reads nothing it sent (no frame reaches
        /// ``inbound``): a removed node learns it was removed and gets no data. It is counted as
        /// a rejection with reason `removed_member`. Any other non-member is still refused during
        /// the handshake. The caller decides who is listed: only ids whose removal is final (the
        /// node lists committed removals, after the farewell window; docs/raft.md, "Removal").
        public func setRemovalNotices(_ notice: @escaping @Sendable (Raft.NodeID) -> Frame?) {
            state.withLock { $0.removalNotices = notice }
        }

        /// The frame a dialing removed peer `id` is sent, if it is to be told and is no peer.
        func removalNotice(for id: Raft.NodeID) -> Frame? {
            let notice = state.withLock { $0.peers[id] == nil ? $0.removalNotices : nil }
            return notice?(id)
        }

        /// Queues `frame` for `peer` without waiting. Raft tolerates the loss of any message, so a
        /// full queue drops (see ``SendQueueLimits``) instead of blocking the caller.
        /// Every frame that is not queued is counted in ``Statistics/droppedFrames`` and logged.
        @discardableResult
        public func send(_ frame: Frame, to peer: Raft.NodeID) -> SendOutcome {
            guard frame.encodedLength <= configuration.maximumFrameLength else {
                drops.record(1, .frameTooLarge, peer: peer)
                return .frameTooLarge
            }
            guard let outbox = state.withLock({ $0.peers[peer] }) else {
                drops.record(1, .unknownPeer, peer: peer)
                return .unknownPeer
            }
            let outcome = outbox.push(frame)
            switch outcome {
            case .queued: break
            case .queuedDroppingOldest(let count): drops.record(count, .queueFull, peer: peer)
            case .dropped: drops.record(1, .queueFull, peer: peer)
            case .unknownPeer: drops.record(1, .unknownPeer, peer: peer)
            case .frameTooLarge: drops.record(1, .frameTooLarge, peer: peer)
            }
            return outcome
        }

        /// Replaces the credentials (CA bundle, certificate, key) without a restart.
        ///
        /// Connections dialed or accepted from now on use `credentials`: their certificate is
        /// presented, their CAs decide which peers are trusted. Connections already authenticated
        /// are **not** torn down — they keep the keys their handshake agreed on, and keepalives
        /// keep them open until the peer goes away, the transport stops, or the node restarts; an
        /// operator who must cut them (a leaked key) restarts the node.
        ///
        /// Nothing changes if `credentials` cannot be used: they must name this transport's node
        /// id (``Configuration/nodeID``) and BoringSSL must accept them (the key, certificate and
        /// CA checks themselves are done when ``TLSCredentials`` is loaded).
        public func reloadCredentials(_ credentials: TLSCredentials) throws {
            guard credentials.nodeID == configuration.nodeID else {
                throw CertificateError(
                    .identityMismatch,
                    "the new certificate names \(credentials.nodeID) but this node is \(configuration.nodeID): "
                        + "issue one with `quorum certs issue --id \(configuration.nodeID)`")
            }
            let fresh = try ActiveCredentials(credentials)
            active.withLock { $0 = fresh }
            logger.notice(
                "peer TLS credentials replaced; new connections use them",
                metadata: ["authorities": "\(credentials.authorities.count)", "certificate_serial": "\(credentials.certificate.serialNumber)"])
        }

        /// The credentials new connections use now (``Configuration/credentials`` until the
        /// first ``reloadCredentials(_:)``).
        public func currentCredentials() -> TLSCredentials {
            active.withLock { $0.credentials }
        }

        /// The contexts and policy for one new connection.
        func activeCredentials() -> ActiveCredentials {
            active.withLock { $0 }
        }

        /// Whether an authenticated outbound connection to `peer` is up right now (a frame sent
        /// while it is down waits in the queue for the next connection).
        public func isConnected(to peer: Raft.NodeID) -> Bool {
            state.withLock { $0.peers[peer] }?.statistics.connected ?? false
        }

        /// The address the listener is bound to, once ``run()`` has bound it (useful with port 0).
        /// Throws if `run()` ended or failed to bind.
        public func listeningAddress() async throws -> SocketAddress {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<SocketAddress, any Error>? in
                    if let address = state.listeningAddress { return .success(address) }
                    if state.runEnded { return .failure(TransportStopped()) }
                    state.listeningWaiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }

        /// The transport's counters now.
        public func statistics() -> Statistics {
            let (peers, rejections) = state.withLock { ($0.peers, $0.rejections) }
            return Statistics(
                peers: peers.mapValues(\.statistics),
                inboundDropped: inboundDropped.load(ordering: .relaxed),
                inboundDelivered: inboundDelivered.load(ordering: .relaxed),
                rejections: rejections,
                droppedFrames: drops.totals,
                pendingHandshakes: pendingHandshakes.load(ordering: .relaxed),
                keepalivesReceived: keepalivesReceived.load(ordering: .relaxed))
        }

        /// Listens, dials every peer, and serves until the calling task is cancelled (or the
        /// listener fails). May be called once.
        public func run() async throws {
            let firstRun = state.withLock { state in
                defer { state.runStarted = true }
                return !state.runStarted
            }
            precondition(firstRun, "PeerTransport.run() was called twice for node \(configuration.nodeID)")
            do {
                try await serve()
                finish(with: TransportStopped())
            } catch {
                finish(with: error)
                throw error
            }
        }

        private func serve() async throws {
            let listen = configuration.listen
            let server = try await ServerBootstrap(group: eventLoopGroup)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .bind(host: listen.host, port: listen.port) { channel in
                    channel.eventLoop.makeCompletedFuture { try self.configureAccepted(channel) }
                }
            guard let address = server.channel.localAddress else {
                preconditionFailure("bound server channel for \(listen) has no local address")
            }
            logger.info("listening for peers", metadata: ["address": "\(address)"])
            let waiters = state.withLock { state in
                state.listeningAddress = address
                defer { state.listeningWaiters = [] }
                return state.listeningWaiters
            }
            for waiter in waiters { waiter.resume(returning: address) }

            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    // If the listener fails, end the loop below too, so run() returns its error.
                    defer { self.additionsContinuation.finish() }
                    try await self.accept(on: server)
                }
                for await outbox in additions {
                    group.addTask { await self.dial(outbox) }
                }
                group.cancelAll()
            }
        }

        private func finish(with error: any Error) {
            let (waiters, peers) = state.withLock { state in
                state.runEnded = true
                defer { state.listeningWaiters = [] }
                return (state.listeningWaiters, Array(state.peers.values))
            }
            for waiter in waiters { waiter.resume(throwing: error) }
            for outbox in peers { outbox.recordConnected(false) }
            inboundContinuation.finish()
            additionsContinuation.finish()
        }

        /// An authenticated inbound connection from `peer`: if our own connection to it is down,
        /// dial it now instead of at the end of the backoff (``Outbox/requestRedial()``).
        func peerDialedIn(_ peer: Raft.NodeID) {
            guard let outbox = state.withLock({ $0.peers[peer] }), !outbox.statistics.connected else { return }
            outbox.requestRedial()
        }

        func recordRejection(_ rejection: PeerRejection) {
            state.withLock { $0.rejections[rejection.code, default: 0] += 1 }
        }

        func currentMembers() -> Set<Raft.NodeID> {
            state.withLock { Set($0.peers.keys) }
        }

        func deliver(_ frame: Frame, from peer: Raft.NodeID) {
            let size = frame.payload.readableBytes
            guard inboundBudget.reserve(size, from: peer) else {
                inboundDropped.add(1, ordering: .relaxed)
                drops.record(1, .inboundQueueFull, peer: peer)
                return
            }
            switch inboundContinuation.yield(InboundMessage(from: peer, type: frame.type, payload: frame.payload)) {
            case .enqueued: inboundDelivered.add(1, ordering: .relaxed)
            case .dropped:
                inboundBudget.release(size, from: peer)
                inboundDropped.add(1, ordering: .relaxed)
                drops.record(1, .inboundQueueFull, peer: peer)
            case .terminated:
                inboundBudget.release(size, from: peer)
            @unknown default:
                inboundBudget.release(size, from: peer)
            }
        }
    }

    /// Thrown by ``PeerTransport/listeningAddress()`` once the transport has stopped.
    public struct TransportStopped: Error, CustomStringConvertible {
        /// The message.
        public var description: String { "the peer transport is not running" }
    }
}
