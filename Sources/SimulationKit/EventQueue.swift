extension Simulation {
    /// A priority queue of timed events: the earliest time first, ties in insertion order.
    ///
    /// Insertion order breaks ties so a history does not depend on heap internals.
    public struct EventQueue<Event> {
        fileprivate struct Slot {
            var time: Time
            var sequence: UInt64
            var event: Event
            func precedes(_ other: Slot) -> Bool {
                time != other.time ? time < other.time : sequence < other.sequence
            }
        }

        private var heap: [Slot] = []
        private var nextSequence: UInt64 = 0

        /// An empty queue.
        public init() {}

        /// The number of pending events.
        public var count: Int { heap.count }
        /// Whether no event is pending.
        public var isEmpty: Bool { heap.isEmpty }
        /// The time of the earliest pending event.
        public var nextTime: Time? { heap.first?.time }

        /// Schedules `event` at `time`.
        public mutating func schedule(_ event: Event, at time: Time) {
            heap.append(Slot(time: time, sequence: nextSequence, event: event))
            nextSequence += 1
            siftUp(heap.count - 1)
        }

        /// Removes and returns the earliest event.
        public mutating func popNext() -> (time: Time, event: Event)? {
            guard !heap.isEmpty else { return nil }
            heap.swapAt(0, heap.count - 1)
            let slot = heap.removeLast()
            if !heap.isEmpty { siftDown(0) }
            return (slot.time, slot.event)
        }

        /// Removes every pending event for which `shouldRemove` is true.
        public mutating func removeAll(where shouldRemove: (Event) -> Bool) {
            let before = heap.count
            heap.removeAll { shouldRemove($0.event) }
            guard heap.count != before else { return }
            for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
        }

        private mutating func siftUp(_ start: Int) {
            var child = start
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child].precedes(heap[parent]) else { return }
                heap.swapAt(child, parent)
                child = parent
            }
        }

        private mutating func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var first = parent
                if left < heap.count && heap[left].precedes(heap[first]) { first = left }
                if right < heap.count && heap[right].precedes(heap[first]) { first = right }
                if first == parent { return }
                heap.swapAt(parent, first)
                parent = first
            }
        }
    }
}

extension Simulation.EventQueue: Sendable where Event: Sendable {}

extension Simulation.EventQueue.Slot: Sendable where Event: Sendable {}
