/// The last ``capacity`` ``ChangeEvent``s of one node, in apply order, and the reading
/// position of each `GET /api/events` client. A pure value: the node keeps it under a lock
/// (appending is O(1), no I/O), clients read from it at their own pace.
///
/// Every appended event gets a local sequence number; a client's ``EventCursor`` names the
/// next one it wants. ``completeAfter`` is what makes `Last-Event-ID` safe: the window holds
/// every numbered event with a larger id (those already applied), so resuming after any id at
/// or above it has no gap; an older id gets a reset (the client must re-list).
public struct EventWindow: Sendable {
    /// A held event and the largest id appended up to it (its own, or the last numbered one
    /// before it), which keeps the slots ordered for the search by `Last-Event-ID`.
    struct Slot: Sendable {
        var event: ChangeEvent
        var throughID: UInt64
    }

    /// Most events held; the oldest is forgotten when a new one arrives at the limit.
    public let capacity: Int
    private var slots: [Slot?]
    private var oldestSlot = 0
    /// How many events are held.
    public private(set) var count = 0
    /// The sequence number the next appended event gets.
    public private(set) var nextSequence: UInt64 = 0
    /// Every numbered event with an id above this one that this node has applied is held.
    public private(set) var completeAfter: UInt64
    /// Bumped by ``restart(after:)``: cursors of an older generation get a reset.
    public private(set) var generation: UInt64 = 0
    private var lastID: UInt64

    /// An empty window for a node about to apply the entries after log index `appliedIndex`.
    public init(capacity: Int = 100_000, appliedIndex: UInt64 = 0) {
        self.capacity = max(1, capacity)
        slots = Array(repeating: nil, count: self.capacity)
        completeAfter = Self.lastID(ofEntry: appliedIndex)
        lastID = completeAfter
    }

    /// The sequence number of the oldest held event.
    public var oldestSequence: UInt64 { nextSequence - UInt64(count) }

    /// The largest id an entry at `index` can give an event: a client holding it has seen that
    /// whole entry. Saturates instead of overflowing for absurd indexes.
    static func lastID(ofEntry index: UInt64) -> UInt64 {
        let (next, overflow) = index.addingReportingOverflow(1)
        guard !overflow else { return .max }
        let (product, overflow2) = next.multipliedReportingOverflow(by: ChangeEvent.idsPerEntry)
        return overflow2 ? .max : product - 1
    }

    /// Adds `event`, forgetting the oldest at the limit.
    public mutating func append(_ event: ChangeEvent) {
        if let id = event.id { lastID = max(lastID, id) }
        let slot = Slot(event: event, throughID: lastID)
        if count == capacity {
            if let evicted = slots[oldestSlot], let id = evicted.event.id { completeAfter = max(completeAfter, id) }
            slots[oldestSlot] = slot
            oldestSlot = (oldestSlot + 1) % capacity
        } else {
            slots[(oldestSlot + count) % capacity] = slot
            count += 1
        }
        nextSequence += 1
    }

    /// Forgets every event because the state jumped (a snapshot was installed through log
    /// index `appliedIndex`): the events between what clients saw and the snapshot are not
    /// known here, so every open cursor gets a reset.
    public mutating func restart(after appliedIndex: UInt64) {
        slots = Array(repeating: nil, count: capacity)
        oldestSlot = 0
        count = 0
        generation += 1
        completeAfter = Self.lastID(ofEntry: appliedIndex)
        lastID = completeAfter
    }

    /// A cursor for a new client: after `lastEventID` when the window can resume there with no
    /// gap (``EventOpening/resumed``), else at the newest event (``EventOpening/reset`` when an
    /// id was given, ``EventOpening/live`` when not; ``EventOpening/ahead(entry:)`` when the id
    /// is past every event applied here, skipping events up to it).
    public func open(lastEventID: UInt64?) -> (cursor: EventCursor, opening: EventOpening) {
        let live = EventCursor(next: nextSequence, generation: generation, liveFrom: nextSequence, caughtUp: true)
        guard let lastEventID else { return (live, .live) }
        guard lastEventID >= completeAfter else { return (live, .reset) }
        // An id past every event this node has applied: from a node further along, or from
        // another cluster. Events up to it are skipped (the client has them); the caller
        // decides, from what this node knows is committed, whether to wait for them or reset.
        if lastEventID > lastID {
            var ahead = live
            ahead.skipThrough = lastEventID
            return (ahead, .ahead(entry: lastEventID / ChangeEvent.idsPerEntry))
        }
        // The first held slot whose throughID passes lastEventID: the first numbered event after it.
        var low = oldestSequence
        var high = nextSequence
        while low < high {
            let middle = low + (high - low) / 2
            if slot(middle).throughID > lastEventID { high = middle } else { low = middle + 1 }
        }
        return (EventCursor(next: low, generation: generation, liveFrom: nextSequence, caughtUp: low == nextSequence), .resumed)
    }

