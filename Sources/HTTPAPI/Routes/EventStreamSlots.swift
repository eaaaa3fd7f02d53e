import Synchronization

/// How many `GET /api/events` streams a node holds open at once: `[events] max_streams` in all,
/// and `[events] max_streams_per_token` for each token.
///
/// A stream holds a connection for as long as its client likes, and every connection counts
/// toward `[api.limits] max_connections`. Without a cap, one client (a dashboard opened in a
/// hundred tabs, a reconnect loop that never closes its old streams) could take every
/// connection, and the node would stop answering submissions and reads. Over a cap the request
/// is 429 `rate_limited` with `Retry-After`, naming the key.
public final class EventStreamSlots: Sendable {
    /// Streams open at once on this node.
    public let maxStreams: Int
    /// Streams open at once for one token (only when the API has tokens: without them every
    /// caller is the same anonymous client and only ``maxStreams`` applies).
    public let maxStreamsPerToken: Int

    private struct Counts {
        var total = 0
        var perToken: [String: Int] = [:]
    }

    private let counts = Mutex(Counts())

    /// Slots for at most `maxStreams` streams, `maxStreamsPerToken` for each token (each at least 1).
    public init(maxStreams: Int = 256, maxStreamsPerToken: Int = 32) {
        self.maxStreams = max(1, maxStreams)
        self.maxStreamsPerToken = max(1, maxStreamsPerToken)
    }

    /// Streams open now (for tests and metrics).
    public var open: Int { counts.withLock { $0.total } }

    /// A slot for one stream of `token` (nil without tokens), held until the returned slot is
    /// released — explicitly, or when the response that holds it goes away, so a client that
    /// disconnects before its body starts never leaks one.
    public func acquire(token: String?) throws(APIError) -> EventStreamSlot {
        let refusal: String? = counts.withLock { counts in
            if counts.total >= maxStreams {
                return "this node already serves \(counts.total) event streams, the most [events] max_streams allows (\(maxStreams)); "
                    + "close streams you no longer read, or raise the key"
            }
            if let token, counts.perToken[token, default: 0] >= maxStreamsPerToken {
                return "token '\(token)' already holds \(maxStreamsPerToken) event streams on this node, the most "
                    + "[events] max_streams_per_token allows; close streams you no longer read (one stream serves every filter "
                    + "a dashboard needs)"
            }
            counts.total += 1
            if let token { counts.perToken[token, default: 0] += 1 }
            return nil
        }
        if let refusal { throw APIError(.rateLimited, refusal, retryAfterSeconds: 5) }
        return EventStreamSlot(slots: self, token: token)
    }

    fileprivate func release(token: String?) {
        counts.withLock { counts in
            counts.total -= 1
            if let token {
                let left = counts.perToken[token, default: 1] - 1
                counts.perToken[token] = left > 0 ? left : nil
            }
        }
    }
}

/// One open event stream's place in ``EventStreamSlots``; given back exactly once, when
/// ``release()`` is called or the slot is deallocated.
public final class EventStreamSlot: Sendable {
    private let slots: EventStreamSlots
    private let token: String?
    private let released = Atomic<Bool>(false)

    fileprivate init(slots: EventStreamSlots, token: String?) {
        self.slots = slots
        self.token = token
    }

    /// Gives the slot back (later calls do nothing).
    public func release() {
        if !released.exchange(true, ordering: .acquiringAndReleasing) { slots.release(token: token) }
    }

    deinit { release() }
}
