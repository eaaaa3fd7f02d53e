import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 webhook receiver on 127.0.0.1 and a free port, recording what it receives.
///
/// Routes: `/status/CODE` answers CODE (with `Retry-After: N` for `?retry_after=N`);
/// `/redirect` answers 302 to an internal address; `/hang` never answers; anything else 200.
struct WebhookReceiver {
    /// One request as it arrived.
    struct Received: Sendable {
        let method: String
        let uri: String
        let headers: [(String, String)]
        let body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    final class Log: Sendable {
        private let entries = Mutex<[Received]>([])
        var all: [Received] { entries.withLock { $0 } }
        func append(_ received: Received) { entries.withLock { $0.append(received) } }
    }

    let channel: any Channel
    let log: Log
    var port: Int { channel.localAddress?.port ?? 0 }
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    static func start() async throws -> WebhookReceiver {
        let log = Log()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ReceiverHandler(log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return WebhookReceiver(channel: channel, log: log)
    }

    func stop() async throws {
        try await channel.close().get()
    }
}

private final class ReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let log: WebhookReceiver.Log
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(log: WebhookReceiver.Log) {
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head else { return }
            log.append(.init(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body))
            respond(to: head.uri, context: context)
        }
    }

    private func respond(to uri: String, context: ChannelHandlerContext) {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        var headers = HTTPHeaders()
        let status: HTTPResponseStatus
        if path == "/hang" {
            return
        } else if path == "/redirect" {
            status = .found
            headers.add(name: "Location", value: "http://10.0.0.1/internal")
        } else if path.hasPrefix("/status/"), let code = Int(path.dropFirst("/status/".count)) {
            status = HTTPResponseStatus(statusCode: code)
            if query.hasPrefix("retry_after=") { headers.add(name: "Retry-After", value: String(query.dropFirst("retry_after=".count))) }
        } else {
            status = .ok
        }
        headers.add(name: "Content-Length", value: "2")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
