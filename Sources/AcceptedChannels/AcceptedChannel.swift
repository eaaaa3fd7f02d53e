import NIOCore
import Synchronization

/// An accepted connection's `NIOAsyncChannel`, on its way from a server's child-channel
/// initializer to the task that serves it, which closes the connection properly if it is let go
/// unserved.
///
/// Why: a `NIOAsyncChannel` must be consumed with `executeThenClose`; one released without it
/// traps the process ("Deinited NIOAsyncWriter without calling finish()" — a
/// `preconditionFailure`, so release builds too). NIO's async server can release one itself:
/// when the listening channel closes while an accepted connection's initializer is still running
/// on its event loop, the wrapped connection completes into a stream that has ended and is
/// dropped (swift-nio issues 2637 and 3481). Every server that stops while clients still dial in
/// — a node shutting down while its peers redial it, a test server stopping — can hit that
/// window. Handing the connection over inside this box makes the drop harmless: the box's deinit
/// serves the connection with an empty `executeThenClose`, which finishes its writer and closes it.
public final class AcceptedChannel<Inbound: Sendable, Outbound: Sendable>: Sendable {
    private let unserved: Mutex<NIOAsyncChannel<Inbound, Outbound>?>

    /// The underlying NIO channel (for addresses and logging; serve the connection through ``take()``).
    public let channel: any Channel

    /// Boxes `connection`, just wrapped by a child-channel initializer.
    public init(_ connection: NIOAsyncChannel<Inbound, Outbound>) {
        self.channel = connection.channel
        self.unserved = Mutex(connection)
    }

    /// The connection, for the caller to serve with `executeThenClose`; `nil` if it was taken before.
    public func take() -> NIOAsyncChannel<Inbound, Outbound>? {
        unserved.withLock { $0.take() }
    }

    deinit {
        guard let connection = unserved.withLock({ $0.take() }) else { return }
        // Released unserved (by NIO's server, or by a server loop that stopped): close it the
        // way NIO requires. The task keeps the connection alive until it has.
        Task { try? await connection.executeThenClose { _, _ in } }
    }
}
