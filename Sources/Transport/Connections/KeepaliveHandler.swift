import Logging
import NIOCore
import NIOTLS

extension Transport {
    /// Keeps an authenticated link alive and closes a dead one (installed after the frame codec,
    /// behind an `IdleStateHandler`).
    ///
    /// Each side writes a keepalive frame (type ``FrameFormat/keepaliveType``, never delivered)
    /// when it has written nothing for a third of ``Configuration/idleTimeout``, so a healthy
    /// link never goes quiet; a connection on which nothing at all arrived for the whole idle
    /// timeout is closed (a half-open TCP connection, or a peer that authenticated and then
    /// holds the connection without speaking). Idle events before the TLS handshake completed
    /// are ignored: the handshake timeout covers that phase.
    final class KeepaliveHandler: ChannelDuplexHandler {
        typealias InboundIn = Frame
        typealias InboundOut = Frame
        typealias OutboundIn = Frame
        typealias OutboundOut = Frame

        private let idleTimeout: TimeAmount
        private let logger: Logger
        private let onKeepalive: @Sendable () -> Void
        private var authenticated = false

        init(idleTimeout: TimeAmount, logger: Logger, onKeepalive: @escaping @Sendable () -> Void) {
            self.idleTimeout = idleTimeout
            self.logger = logger
            self.onKeepalive = onKeepalive
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            guard frame.type != FrameFormat.keepaliveType else {
                onKeepalive()
                return
            }
            context.fireChannelRead(data)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent { authenticated = true }
            if let idle = event as? IdleStateHandler.IdleStateEvent, authenticated {
                switch idle {
                case .write:
                    context.writeAndFlush(wrapOutboundOut(Frame(type: FrameFormat.keepaliveType, bytes: [])), promise: nil)
                case .read:
                    logger.warning("closed an idle peer connection", metadata: [
                        "idle_timeout_ms": "\(idleTimeout.nanoseconds / 1_000_000)",
                    ])
                    context.close(promise: nil)
                case .all:
                    break
                }
                return
            }
            context.fireUserInboundEventTriggered(event)
        }
    }
}
