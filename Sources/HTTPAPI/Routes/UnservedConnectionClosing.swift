import AcceptedChannels
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// A Hummingbird child channel whose accepted connections travel from `setup` to `handle` in an
/// `AcceptedChannel`, so a connection the server drops in between is closed instead of trapping
/// the process.
///
/// Hummingbird's server serves `NIOAsyncChannel`s from NIO's async listener; when its serving
/// task is cancelled (a shutdown that outlasts its grace period), or the listener closes while a
/// connection's setup is still running, NIO drops that connection already wrapped, and NIO traps
/// on a wrapped connection released without `executeThenClose` (see `AcceptedChannel`).
public struct UnservedConnectionClosing<Base: ServerChildChannel, Inbound: Sendable, Outbound: Sendable>: ServerChildChannel
where Base.Value == NIOAsyncChannel<Inbound, Outbound> {
    /// The boxed connection.
    public struct Value: ServerChildChannelValue {
        let accepted: AcceptedChannel<Inbound, Outbound>
        /// The accepted connection's channel.
        public var channel: any Channel { accepted.channel }
    }

    let base: Base

    /// Wraps `base` (typically `HTTP1Channel`).
    public init(_ base: Base) {
        self.base = base
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).map { Value(accepted: AcceptedChannel($0)) }
    }

    public func handle(value: Value, logger: Logger) async {
        guard let connection = value.accepted.take() else { return }
        await base.handle(value: connection, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 as `.http1(configuration:)` builds it, with every accepted connection that the
    /// server drops unserved closed rather than trapping (``UnservedConnectionClosing``). Every
    /// Quorum HTTP server uses it.
    public static func http1ClosingUnserved(configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        .init { responder in
            UnservedConnectionClosing(HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}
