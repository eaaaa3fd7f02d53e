import SchedulerCore

/// An executor's slots and the assignments it holds beyond them until a slot frees
/// (`[executor] prefetch`) — the one rule the running node's executor and the scheduler
/// simulator share.
///
/// Why hold: with a stream of short jobs an executor otherwise idles for a replication round
/// trip between one attempt's end and the next assignment's arrival (the finish report, its
/// entry, the duty round, the assignment's entry). A held assignment starts the moment its slot
/// frees. The leader gives an executor at most 4 held assignments per slot and stamps each
/// with a deadline that allows for the wait (`SchedulerPlanning.DutyPlanner.heldDeadline`); the
/// executor still time-boxes a held attempt to its deadline when it finally starts it
/// (``ExecutorOrders/timeBoxed(_:now:killGraceMs:)``), so a held attempt never outlives the
/// deadline after which the leader may retry it elsewhere.
///
/// Held attempts start in the order they were assigned (the log's order).
public struct AttemptSlots: Sendable {
    /// Attempts this executor runs at once before it holds the next (its own `[executor] slots`,
    /// at least 1); `Int.max` when it does not hold.
    public let slots: Int
    /// The attempts occupying a slot.
    public private(set) var executing: Set<AttemptKey> = []
    /// The assignments waiting for a slot, oldest first.
    public private(set) var held: [AttemptOrder] = []

    /// `slots` empty slots. Only a node that takes held assignments (its `[executor] prefetch`
    /// is above 0: `holds`) caps itself at them; one that does not starts whatever it is given
    /// at once, as every build before prefetch did — a leader counts an attempt whose task is
    /// still dying (a stop's kill grace) as gone, and such a node must not make the next one
    /// wait for it on a deadline that allows for no wait.
    public init(slots: Int, holds: Bool) {
        self.slots = holds ? max(1, slots) : .max
    }

    /// Whether `key` waits here for a slot.
    public func isHeld(_ key: AttemptKey) -> Bool { held.contains { $0.key == key } }

    /// Takes `order`: returns it when it may start now (it then occupies a slot), or holds it and
    /// returns nil. An order already executing or held is ignored (nil).
    public mutating func take(_ order: AttemptOrder) -> AttemptOrder? {
        guard !executing.contains(order.key), !isHeld(order.key) else { return nil }
        guard executing.count < slots else {
            held.append(order)
            return nil
        }
        executing.insert(order.key)
        return order
    }

    /// `key`'s task ended (or never occupied a slot): its slot is free. Returns the held orders
    /// that start now, oldest first; each occupies a slot.
    public mutating func ended(_ key: AttemptKey) -> [AttemptOrder] {
        guard executing.remove(key) != nil else { return [] }
        var starts: [AttemptOrder] = []
        while executing.count < slots, !held.isEmpty {
            let next = held.removeFirst()
            executing.insert(next.key)
            starts.append(next)
        }
        return starts
    }

    /// Drops held `key` (it was stopped before it started): `true` when it was held.
    public mutating func dropHeld(_ key: AttemptKey) -> Bool {
        guard let index = held.firstIndex(where: { $0.key == key }) else { return false }
        held.remove(at: index)
        return true
    }

    /// Drops every held assignment and returns them, oldest first (the lease ran out, or the
    /// node drains).
    public mutating func dropAllHeld() -> [AttemptOrder] {
        defer { held = [] }
        return held
    }
}

extension AttemptOrder {
    /// Its run and attempt.
    public var key: AttemptKey { AttemptKey(runID: runID, attempt: attempt) }
}
