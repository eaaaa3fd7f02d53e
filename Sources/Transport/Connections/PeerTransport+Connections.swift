import AcceptedChannels
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RaftCore
import Synchronization

extension Transport {
    /// A connection wrapped for async use, with the future of its peer's authenticated id.
    struct PeerConnection: Sendable {
        let channel: NIOAsyncChannel<Transport.Frame, Transport.Frame>
        let peer: EventLoopFuture<Raft.NodeID>
    }

    /// An accepted connection on its way to ``PeerTransport`` 's serving loop: boxed, so NIO's
    /// server may drop it unserved when the listener stops without trapping (see
    /// `AcceptedChannel`).
    struct AcceptedPeerConnection: Sendable {
        let accepted: AcceptedChannel<Transport.Frame, Transport.Frame>
        let peer: EventLoopFuture<Raft.NodeID>
    }
}

extension Transport.PeerTransport {
    // MARK: Pipelines

    /// TLS record sniffer → TLS server → authentication gate → frame decoder / encoder.
    func configureAccepted(_ channel: any Channel) throws -> Transport.AcceptedPeerConnection {
        var logger = self.logger
        logger[metadataKey: "direction"] = "inbound"
        logger[metadataKey: "remote"] = "\(channel.remoteAddress.map { "\($0)" } ?? "?")"
        // Count the connection until its handshake ends either way; one over the limit is
        // closed at once by the authentication handler.
        let limit = configuration.maximumPendingHandshakes
        let pending = pendingHandshakes.add(1, ordering: .relaxed).newValue
        let current = activeCredentials()
        let authentication = makeAuthenticationHandler(
            channel: channel, policy: current.policy, role: .dialer, logger: logger,
            refusal: pending > limit ? .tooManyPendingHandshakes(limit: limit) : nil)
        authentication.authenticated.futureResult.whenComplete { [weak self] _ in
            self?.pendingHandshakes.subtract(1, ordering: .relaxed)
        }
        let tls = NIOSSLServerHandler(context: current.serverContext) { certificates, promise in
            authentication.verify(certificates, promise: promise)
        }
        try channel.pipeline.syncOperations.addHandlers([Transport.TLSRecordSniffer(), tls, authentication])
        let connection = try wrap(channel, authentication: authentication, logger: logger)
        return Transport.AcceptedPeerConnection(accepted: AcceptedChannel(connection.channel), peer: connection.peer)
    }

    /// TLS client → authentication gate (expecting `peer`) → frame decoder / encoder.
    func configureDialed(_ channel: any Channel, expecting peer: Raft.NodeID, logger: Logger) throws -> Transport.PeerConnection {
        let current = activeCredentials()
        let authentication = makeAuthenticationHandler(
            channel: channel, policy: current.policy, role: .listener(expected: peer), logger: logger)
        let tls = try NIOSSLClientHandler(context: current.clientContext, serverHostname: nil) { certificates, promise in
            authentication.verify(certificates, promise: promise)
        }
        try channel.pipeline.syncOperations.addHandlers([tls, authentication])
        return try wrap(channel, authentication: authentication, logger: logger)
    }

    private func makeAuthenticationHandler(
        channel: any Channel, policy: Transport.PeerCertificatePolicy, role: Transport.PeerCertificatePolicy.PeerRole,
        logger: Logger,
        refusal: Transport.PeerRejection? = nil
    ) -> Transport.PeerAuthenticationHandler {
        Transport.PeerAuthenticationHandler(
            authenticated: channel.eventLoop.makePromise(of: Raft.NodeID.self),
            policy: policy,
            role: role,
            members: { [weak self] in self?.currentMembers() ?? [] },
            removalNotice: { [weak self] in self?.removalNotice(for: $0) },
            now: configuration.now,
            handshakeTimeout: configuration.handshakeTimeout,
            refusal: refusal,
            logger: logger,
            onRejection: { [weak self] rejection in self?.recordRejection(rejection) })
    }

