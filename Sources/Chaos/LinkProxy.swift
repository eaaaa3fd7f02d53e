import NIOCore
import NIOPosix
import Synchronization

/// A fault-injecting TCP proxy for one directed peer link (`from` dials `to` through it).
///
/// Node `from`'s config names this proxy's port as `to`'s Raft address, so every connection
/// `from` opens to `to` passes here; bytes are relayed untouched (mutual TLS runs end to end
/// through it). ``cut()`` closes the link's connections and refuses new ones (each is closed
/// as soon as it is accepted) until ``heal()``: from `from`'s side the peer is unreachable, and
/// the transport's own redial and backoff do the rest. Cutting only `from → to` is a one-way
/// fault: Quorum's transport sends on its own outbound connection per peer, so `to` still
/// reaches `from` over the link in the other direction. No backpressure: the relay forwards as
/// fast as it reads (loopback, Raft-sized traffic).
///
/// ``LinkQuality`` slows or breaks a healthy link for the whole run: every chunk read is held
/// `delay` before it is written on (in order: one event loop per connection, deadlines only
/// grow), and with probability `loss` a chunk is "lost". TCP under TLS cannot lose a segment
/// without breaking the stream, so a loss closes the connection (both sides), as a retransmission
/// timeout would; the transport redials.
final class LinkProxy: Sendable {
    /// The dialling node's id.
    let from: String
    /// The dialled node's id.
    let to: String
    /// Where the proxy listens (127.0.0.1).
    let port: Int
    private let targetPort: Int
    private let server: any Channel
    private let state: LinkSwitch

    private init(from: String, to: String, port: Int, targetPort: Int, server: any Channel, state: LinkSwitch) {
        self.from = from
        self.to = to
        self.port = port
        self.targetPort = targetPort
        self.server = server
        self.state = state
    }

    /// Starts a proxy on a free loopback port that relays to 127.0.0.1:`targetPort`.
    static func start(from: String, to: String, targetPort: Int, quality: LinkQuality = LinkQuality(),
                      group: any EventLoopGroup) async throws -> LinkProxy {
        let state = LinkSwitch()
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                guard state.mutex.withLock({ $0.open }) else { return inbound.close() }
                return ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { outbound in outbound.pipeline.addHandler(Relay(partner: inbound, quality: quality)) }
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMap { outbound in
                        let keep = state.mutex.withLock { link -> Bool in
                            guard link.open else { return false }
                            link.connections.append(inbound)
                            link.connections.append(outbound)
                            return true
                        }
                        guard keep else {
                            outbound.close(promise: nil)
                            return inbound.close()
                        }
                        return inbound.pipeline.addHandler(Relay(partner: outbound, quality: quality))
                    }
                    .flatMapError { _ in inbound.close() }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress?.port ?? 0
        return LinkProxy(from: from, to: to, port: port, targetPort: targetPort, server: server, state: state)
    }

    /// Closes the link's connections and refuses new ones until ``heal()``.
    func cut() {
        let open = state.mutex.withLock { link -> [any Channel] in
            link.open = false
            defer { link.connections = [] }
            return link.connections
        }
        for channel in open { channel.close(promise: nil) }
    }

    /// Lets connections through again.
    func heal() {
        state.mutex.withLock { $0.open = true }
    }

    /// Whether the link is cut.
    var isCut: Bool { state.mutex.withLock { !$0.open } }

    /// Closes the listener and every connection.
    func stop() async {
        cut()
        try? await server.close()
    }
}

/// Whether a link is open, and its open connections (closed when it is cut).
private final class LinkSwitch: Sendable {
    struct LinkState {
        var open = true
        var connections: [any Channel] = []
    }

    let mutex = Mutex(LinkState())
}

/// How a healthy link behaves (`--link-delay-ms`, `--link-loss`): the defaults relay untouched.
public struct LinkQuality: Hashable, Sendable {
    /// Milliseconds each chunk is held before it is passed on (0–5000).
    public var delayMilliseconds: Int
    /// The probability (0–0.5) that a chunk is lost, which closes its connection.
    public var loss: Double

    /// A link quality.
    public init(delayMilliseconds: Int = 0, loss: Double = 0) {
        self.delayMilliseconds = delayMilliseconds
        self.loss = loss
    }
}

/// Writes what one side reads to the other side (after the link's delay, unless lost); closes
/// the other side when this one ends.
private final class Relay: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let partner: any Channel
    private let quality: LinkQuality

    init(partner: any Channel, quality: LinkQuality) {
        self.partner = partner
        self.quality = quality
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if quality.loss > 0, Double.random(in: 0..<1) < quality.loss {
            context.close(promise: nil)
            partner.close(promise: nil)
            return
        }
        guard quality.delayMilliseconds > 0 else {
            partner.writeAndFlush(bytes, promise: nil)
            return
        }
        let partner = self.partner
        context.eventLoop.scheduleTask(in: .milliseconds(Int64(quality.delayMilliseconds))) {
            partner.writeAndFlush(bytes, promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
        partner.close(promise: nil)
    }
}
