import SchedulerCore
import Synchronization

/// This node's ``EventWindow`` under a lock, and the wake-ups of the clients following it
/// (`GET /api/events`). The apply path only appends under the lock and pokes each waiting
/// client's one-slot wake-up stream: no I/O, no waiting, nothing per event that grows with a
/// client's backlog, so a slow client never slows apply (it is cut off instead, by its reader).
public final class EventHub: Sendable {
    private struct Guarded {
        var window: EventWindow
        var wakes: [UInt64: AsyncStream<Void>.Continuation] = [:]
        var nextWake: UInt64 = 0
        var cutOffs = 0
        var closed = false
    }
    private let guarded: Mutex<Guarded>

    /// A hub holding the last `capacity` events (≥ 100,000 on a node).
    public init(capacity: Int = 100_000) {
        guarded = Mutex(Guarded(window: EventWindow(capacity: capacity)))
    }

    /// Appends the events of one applied entry (or one `leader`/`node` event) and wakes the
    /// clients.
    public func append(_ events: [ChangeEvent]) {
        guard !events.isEmpty else { return }
        guarded.withLock { guarded in
            for event in events { guarded.window.append(event) }
            for wake in guarded.wakes.values { wake.yield() }
        }
    }

    /// A snapshot through `appliedIndex` replaced the state: forget the window, tell every
    /// client to re-list.
    public func restart(after appliedIndex: UInt64) {
        guarded.withLock { guarded in
            guarded.window.restart(after: appliedIndex)
            for wake in guarded.wakes.values { wake.yield() }
        }
    }

    /// A new client's cursor (see ``EventWindow/open(lastEventID:)``).
    public func open(lastEventID: UInt64?) -> (cursor: EventCursor, opening: EventOpening) {
        guarded.withLock { $0.window.open(lastEventID: lastEventID) }
    }

    /// Reads at `cursor` (see ``EventWindow/read(_:limit:clientBuffer:)``).
    public func read(_ cursor: EventCursor, limit: Int, clientBuffer: Int) -> EventRead {
        guarded.withLock { $0.window.read(cursor, limit: limit, clientBuffer: clientBuffer) }
    }

    /// A stream that yields whenever events arrive (at most one pending wake-up: the reader
    /// reads everything new each time). It unregisters itself when its iteration ends.
    public func wakes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let key: UInt64? = guarded.withLock { guarded in
            guard !guarded.closed else { return nil }
            let key = guarded.nextWake
            guarded.nextWake += 1
            guarded.wakes[key] = continuation
            return key
        }
        guard let key else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.guarded.withLock { $0.wakes.removeValue(forKey: key) }
        }
        return stream
    }

    /// Ends every client's stream, and those of clients that come later: the node is shutting
    /// down, and the HTTP server waits for open responses before it stops.
    public func close() {
        let wakes = guarded.withLock { guarded in
            guarded.closed = true
            defer { guarded.wakes = [:] }
            return Array(guarded.wakes.values)
        }
        for wake in wakes { wake.finish() }
    }

    /// Counts a client cut off for being slow.
    public func countCutOff() { guarded.withLock { $0.cutOffs += 1 } }

    /// Clients cut off for being slow since start.
    public var cutOffs: Int { guarded.withLock { $0.cutOffs } }

    /// Clients currently following the stream.
    public var clients: Int { guarded.withLock { $0.wakes.count } }
}
