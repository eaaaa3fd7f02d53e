import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning

/// A broken promise, with the seed that replays it and the last steps before it.
public struct SchedulerViolation: Error, Sendable, CustomStringConvertible {
    /// Which invariant (`fenced-completion`, `start-after-end`, `overlap`, `stuck-attempt`,
    /// `stamp-ahead`, `stamp-behind`, `dag-order`, `lost-job`, `not-terminal`, `double-success`).
    public var invariant: String
    /// What happened.
    public var message: String
    /// The seed of the history.
    public var seed: UInt64
    /// Simulated time of the violation.
    public var at: Duration
    /// The last steps, oldest first.
    public var lastSteps: [String]

    public var description: String {
        "seed \(seed): invariant \(invariant) broken at \(at): \(message)\nlast steps:\n"
            + lastSteps.map { "  " + $0 }.joined(separator: "\n")
    }
}

/// What one history did, for the summary line.
public struct SchedulerHistoryStats: Sendable {
    /// Jobs and DAG runs submitted (acknowledged).
    public var submitted = 0
    /// Attempts started on simulated executors.
    public var attemptsStarted = 0
    /// Assignments an executor held for a slot (prefetch), and those of them it gave back lost
    /// because no time was left before their deadline when a slot freed.
    public var attemptsHeld = 0
    public var heldGivenBack = 0
    /// Faults injected.
    public var faults = 0
    /// Log entries committed.
    public var entries = 0
    /// Events processed.
    public var events = 0
}

/// The kinds of things that happen in a simulated history.
enum SimEvent {
    case replicate
    case electionCheck
    case leaderTick
    case executorTick(node: Int, epoch: Int)
    case deliver(SimMessage)
    case processEnd(id: Int, generation: Int)
    case processKilled(id: Int)
    case restart(node: Int, lostLog: Bool)
    case resume(node: Int)
    case heal(from: Int, to: Int)
    case clockRevert(node: Int)
    case fault
    case submit
    case reportRetry(node: Int, epoch: Int)
    case invariantSweep
}

/// A message between simulated nodes.
struct SimMessage {
    enum Body {
        case probe(LeaseProbe)
        case echo(LeaseEcho)
        /// A command for the leader to resolve with its own stamp and propose; `followerClock` is
        /// the sender's wall clock, which only the `follower-clock` mutation lets the leader use.
        case forward(UnstampedCommand, followerClock: Timestamp)
    }
    var from: Int
    var to: Int
    var fromEpoch: Int
    var body: Body
}

/// A task body running on a simulated executor (an in-process task: it freezes with its node).
struct SimProcess {
    var node: Int
    var epoch: Int
    var key: AttemptKey
    var jobID: JobID?
    var forbidJob: JobID?
    var alive = true
    var frozenRemaining: Duration?
    /// Its node was paused while it ran: the documented paused-node gap applies to it.
    var wasFrozen = false
    var generation = 0
    var succeeds: Bool
    /// It ends at its (time-boxed) timeout, and the box cut that timeout after the attempt was
    /// held: its node reports it lost, not failed (as ``ExecutorHost`` does).
    var cutShort = false
    var endsAt: Duration
    var endedAt: Duration?
}

/// One simulated node: its core plus what a real shell would hold.
struct SimNode {
    var core: NodeCore
    var up = true
    var paused = false
    var epoch = 0
    /// Entries on its disk (replayed at restart unless the log is lost).
    var persisted = 0
    /// Wall clock offset from true time, in milliseconds (a jump adds hours).
    var skewMs: Int64
    var jumpMs: Int64 = 0
    /// Reports waiting to reach the leader, by attempt.
    var pendingReports: [AttemptKey: Command] = [:]
    /// Attempts running here.
    var running: Set<AttemptKey> = []
    /// Which of them occupy a slot, and the assignments held for one (as ``ExecutorHost`` keeps them).
    var slots: AttemptSlots
    /// The leader this node last heard from.
    var believedLeader: Int?
    /// When a leader last sent this node an echo (the node may extend its lease with it).
    var lastEchoSentToIt: Duration = .zero
    /// Its data directory incarnation: a new one each time it restarts without its log.
    var incarnation: UInt64
    /// The incarnation each node's messages last carried to this one (node index → incarnation),
    /// as the consensus layer tracks it: what this node names in assignments when it leads.
    var heardIncarnations: [Int: UInt64] = [:]
}

/// A tiny binary min-heap of events by (time, sequence).
struct SimQueue {
    private var heap: [(at: Duration, seq: UInt64, event: SimEvent)] = []
    private var seq: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }

    mutating func schedule(_ event: SimEvent, at time: Duration) {
        seq += 1
        heap.append((time, seq, event))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (at: Duration, event: SimEvent)? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, less(l, m) { m = l }
                if r < heap.count, less(r, m) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return (first.at, first.event)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].at != heap[b].at ? heap[a].at < heap[b].at : heap[a].seq < heap[b].seq
    }
}
