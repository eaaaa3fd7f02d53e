import HTTPAPI
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import Testing

/// The API servers' child channel (`http1ClosingUnserved`): a connection Hummingbird's listener
/// drops after its setup ran (its serving loop ended first) is closed, not a trap of the process.
@Suite struct UnservedConnectionClosingTests {
    @Test func anHTTPConnectionTheServerDropsIsClosed() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let childChannel = UnservedConnectionClosing(HTTP1Channel(responder: { _, _, _ in }))
        let logger = Logger(label: "unserved-connection-test")
        let release = group.any().makePromise(of: Void.self)
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let server = try await ServerBootstrap(group: group)
            .bind(host: "127.0.0.1", port: 0) { channel in
                // Set the connection up only after the serving loop has ended.
                startedContinuation.yield()
                return release.futureResult.hop(to: channel.eventLoop).flatMap {
                    childChannel.setup(channel: channel, logger: logger)
                }
            }
        let port = try #require(server.channel.localAddress?.port)
        let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        var startedIterator = started.makeAsyncIterator()
        await startedIterator.next()

        try await server.executeThenClose { accepted in
            do { _ = accepted.makeAsyncIterator() }  // the serving loop ends; the listener stays open
            release.succeed()
            // The client's end closes, or a timer on its event loop says it did not in time.
            let outcome = client.eventLoop.makePromise(of: Bool.self)
            client.closeFuture.whenComplete { _ in outcome.succeed(true) }
            let timer = client.eventLoop.scheduleTask(in: .seconds(30)) { outcome.succeed(false) }
            let closed = (try? await outcome.futureResult.get()) ?? false
            timer.cancel()
            #expect(closed, "the dropped connection was never closed")
            if !closed { try? await client.close() }
        }
    }
}