    /// Up to `limit` events at `cursor` and the cursor after them.
    ///
    /// - Parameter clientBuffer: how many events a client that has caught up once may fall
    ///   behind the newest before it is cut off (``EventRead/cutOff(_:)``); while it replays a
    ///   resume backlog it is cut off only if the window forgets events it has not read.
    public func read(_ cursor: EventCursor, limit: Int, clientBuffer: Int) -> EventRead {
        guard cursor.generation == generation else {
            return .reset(EventCursor(next: nextSequence, generation: generation, liveFrom: nextSequence, caughtUp: true))
        }
        guard cursor.next >= oldestSequence else {
            return .cutOff("it fell more than \(capacity) events (the node's whole event window) behind")
        }
        let behind = nextSequence - min(cursor.next, nextSequence)
        if cursor.caughtUp, behind > UInt64(max(0, clientBuffer)) {
            return .cutOff("it fell more than \(clientBuffer) events behind the newest (its buffer)")
        }
        var next = cursor
        var events: [ChangeEvent] = []
        let end = next.next + min(behind, UInt64(max(1, limit)))
        while next.next < end {
            let event = slot(next.next).event
            if let id = event.id {
                // A client resumed ahead of this node already has the events up to its id.
                if cursor.skipThrough.map({ id > $0 }) ?? true { events.append(event) }
            } else if next.next >= cursor.liveFrom {
                // Events with no id (leader, node) are live news only: not replayed to a resume.
                events.append(event)
            }
            next.next += 1
        }
        if next.next == nextSequence { next.caughtUp = true }
        return .events(events, next)
    }

    private func slot(_ sequence: UInt64) -> Slot {
        let offset = Int(sequence - oldestSequence)
        // Callers pass sequences in [oldestSequence, nextSequence), which are always filled.
        return slots[(oldestSlot + offset) % capacity] ?? Slot(event: ChangeEvent(id: nil, kind: .node, at: .zero), throughID: 0)
    }
}

/// One client's place in an ``EventWindow``.
public struct EventCursor: Hashable, Sendable {
    /// The sequence number of the next event to read.
    public var next: UInt64
    /// The window generation the cursor belongs to.
    public var generation: UInt64
    /// Events without an id from here on are delivered (those before are not replayed).
    public var liveFrom: UInt64
    /// Whether the client has read up to the newest event at least once.
    public var caughtUp: Bool
    /// Numbered events with an id up to this one are not delivered: the client resumed with a
    /// `Last-Event-ID` this node had not applied yet (``EventOpening/ahead(entry:)``).
    public var skipThrough: UInt64? = nil

    /// A cursor (``EventWindow/open(lastEventID:)`` makes them).
    public init(next: UInt64, generation: UInt64, liveFrom: UInt64, caughtUp: Bool, skipThrough: UInt64? = nil) {
        self.next = next
        self.generation = generation
        self.liveFrom = liveFrom
        self.caughtUp = caughtUp
        self.skipThrough = skipThrough
    }
}

/// How a new client's stream starts.
public enum EventOpening: Hashable, Sendable {
    /// No `Last-Event-ID`: from the next event on.
    case live
    /// Right after the client's `Last-Event-ID`.
    case resumed
    /// The id is older than the window, or from before a snapshot install or restart: send
    /// `event: reset` (re-list), then live events.
    case reset
    /// The id is past every event this node has applied; it names log index `entry`. The
    /// cursor skips events up to the id. If this node knows `entry` is committed, the events
    /// after it follow once it applies them; if not (another cluster's id, or a node cut off
    /// from the leader), the stream waits a bounded time, then resets (docs/api.md, "Events").
    case ahead(entry: UInt64)
}

/// What one read of an ``EventWindow`` gave.
public enum EventRead: Hashable, Sendable {
    /// Events to send (maybe none) and the cursor after them.
    case events([ChangeEvent], EventCursor)
    /// The window restarted (a snapshot was installed): send `event: reset`, go on from the cursor.
    case reset(EventCursor)
    /// The client is too slow; close its stream. Says why.
    case cutOff(String)
}

/// The filters of `GET /api/events` (`types`, `job`, `dag`, `label`): an event passes when
/// every given filter matches it. A `job`, `dag` or `label` filter drops events that have no
/// such field (`leader` and `node` events among them).
public struct EventFilter: Hashable, Sendable {
    /// Kinds to send; empty means all.
    public var kinds: Set<ChangeEvent.Kind>
    /// Only events of this job.
    public var jobID: String?
    /// Only events of this DAG run.
    public var dagID: String?
    /// Only events whose job or DAG has every one of these labels.
    public var labels: [KeyValue]

    /// A filter; the defaults pass everything.
    public init(kinds: Set<ChangeEvent.Kind> = [], jobID: String? = nil, dagID: String? = nil, labels: [KeyValue] = []) {
        self.kinds = kinds
        self.jobID = jobID
        self.dagID = dagID
        self.labels = labels
    }

    /// Whether `event` passes.
    public func matches(_ event: ChangeEvent) -> Bool {
        if !kinds.isEmpty, !kinds.contains(event.kind) { return false }
        if let jobID, event.jobID != jobID { return false }
        if let dagID, event.dagID != dagID { return false }
        return labels.allSatisfy { event.labels.contains($0) }
    }
}
