import Logging
import NIOCore
import NIOTLS

extension Transport {
    /// Keeps an authenticated link alive and closes a dead one (installed after the frame codec,
    /// behind an `IdleStateHandler` that watches reads only).
    ///
    /// Each side writes a keepalive frame (type ``FrameFormat/keepaliveType``, never delivered)
    /// when it has written nothing for `writeIdle` (a third of ``Configuration/idleTimeout``), so
    /// a healthy link never goes quiet; a connection on which nothing at all arrived for the
    /// whole idle timeout is closed (a half-open TCP connection, or a peer that authenticated and
    /// then holds the connection without speaking). Idle time before the TLS handshake completed
    /// is ignored: the handshake timeout covers that phase.
    ///
    /// Write idleness is tracked here, not by `IdleStateHandler(writeTimeout:)`: that one makes
    /// a promise and registers a callback on every write to learn when it completed, which cost
    /// about 1 % of a leader's CPU per drained job (docs/benchmarks.md). Here a write only
    /// records when it was issued; one scheduled check per `writeIdle` does the rest.
    final class KeepaliveHandler: ChannelDuplexHandler {
        typealias InboundIn = Frame
        typealias InboundOut = Frame
        typealias OutboundIn = Frame
        typealias OutboundOut = Frame

        private let idleTimeout: TimeAmount
        private let writeIdle: TimeAmount
        private let logger: Logger
        private let onKeepalive: @Sendable () -> Void
        private var authenticated = false
        /// When the latest frame was written through this handler (or a keepalive sent).
        private var lastWrite = NIODeadline.distantPast
        /// The pending check for write idleness; nil before the channel is active and after removal.
        private var writeCheck: Scheduled<Void>?

        init(idleTimeout: TimeAmount, writeIdle: TimeAmount, logger: Logger, onKeepalive: @escaping @Sendable () -> Void) {
            self.idleTimeout = idleTimeout
            self.writeIdle = writeIdle
            self.logger = logger
            self.onKeepalive = onKeepalive
        }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { startWriteChecks(context) }
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            writeCheck?.cancel()
            writeCheck = nil
        }

        func channelActive(context: ChannelHandlerContext) {
            startWriteChecks(context)
            context.fireChannelActive()
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            lastWrite = .now()
            context.write(data, promise: promise)
        }

        private func startWriteChecks(_ context: ChannelHandlerContext) {
            guard writeCheck == nil else { return }
            scheduleWriteCheck(context, at: .now() + writeIdle)
        }

        private func scheduleWriteCheck(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
            writeCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
                self.checkWriteIdle(context)
            }
        }

        /// Sends a keepalive when nothing was written for `writeIdle` (once authenticated), and
        /// schedules the next check `writeIdle` after the latest write.
        private func checkWriteIdle(_ context: ChannelHandlerContext) {
            guard context.channel.isActive else {
                writeCheck = nil
                return
            }
            let now = NIODeadline.now()
            if now - lastWrite >= writeIdle {
                if authenticated {
                    lastWrite = now
                    context.writeAndFlush(wrapOutboundOut(Frame(type: FrameFormat.keepaliveType, bytes: [])), promise: nil)
                }
                scheduleWriteCheck(context, at: now + writeIdle)
            } else {
                scheduleWriteCheck(context, at: lastWrite + writeIdle)
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            guard frame.type != FrameFormat.keepaliveType else {
                onKeepalive()
                return
            }
            // Reserved for the transport's own local notice; a peer cannot send one.
            guard frame.type != FrameFormat.connectionClosedType else { return }
            context.fireChannelRead(data)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent { authenticated = true }
            if let idle = event as? IdleStateHandler.IdleStateEvent, authenticated {
                switch idle {
                case .read:
                    logger.warning("closed an idle peer connection", metadata: [
                        "idle_timeout_ms": "\(idleTimeout.nanoseconds / 1_000_000)",
                    ])
                    context.close(promise: nil)
                case .write, .all:
                    break  // write idleness is checked here (checkWriteIdle); only reads are watched there
                }
                return
            }
            context.fireUserInboundEventTriggered(event)
        }
    }
}
