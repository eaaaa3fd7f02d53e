/// A bounded Wing–Gong search (with Lowe's memoisation, as Porcupine does) for one job's history:
/// is there a total order of its operations, each placed somewhere between its invocation and its
/// completion, under which every read shows what ``JobModel`` says the job was at that point?
///
/// Operations whose outcome is unknown (`info`: a timed-out submit or cancel) may have taken
/// effect at any time after their invocation — even after the client gave up — or never, so they
/// are optional and have no deadline. Failed operations and failed reads did nothing and are left
/// out before the search. The search is exponential in the worst case (many overlapping
/// operations), hence `bound`: after that many explored (prefix, state) pairs it gives up and
/// answers ``Outcome/unknown``, which the checker counts and which fails the run.
public enum LinearizabilitySearch {
    /// One operation as the search sees it.
    public struct Entry: Hashable, Sendable {
        /// The history's operation number (for the report).
        public var op: Int
        /// What it does to the model.
        public var step: JobModel.Step
        /// When it was invoked.
        public var invokedAt: Double
        /// When it completed; `nil` for an optional (unknown-outcome) operation, which has no deadline.
        public var completedAt: Double?

        /// An entry; `completedAt == nil` marks it optional.
        public init(op: Int, step: JobModel.Step, invokedAt: Double, completedAt: Double?) {
            self.op = op
            self.step = step
            self.invokedAt = invokedAt
            self.completedAt = completedAt
        }
    }

    /// What the search found.
    public enum Outcome: Hashable, Sendable {
        /// This order of operation numbers (optional operations that never took effect left out) explains every read.
        case linearizable([Int])
        /// No order does.
        case notLinearizable
        /// The bound ran out first.
        case unknown
    }

    /// The default bound: explored (prefix, state) pairs per job. A job in a chaos run has a few
    /// dozen operations at most, nearly all sequential, which takes a few hundred steps.
    public static let defaultBound = 100_000

    /// Searches for a linearization of `entries` from `initial` (normally ``JobModel/State/missing``).
    public static func check(_ entries: [Entry], from initial: JobModel.State = .missing, bound: Int = defaultBound) -> Outcome {
        let sorted = entries.sorted { ($0.invokedAt, $0.op) < ($1.invokedAt, $1.op) }
        var search = Search(entries: sorted, bound: bound)
        var done = Bitset(count: sorted.count)
        var order: [Int] = []
        switch search.explore(&done, initial, &order) {
        case .found: return .linearizable(order.map { sorted[$0].op })
        case .exhausted: return .notLinearizable
        case .outOfBudget: return .unknown
        }
    }

    /// Which entries are placed already; hashable so a (set, state) pair can be remembered.
    struct Bitset: Hashable {
        private(set) var words: [UInt64]

        init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }

        func contains(_ index: Int) -> Bool { words[index / 64] & (1 << UInt64(index % 64)) != 0 }
        mutating func insert(_ index: Int) { words[index / 64] |= 1 << UInt64(index % 64) }
        mutating func remove(_ index: Int) { words[index / 64] &= ~(1 << UInt64(index % 64)) }
    }

    private enum Result { case found, exhausted, outOfBudget }

    private struct Memo: Hashable {
        var done: Bitset
        var state: JobModel.State
    }

    private struct Search {
        let entries: [Entry]
        let bound: Int
        var steps = 0
        /// (placed set, state) pairs from which no completion exists: Lowe's cache.
        var dead: Set<Memo> = []

        init(entries: [Entry], bound: Int) {
            self.entries = entries
            self.bound = bound
        }

        /// Depth-first: place any entry that may come next (invoked no later than the earliest
        /// deadline among required entries not yet placed), recurse, undo. Depth is at most the
        /// number of entries.
        mutating func explore(_ done: inout Bitset, _ state: JobModel.State, _ order: inout [Int]) -> Result {
            var deadline = Double.infinity
            var requiredLeft = false
            for index in entries.indices where !done.contains(index) {
                guard let completed = entries[index].completedAt else { continue }
                requiredLeft = true
                deadline = min(deadline, completed)
            }
            guard requiredLeft else { return .found }
            let memo = Memo(done: done, state: state)
            if dead.contains(memo) { return .exhausted }
            steps += 1
            if steps > bound { return .outOfBudget }
            for index in entries.indices where !done.contains(index) {
                let entry = entries[index]
                // Sorted by invocation: nothing later can come before the deadline either.
                if entry.invokedAt > deadline { break }
                guard let next = JobModel.apply(entry.step, to: state) else { continue }
                done.insert(index)
                order.append(index)
                let result = explore(&done, next, &order)
                if result != .exhausted { return result }
                order.removeLast()
                done.remove(index)
            }
            dead.insert(memo)
            return .exhausted
        }
    }
}
