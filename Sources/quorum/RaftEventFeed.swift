import HTTPAPI
import Logging
import NodeMetrics
import NodeRuntime
import SchedulerCore
import ServiceLifecycle

/// The node's ``NodeRuntime/EventHub`` as the HTTP API's ``HTTPAPI/EventFeed`` (neither module
/// knows the other). A client cut off for being slow is logged and counted.
struct RaftEventFeed: EventFeed {
    let hub: EventHub
    let metrics: QuorumMetrics
    let logger: Logger
    /// The highest log index this node knows is committed (the Raft driver's status).
    let committedIndex: @Sendable () async -> UInt64

    func open(lastEventID: UInt64?) -> (cursor: EventCursor, opening: EventOpening) { hub.open(lastEventID: lastEventID) }

    func read(_ cursor: EventCursor, limit: Int, clientBuffer: Int) -> EventRead {
        hub.read(cursor, limit: limit, clientBuffer: clientBuffer)
    }

    func wakes() -> AsyncStream<Void> { hub.wakes() }

    /// Polls the commit index (every 50 ms, rare: only a client resuming ahead of this node)
    /// until it reaches `entry` or `limit` passes.
    func awaitCommitted(entry: UInt64, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while true {
            if await committedIndex() >= entry { return true }
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(50))) != nil else { return false }
        }
    }

    func clientCutOff(reason: String) {
        hub.countCutOff()
        metrics.eventClientCutOff()
        logger.warning("closed a slow /api/events client; it may reconnect with Last-Event-ID", metadata: [
            "reason": "\(reason)", "cut_off_total": "\(hub.cutOffs)",
        ])
    }
}

/// Ends the open event streams when a graceful shutdown starts. Listed after the API in the
/// service group, so it stops first: the API's server waits for open responses, and an event
/// stream would otherwise never end.
struct EventStreamCloser: Service {
    let hub: EventHub
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("shutting down: ending the open event streams", metadata: ["clients": "\(hub.clients)"])
        hub.close()
    }
}
