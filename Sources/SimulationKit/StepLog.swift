extension Simulation {
    /// The last few steps of a history, kept cheaply and formatted only when a check fails.
    public struct StepLog<Record: CustomStringConvertible & Sendable>: Sendable {
        /// How many steps are kept.
        public let capacity: Int
        private var ring: [(step: Int, time: Time, record: Record)] = []
        private var next = 0

        /// A log keeping the last `capacity` steps.
        public init(capacity: Int = 30) {
            precondition(capacity > 0, "StepLog capacity must be positive, got \(capacity)")
            self.capacity = capacity
            ring.reserveCapacity(capacity)
        }

        /// Records one step.
        public mutating func record(step: Int, time: Time, _ record: Record) {
            if ring.count < capacity {
                ring.append((step, time, record))
            } else {
                ring[next] = (step, time, record)
            }
            next = (next + 1) % capacity
        }

        /// The kept steps, oldest first, one per line: `#step @time record`.
        public var lines: [String] {
            let ordered = ring.count < capacity ? ring : Array(ring[next...] + ring[..<next])
            return ordered.map { "#\($0.step) @\($0.time) \($0.record)" }
        }
    }
}
