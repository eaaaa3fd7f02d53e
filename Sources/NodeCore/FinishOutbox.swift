import SchedulerCore

/// The finish reports of one executor waiting to be proposed, sent a round at a time: while one
/// proposal is in flight the reports that end meanwhile wait, and the next round takes them all
/// as one entry (issue #18, "the completion cycle").
///
/// Why: each report used to cost its own forward to the leader and its own log entry (a leader
/// fsync, a replication round trip and a follower fsync). Several in one `.batch` entry cost that
/// once. Nothing about fencing changes: apply judges each finish of a batch against its run's
/// current attempt on its own, so a stale one is counted stale while its neighbours apply
/// (``SchedulerCore/SchedulerState/apply(_:at:into:)``), and a batch applied twice (a resend after
/// a lost answer) finds every attempt already ended and changes nothing.
///
/// A pure value: the shell (`ExecutorHost`) keeps one under a lock, adds each report as its
/// attempt ends — the add that finds no round in flight claims the next one — and proposes what
/// ``takeRound()`` returns, calling it again when the proposal returns, successful or not, until
/// it returns nil (a report that failed is added again by its attempt, which retries after its
/// backoff, as a single report did).
public struct FinishOutbox: Sendable {
    /// A report and who waits for its outcome.
    public struct Report: Hashable, Sendable {
        /// The shell's handle on the waiter.
        public var ticket: UInt64
        /// A `finishAttempt`, or an `expireAttempt` (the executor gave the attempt up).
        public var command: Command
        /// A report.
        public init(ticket: UInt64, command: Command) {
            self.ticket = ticket
            self.command = command
        }
    }

    /// One round: its reports, oldest first, and the command that proposes them.
    public struct Round: Hashable, Sendable {
        /// The reports the round carries.
        public var reports: [Report]
        /// What to propose (``FinishOutbox/proposal(_:)``).
        public var proposal: Command
    }

    /// At most this many reports in one entry.
    public let maxReports: Int
    /// At most about this many bytes of reports in one entry (a share of `max_entry_bytes`: an
    /// entry over it would be refused, and its reports retried for ever).
    public let maxBytes: Int
    private var waiting: [Report] = []
    /// Whether a round's proposal is in flight.
    public private(set) var inFlight = false

    /// An empty outbox whose rounds hold at most `maxReports` reports and about `maxBytes` bytes.
    public init(maxReports: Int = 256, maxBytes: Int) {
        self.maxReports = max(1, maxReports)
        self.maxBytes = max(1, maxBytes)
    }

    /// How many reports wait for a round.
    public var waitingCount: Int { waiting.count }

    /// Adds a report; returns whether the caller must start rounds now (none was in flight: the
    /// caller now owns the rounds until ``takeRound()`` returns nil).
    public mutating func add(_ report: Report) -> Bool {
        waiting.append(report)
        guard !inFlight else { return false }
        inFlight = true
        return true
    }

    /// The round in flight (if any) ended: the reports of the next, oldest first, and its
    /// proposal; nil when none wait (the outbox is then idle, and the next ``add(_:)`` claims a
    /// round). Always takes at least one report; more while they fit ``maxReports`` and ``maxBytes``.
    public mutating func takeRound() -> Round? {
        guard !waiting.isEmpty else {
            inFlight = false
            return nil
        }
        var bytes = 0
        var count = 0
        for report in waiting {
            bytes += Self.estimatedBytes(report.command)
            guard count == 0 || (count < maxReports && bytes <= maxBytes) else { break }
            count += 1
        }
        let round = Array(waiting.prefix(count))
        waiting.removeFirst(count)
        inFlight = true
        return Round(reports: round, proposal: Self.proposal(round.map(\.command)))
    }

    /// One report as itself (the entry it always was), several as one `.batch` — a command every
    /// build decodes, so an older leader takes it too.
    public static func proposal(_ commands: [Command]) -> Command {
        commands.count == 1 ? commands[0] : .batch(commands)
    }

    /// About the encoded size of a report: its texts dominate (the output tail is up to
    /// the executor's replicated 4 KiB), the rest is ids and numbers.
    static func estimatedBytes(_ command: Command) -> Int {
        switch command {
        case .finishAttempt(let finish):
            return 128 + finish.runID.rawValue.utf8.count + finish.report.outputTail.utf8.count
                + (finish.report.error?.utf8.count ?? 0)
        default:
            return 128
        }
    }
}
