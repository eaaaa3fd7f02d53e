import AcceptedChannels
import NIOCore
import NIOPosix
import Testing

/// NIO's async server drops a connection it has already wrapped when the listener closes while the
/// connection's initializer is still running. Unboxed, that traps the whole process ("Deinited
/// NIOAsyncWriter without calling finish()", which took a CI run's real-time tests down);
/// boxed in an ``AcceptedChannel``, the connection is closed instead.
@Suite struct AcceptedChannelTests {
    @Test func aConnectionTheServerDropsUnservedIsClosedNotTrapped() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let release = group.any().makePromise(of: Void.self)
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let server = try await ServerBootstrap(group: group)
            .bind(host: "127.0.0.1", port: 0) { channel in
                // Hold the initializer until the server has stopped taking connections.
                startedContinuation.yield()
                return release.futureResult.hop(to: channel.eventLoop).flatMapThrowing {
                    AcceptedChannel(try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel))
                }
            }
        let port = try #require(server.channel.localAddress?.port)
        let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        var startedIterator = started.makeAsyncIterator()
        await startedIterator.next()

        try await server.executeThenClose { accepted in
            // The serving loop ends while the listener stays open (as when its task is
            // cancelled): dropping the only iterator ends the stream of accepted connections.
            do { _ = accepted.makeAsyncIterator() }
            // Now the initializer completes: NIO drops the wrapped connection, and still
            // registers and activates it.
            release.succeed()
            // The dropped connection is closed: the client sees its end (and nothing trapped).
            #expect(await Self.closes(client, within: .seconds(30)))
        }
    }

    /// Whether `channel` closes within `limit`: its close future raced against a timer on its
    /// event loop (closed after all when the timer wins, so nothing leaks).
    static func closes(_ channel: any Channel, within limit: TimeAmount) async -> Bool {
        let outcome = channel.eventLoop.makePromise(of: Bool.self)
        channel.closeFuture.whenComplete { _ in outcome.succeed(true) }
        let timer = channel.eventLoop.scheduleTask(in: limit) { outcome.succeed(false) }
        let closed = (try? await outcome.futureResult.get()) ?? false
        timer.cancel()
        if !closed { try? await channel.close() }
        return closed
    }

    @Test func takeHandsTheConnectionOverOnce() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    AcceptedChannel(try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel))
                }
            }
        let port = try #require(server.channel.localAddress?.port)
        let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        try await server.executeThenClose { accepted in
            var iterator = accepted.makeAsyncIterator()
            let connection = try #require(try await iterator.next())
            let served = try #require(connection.take())
            #expect(connection.take() == nil)
            try await served.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(string: "hello"))
            }
        }
        #expect(await Self.closes(client, within: .seconds(30)))
    }
}
