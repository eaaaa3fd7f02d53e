import AsyncHTTPClient
import NIOCore
import NIOPosix

/// How http tasks' HTTP clients are made: AsyncHTTPClient settings and the event loops to run on.
///
/// Each request (each redirect hop) gets a client of its own, pinned to the one address the
/// policy judged (``ExecutorConfiguration/httpPolicy``) through `dnsOverride`, with redirects
/// followed by the executor; so `dnsOverride` and `redirectConfiguration` here are replaced.
public struct HTTPClientSettings: Sendable {
    /// Timeouts, TLS, decompression, … (AsyncHTTPClient's defaults unless set).
    public var configuration: HTTPClient.Configuration
    /// Where the connections run.
    public var eventLoopGroup: any EventLoopGroup

    /// Settings; by default AsyncHTTPClient's configuration on NIO's shared event loops.
    public init(configuration: HTTPClient.Configuration = HTTPClient.Configuration(),
                eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }
}
