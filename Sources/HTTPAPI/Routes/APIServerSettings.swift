import Hummingbird
import HummingbirdCore
import NIOCore

extension APILimits {
    /// HTTP/1.1 with ``idleTimeout``: a connection with no request in flight for that long is
    /// closed by the server. Hummingbird only arms the timer between requests (after a
    /// response ends, or before the first request), so a long response such as a server-sent
    /// event stream is never cut by it. A connection the server drops unserved (at shutdown) is
    /// closed, not a crash (``UnservedConnectionClosing``).
    public var httpServer: HTTPServerBuilder {
        .http1ClosingUnserved(configuration: HTTP1Channel.Configuration(idleTimeout: TimeAmount(idleTimeout)))
    }

    /// The application configuration for listening on `address` with at most
    /// ``maxConnections`` open connections: at the limit the server stops accepting, so further
    /// connections wait in the kernel's listen backlog (and are refused once that is full)
    /// until one closes.
    public func applicationConfiguration(address: BindAddress) -> ApplicationConfiguration {
        ApplicationConfiguration(address: address, availableConnectionsDelegate: MaximumAvailableConnections(maxConnections))
    }
}
