import SchedulerCore

/// Where `GET /api/events` reads a node's events: the node's event window under its lock
/// (the `quorum` executable adapts NodeRuntime's `EventHub`; HTTPAPI never imports NodeRuntime).
public protocol EventFeed: Sendable {
    /// A new client's cursor, resumed after `lastEventID` when the window can do so with no gap.
    func open(lastEventID: UInt64?) -> (cursor: EventCursor, opening: EventOpening)
    /// Up to `limit` events at `cursor` (see ``SchedulerCore/EventWindow/read(_:limit:clientBuffer:)``).
    func read(_ cursor: EventCursor, limit: Int, clientBuffer: Int) -> EventRead
    /// Yields whenever new events (or a restart) arrive; ends its registration when iteration ends.
    func wakes() -> AsyncStream<Void>
    /// Called once for each client cut off for being slow, with why (the node logs and counts it).
    func clientCutOff(reason: String)
    /// Whether this node knows log index `entry` is committed, waiting up to `limit` for it:
    /// a `Last-Event-ID` past everything applied here is resumed only then (the node will apply
    /// that entry soon), else reset (``EventOpening/ahead(entry:)``).
    func awaitCommitted(entry: UInt64, within limit: Duration) async -> Bool
}

extension EventFeed {
    /// A feed that cannot tell what is committed resumes every id ahead of it (the events up to
    /// the id are skipped).
    public func awaitCommitted(entry: UInt64, within limit: Duration) async -> Bool { true }
}

/// How `GET /api/events` paces its clients.
public struct EventStreamSettings: Sendable {
    /// A comment line (`: hb`) after this long without an event, so proxies and clients see a
    /// live connection. Default 15 s.
    public var heartbeat: Duration = .seconds(15)
    /// How many events a client that has caught up may fall behind the newest before it is
    /// cut off. Default 10,000.
    public var clientBuffer: Int = 10_000
    /// Most events read and written in one go. Default 500.
    public var batch: Int = 500
    /// How long a client whose `Last-Event-ID` names an entry this node does not know is
    /// committed waits for it before it gets a `reset`. Default 5 s: a follower a little behind
    /// the node the client came from learns the commit within a heartbeat; an id from another
    /// cluster, or one a node cut off from its leader cannot confirm, should not hang a client.
    public var aheadWait: Duration = .seconds(5)

    /// The defaults; set the others by property.
    public init() {}
}
