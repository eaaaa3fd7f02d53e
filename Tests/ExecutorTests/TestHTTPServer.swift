import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Counts requests to `/slow` that have arrived, so a test can act once one is in flight.
final class RequestCounter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}

/// A tiny HTTP/1.1 server on a loopback address (127.0.0.1 unless told) and a free port, for
/// http task tests.
///
/// Routes: `/ok` → 200 "ok"; `/fail` → 500 "boom"; `/echo` → 200 "METHOD x-test-header body";
/// `/big` → 200 with ``bigBody``; `/stall` → 200 and "partial" of a 1000-byte body, then stalls;
/// `/slow` → never answers; `/auth` → 200 "authorization=VALUE"; `/redirect/CODE?to=URL` → CODE with `Location: URL`.
/// ``requests`` counts every request that arrived.
struct TestHTTPServer {
    /// The body `/big` answers with: 200,000 bytes, so the kept tail is a strict suffix.
    static let bigBody: [UInt8] = (0..<200_000).map { UInt8(ascii: "a") + UInt8($0 % 26) }

    let channel: any Channel
    let slowRequests: RequestCounter
    let requests: RequestCounter
    let host: String
    var port: Int { channel.localAddress?.port ?? 0 }
    func url(_ path: String) -> String { "http://\(host):\(port)\(path)" }

    static func start(host: String = "127.0.0.1") async throws -> TestHTTPServer {
        let slowRequests = RequestCounter()
        let requests = RequestCounter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RouteHandler(slowRequests: slowRequests, requests: requests))
                }
            }
            .bind(host: host, port: 0)
            .get()
        return TestHTTPServer(channel: channel, slowRequests: slowRequests, requests: requests, host: host)
    }

    func stop() async throws {
        try await channel.close().get()
    }

}

private final class RouteHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let slowRequests: RequestCounter
    private let requests: RequestCounter
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(slowRequests: RequestCounter, requests: RequestCounter) {
        self.slowRequests = slowRequests
        self.requests = requests
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requests.increment()
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head else { return }
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        if head.uri.hasPrefix("/redirect/"), let query = head.uri.firstRange(of: "?to="),
           let code = Int(head.uri[head.uri.index(head.uri.startIndex, offsetBy: 10)..<query.lowerBound]) {
            var headers = HTTPHeaders()
            headers.add(name: "location", value: String(head.uri[query.upperBound...]))
            headers.add(name: "content-length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: code), headers: headers))),
                          promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        switch head.uri {
        case "/ok":
            send(.ok, Array("ok".utf8), context: context)
        case "/fail":
            send(.internalServerError, Array("boom".utf8), context: context)
        case "/echo":
            let header = head.headers["x-test"].joined(separator: ",")
            send(.ok, Array("\(head.method.rawValue) \(header) ".utf8) + body, context: context)
        case "/auth":
            send(.ok, Array("authorization=\(head.headers["authorization"].joined(separator: ","))".utf8), context: context)
        case "/big":
            send(.ok, TestHTTPServer.bigBody, context: context)
        case "/stall":
            // Headers and the first part of the body, then nothing more.
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "1000")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "partial")))), promise: nil)
        case "/slow":
            slowRequests.increment()  // Never answer; the client's timeout or cancellation ends the request.
        default:
            send(.notFound, Array("no route".utf8), context: context)
        }
    }

    private func send(_ status: HTTPResponseStatus, _ body: [UInt8], context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(body.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
