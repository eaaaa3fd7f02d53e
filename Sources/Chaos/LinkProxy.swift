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
    static func start(from: String, to: String, targetPort: Int, group: any EventLoopGroup) async throws -> LinkProxy {
        let state = LinkSwitch()
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                guard state.mutex.withLock({ $0.open }) else { return inbound.close() }
                return ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { outbound in outbound.pipeline.addHandler(Relay(partner: inbound)) }
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
                        return inbound.pipeline.addHandler(Relay(partner: outbound))
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

/// Writes what one side reads to the other side; closes the other side when this one ends.
private final class Relay: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let partner: any Channel

    init(partner: any Channel) { self.partner = partner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
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