    private func wrap(
        _ channel: any Channel, authentication: Transport.PeerAuthenticationHandler, logger: Logger
    ) throws -> Transport.PeerConnection {
        let idle = configuration.idleTimeout
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(Transport.FrameDecoder(maximumFrameLength: configuration.maximumFrameLength)),
            MessageToByteHandler(Transport.FrameEncoder()),
            IdleStateHandler(readTimeout: idle),
            Transport.KeepaliveHandler(idleTimeout: idle, writeIdle: .nanoseconds(idle.nanoseconds / 3), logger: logger) { [weak self] in
                self?.keepalivesReceived.add(1, ordering: .relaxed)
            },
        ])
        let asyncChannel = try NIOAsyncChannel<Transport.Frame, Transport.Frame>(wrappingChannelSynchronously: channel)
        return Transport.PeerConnection(channel: asyncChannel, peer: authentication.authenticated.futureResult)
    }

    // MARK: Inbound

    /// Serves every accepted connection in its own child task until cancelled.
    ///
    /// Cancellation closes the listening channel, and the loop — in a task of its own, which the
    /// caller's cancellation does not reach — runs on until the stream of accepted connections
    /// ends, closing whatever arrived meanwhile. A connection NIO drops without handing it to
    /// this loop (its initializer still ran as the listener closed) closes itself: it travels in
    /// an `AcceptedChannel`.
    func accept(on server: NIOAsyncChannel<Transport.AcceptedPeerConnection, Never>) async throws {
        let loop = Task { try await self.acceptUntilClosed(server) }
        try await withTaskCancellationHandler {
            try await loop.value
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    private func acceptUntilClosed(_ server: NIOAsyncChannel<Transport.AcceptedPeerConnection, Never>) async throws {
        try await server.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask { await self.serveAccepted(connection) }
                }
                // The listener is closed (the transport is stopping): stop serving what it accepted.
                group.cancelAll()
            }
        }
    }

    private func serveAccepted(_ accepted: Transport.AcceptedPeerConnection) async {
        guard let channel = accepted.accepted.take() else { return }
        let connection = Transport.PeerConnection(channel: channel, peer: accepted.peer)
        if Task.isCancelled {
            // Accepted while stopping: close it properly rather than serve it.
            try? await connection.channel.executeThenClose { _, _ in }
            return
        }
        var logger = self.logger
        logger[metadataKey: "direction"] = "inbound"
        logger[metadataKey: "remote"] = "\(connection.channel.channel.remoteAddress.map { "\($0)" } ?? "?")"
        var authenticated: Raft.NodeID?
        defer {
            if let authenticated, configuration.announcesClosedConnections, !Task.isCancelled {
                deliver(Transport.Frame(type: Transport.FrameFormat.connectionClosedType, bytes: []), from: authenticated)
            }
        }
        do {
            try await connection.channel.executeThenClose { inbound, _ in
                // A rejected peer fails this future; the authentication handler has logged why.
                let peer = try await connection.peer.get()
                authenticated = peer
                logger[metadataKey: "peer"] = "\(peer)"
                logger.debug("inbound peer connection established")
                peerDialedIn(peer)
                for try await frame in inbound {
                    deliver(frame, from: peer)
                }
            }
        } catch is Transport.PeerRejection {
            return
        } catch {
            logger.warning("closed inbound peer connection", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Outbound

    /// Keeps one connection to `outbox`'s peer, redialing with backoff, until the peer is
    /// removed or the task is cancelled.
    func dial(_ outbox: Transport.Outbox) async {
        let logger = {
            var logger = self.logger
            logger[metadataKey: "direction"] = "outbound"
            logger[metadataKey: "peer"] = "\(outbox.id)"
            return logger
        }()
        var generator = SystemRandomNumberGenerator()
        var wakeups = outbox.wakeups.makeAsyncIterator()
        var failures = 0
        let clock = ContinuousClock()
        while !Task.isCancelled && !outbox.isStopped {
            let address = outbox.address
            var connectedAt: ContinuousClock.Instant?
            do {
                let connection = try await ClientBootstrap(group: eventLoopGroup)
                    .connectTimeout(configuration.connectTimeout)
                    .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .connect(host: address.host, port: address.port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try self.configureDialed(channel, expecting: outbox.id, logger: logger)
                        }
                    }
                try await connection.channel.executeThenClose { inbound, outbound in
                    _ = try await connection.peer.get()
                    connectedAt = clock.now
                    _ = outbox.takeRedialRequest()  // connected: an older request is moot
                    outbox.recordConnected(true)
                    defer { outbox.recordConnected(false) }
                    logger.info("connected to peer", metadata: ["address": "\(address)"])
                    try await pump(outbox, inbound: inbound, outbound: outbound, wakeups: &wakeups)
                }
                if !Task.isCancelled && !outbox.isStopped {
                    logger.info("peer connection closed; reconnecting")
                }
            } catch {
                if Task.isCancelled || outbox.isStopped { break }
                if connectedAt == nil { outbox.recordConnectionFailure() }
                // The first failure in a row is news; the rest repeat it every backoff. Our own
                // rejections of the peer were already logged, with their reason, by the handler.
                if !(error is Transport.PeerRejection) || failures > 0 {
                    logger.log(
                        level: failures == 0 ? .warning : .debug,
                        connectedAt == nil ? "cannot reach peer" : "peer connection failed",
                        metadata: ["address": "\(address)", "error": "\(error)", "attempt": "\(failures + 1)"])
                }
            }
            // Only a connection that stayed up resets the backoff. One that dies at once (a peer
            // refusing our certificate after the TLS 1.3 handshake, say) counts as a failure, so
            // redialing cannot spin.
            if let connectedAt, clock.now - connectedAt >= configuration.backoff.maximum {
                failures = 0
            }
            if Task.isCancelled || outbox.isStopped { break }
            let delay = configuration.backoff.delay(attempt: failures, using: &generator)
            failures += 1
            do {
                if try await waitOutBackoff(delay, of: outbox, clock: clock) { failures = 0 }
            } catch {
                break
            }
        }
        outbox.recordConnected(false)
    }

    /// Sleeps `delay`, or less if the peer dials us meanwhile (``Transport/Outbox/requestRedial()``).
    /// Returns whether it was cut short. Polls a flag every ``redialPoll``: cheap, and only while
    /// the connection is down.
    private func waitOutBackoff(_ delay: Duration, of outbox: Transport.Outbox, clock: ContinuousClock) async throws -> Bool {
        let deadline = clock.now + delay
        while true {
            if outbox.takeRedialRequest() { return true }
            let left = deadline - clock.now
            if left <= .zero { return false }
            try await Task.sleep(for: min(left, Self.redialPoll))
        }
    }

    /// How often a dialer waiting out its backoff checks whether the peer dialed in.
    static var redialPoll: Duration { .milliseconds(20) }

    /// Writes queued frames to the connection while reading (and delivering) anything the peer
    /// sends on it, until either side ends it.
    private func pump(
        _ outbox: Transport.Outbox,
        inbound: NIOAsyncChannelInboundStream<Transport.Frame>,
        outbound: NIOAsyncChannelOutboundWriter<Transport.Frame>,
        wakeups: inout AsyncStream<Void>.Iterator
    ) async throws {
        let peer = outbox.id
        let closed = ClosedFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer {
                    closed.value.store(true, ordering: .sequentiallyConsistent)
                    outbox.wake()
                }
                for try await frame in inbound {
                    self.deliver(frame, from: peer)
                }
            }
            while true {
                let batch = outbox.pop(upTo: Self.writeBatch)
                if !batch.isEmpty {
                    do {
                        try await outbound.write(contentsOf: batch)
                    } catch {
                        // Taken from the queue but not written: lost with the connection.
                        drops.record(batch.count, .connectionLost, peer: peer)
                        throw error
                    }
                    outbox.recordSent(batch.count)
                    continue
                }
                if closed.value.load(ordering: .sequentiallyConsistent) || outbox.isStopped { break }
                guard await wakeups.next() != nil else { break }
            }
            group.cancelAll()
            try await group.waitForAll()
        }
    }
}

/// Set by a connection's reader when the peer ends the connection, so the writer stops waiting.
private final class ClosedFlag: Sendable {
    let value = Atomic<Bool>(false)
}
