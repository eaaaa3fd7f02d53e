import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import RaftCore
import X509

extension Transport {
    /// Authenticates one connection and gates it until authenticated.
    ///
    /// Installed right after the TLS handler. It verifies the peer's certificate in NIOSSL's
    /// custom verification callback (``verify(_:promise:)``) with ``PeerCertificatePolicy``,
    /// completes ``authenticated`` with the peer's id when the handshake finishes, and otherwise
    /// logs the specific ``PeerRejection``, fails ``authenticated`` and closes the channel. No
    /// byte reaches the frame decoder before the peer is authenticated.
    final class PeerAuthenticationHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        private enum State {
            case handshaking
            case authenticated(Raft.NodeID)
            case rejected
        }

        /// A removed peer allowed through the handshake only to be sent `notice`.
        private struct RemovedPeer {
            var id: Raft.NodeID
            var notice: Frame
        }

        /// Completed with the peer's id once the handshake and identity check succeed.
        let authenticated: EventLoopPromise<Raft.NodeID>
        private let policy: PeerCertificatePolicy
        private let role: PeerCertificatePolicy.PeerRole
        private let members: @Sendable () -> Set<Raft.NodeID>
        /// The notice for a removed id that dials in (``PeerTransport/setRemovalNotices(_:)``).
        private let removalNotice: @Sendable (Raft.NodeID) -> Frame?
        private let now: @Sendable () -> Date
        private let handshakeTimeout: TimeAmount
        /// Set when the connection must be refused as soon as it is active (over a limit).
        private let refusal: PeerRejection?
        private let onRejection: @Sendable (PeerRejection) -> Void
        private var logger: Logger
        private var state = State.handshaking
        private var verifiedID: Raft.NodeID?
        private var removedPeer: RemovedPeer?
        private var pendingRejection: PeerRejection?
        private var timeout: Scheduled<Void>?

        init(
            authenticated: EventLoopPromise<Raft.NodeID>,
            policy: PeerCertificatePolicy,
            role: PeerCertificatePolicy.PeerRole,
            members: @escaping @Sendable () -> Set<Raft.NodeID>,
            removalNotice: @escaping @Sendable (Raft.NodeID) -> Frame? = { _ in nil },
            now: @escaping @Sendable () -> Date,
            handshakeTimeout: TimeAmount,
            refusal: PeerRejection? = nil,
            logger: Logger,
            onRejection: @escaping @Sendable (PeerRejection) -> Void
        ) {
            self.authenticated = authenticated
            self.policy = policy
            self.role = role
            self.members = members
            self.removalNotice = removalNotice
            self.now = now
            self.handshakeTimeout = handshakeTimeout
            self.refusal = refusal
            self.logger = logger
            self.onRejection = onRejection
        }

        /// NIOSSL's custom verification callback: replaces BoringSSL's chain check with
        /// ``PeerCertificatePolicy``. Runs on the channel's event loop during the handshake.
        func verify(_ certificates: [NIOSSLCertificate], promise: EventLoopPromise<NIOSSLVerificationResult>) {
            let chain: [Certificate]
            do {
                chain = try certificates.map { try Certificate(derEncoded: $0.toDERBytes()) }
            } catch {
                pendingRejection = .malformedCertificate("\(error)")
                promise.succeed(.failed)
                return
            }
            switch policy.verify(chain: chain, role: role, members: members(), now: now()) {
            case .success(let id):
                verifiedID = id
                promise.succeed(.certificateVerified)
            case .failure(.unknownMember(let id)) where role == .dialer:
                // Everything but membership checked out: a removed id is let through the
                // handshake only to be told, never authenticated (see `tellRemoved`).
                if let notice = removalNotice(id) {
                    removedPeer = RemovedPeer(id: id, notice: notice)
                    promise.succeed(.certificateVerified)
                } else {
                    pendingRejection = .unknownMember(id)
                    promise.succeed(.failed)
                }
            case .failure(let rejection):
                pendingRejection = rejection
                promise.succeed(.failed)
            }
        }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { startTimer(context: context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            startTimer(context: context)
            context.fireChannelActive()
        }

        private func startTimer(context: ChannelHandlerContext) {
            guard timeout == nil, case .handshaking = state else { return }
            if let refusal {
                reject(refusal, context: context)
                return
            }
            let seconds = Double(handshakeTimeout.nanoseconds) / 1e9
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timeout = context.eventLoop.scheduleTask(in: handshakeTimeout) {
                let (handler, context) = loopBound.value
                handler.reject(.handshakeTimedOut(seconds: seconds), context: context)
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent, case .handshaking = state {
                timeout?.cancel()
                if let removedPeer {
                    tellRemoved(removedPeer, context: context)
                    return
                }
                if let id = verifiedID {
                    state = .authenticated(id)
                    logger[metadataKey: "peer"] = "\(id)"
                    logger.debug("peer authenticated")
                    authenticated.succeed(id)
                } else {
                    // Unreachable with certificate verification required; fail closed regardless.
                    reject(pendingRejection ?? .noCertificate, context: context)
                    return
                }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .authenticated = state else {
                if case .handshaking = state {
                    reject(.handshakeFailed("application data before the handshake completed"), context: context)
                }
                return
            }
            context.fireChannelRead(data)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            switch state {
            case .handshaking:
                reject(pendingRejection ?? Self.classify(error), context: context)
            case .rejected:
                break
            case .authenticated:
                context.fireErrorCaught(error)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if case .handshaking = state {
                reject(pendingRejection ?? .closedDuringHandshake, context: context)
            }
            timeout?.cancel()
            context.fireChannelInactive()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            timeout?.cancel()
            if case .handshaking = state {
                state = .rejected
                authenticated.fail(PeerRejection.closedDuringHandshake)
            }
        }

        /// Writes a removed peer its notice and closes the connection once it is written. The
        /// connection never counts as authenticated: nothing the peer sends is passed on (this
        /// handler drops every read outside `.authenticated`), no frame of ours but the notice is
        /// written, and the handshake event is not passed on either.
        private func tellRemoved(_ peer: RemovedPeer, context: ChannelHandlerContext) {
            state = .rejected
            logger[metadataKey: "peer"] = "\(peer.id)"
            logger.notice("a removed node connected; sent it a removal notice and closed the connection",
                          metadata: ["reason": "\(PeerRejection.removedMember(peer.id).code)"])
            var buffer = context.channel.allocator.buffer(capacity: FrameFormat.lengthPrefixBytes + peer.notice.encodedLength)
            FrameEncoder.write(peer.notice, into: &buffer)
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            // Written before `authenticated` fails, so the connection's owner, closing it on that
            // failure, closes it behind the notice.
            context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
            onRejection(.removedMember(peer.id))
            authenticated.fail(PeerRejection.removedMember(peer.id))
        }

        private func reject(_ rejection: PeerRejection, context: ChannelHandlerContext) {
            guard case .handshaking = state else { return }
            state = .rejected
            timeout?.cancel()
            logger.warning(
                "peer connection rejected",
                metadata: ["reason": "\(rejection.code)", "detail": "\(rejection.description)"])
            onRejection(rejection)
            authenticated.fail(rejection)
            context.close(promise: nil)
        }

        /// Names a handshake failure that did not come from our own policy.
        static func classify(_ error: any Error) -> PeerRejection {
            if let rejection = error as? PeerRejection { return rejection }
            let text = String(describing: error)
            if text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") || text.contains("CERTIFICATE_REQUIRED") {
                return .noCertificate
            }
            if case .uncleanShutdown = error as? NIOSSLError { return .closedDuringHandshake }
            return .handshakeFailed(text)
        }
    }
}
