import DeterministicRandom
import NodeCore
import RaftCore
import SchedulerCore

/// One seeded history of a simulated cluster: N ``NodeCore``s over an abstract replicated log,
/// an in-memory network with partitions (also one-way), crashes (also with the log lost),
/// pauses, wall-clock jumps, and simulated executors whose task bodies take time, succeed or
/// fail. The consensus layer is abstract — one committed log, proven separately by the Raft
/// simulator — so this simulator spends its time on the scheduler's promises, checked on every
/// step (``SchedulerInvariants``).
public struct SchedulerWorld {
    let settings: SchedulerSimulationSettings
    let seed: UInt64
    var random: SplitMix64
    var queue = SimQueue()
    var now: Duration = .zero
    var nodes: [SimNode] = []
    var processes: [SimProcess] = []
    /// Directed links that drop messages: `blocked[from][to]` cuts in force (cuts may overlap).
    var blocked: [[Int]]
    /// The committed log (index = position + 1).
    var log: [StampedCommand] = []
    /// Every node's applied index (its core's, kept here for speed).
    var applied: [Int]
    var leader: Int?
    var leaderSince: Duration = .zero
    var noLeaderSince: Duration? = .zero
    var isolatedSince: Duration?
    var invariants = SchedulerInvariants()
    var stats = SchedulerHistoryStats()
    var steps: [String] = []
    var nextID = 0
    /// Keep and print many steps (a single seed's report).
    public var verboseSteps = false
    /// When a jumped clock was last put right.
    var lastClockRevert: Duration = .seconds(-60)
    /// The node proposing the entry being committed (for reports).
    var proposer = 0
    /// The node whose resume is being handled (see ``fence(_:)``).
    var resuming: Int?
    /// Submissions not yet seen committed, retried by the client, by idempotency key.
    var outstanding: [String: Command] = [:]
    /// Submissions seen committed.
    var acknowledged: Set<String> = []
    /// The last data directory incarnation handed out (a node that loses its log gets the next).
    var lastIncarnation: UInt64 = 0
    /// The last process incarnation handed out (every start of a node draws the next; far from
    /// the directory incarnations, so the two never coincide).
    var lastProcess: UInt64 = 1 << 32
    /// True wall clock at simulated time zero.
    let epochMs: Int64 = 1_800_000_000_000

    /// A history for `seed`.
    public init(seed: UInt64, settings: SchedulerSimulationSettings = SchedulerSimulationSettings()) {
        self.seed = seed
        self.settings = settings
        random = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        blocked = Array(repeating: Array(repeating: 0, count: settings.nodes), count: settings.nodes)
        applied = Array(repeating: 0, count: settings.nodes)
        let core = settings.coreSettings()
        for i in 0..<settings.nodes {
            let skew = Int64(random.below(101)) - 50
            let incarnation = UInt64(i + 1)
            lastProcess += 1
            nodes.append(SimNode(core: NodeCore(id: Self.nodeID(i), settings: core, started: MonotonicTime(.zero),
                                                startedWall: Timestamp(epochMs + skew), incarnation: incarnation,
                                                processIncarnation: Self.process(lastProcess, settings.mutations),
                                                mutations: settings.mutations),
                                 skewMs: skew, slots: AttemptSlots(slots: settings.slots, holds: settings.prefetch > 0), incarnation: incarnation))
        }
        lastIncarnation = UInt64(settings.nodes)
        invariants.oracle = SchedulerState(config: Self.config(settings.mutations))
    }

    static func config(_ mutations: MutationSwitch) -> SchedulerConfig {
        var config = SchedulerConfig()
        config.mutations = mutations
        return config
    }

    static func nodeID(_ i: Int) -> Raft.NodeID { Raft.NodeID("n\(i + 1)") }

    // MARK: Running

    /// Runs the history to its end: the fault phase, then healing until every job is terminal.
    public mutating func run() throws(SchedulerViolation) -> SchedulerHistoryStats {
        queue.schedule(.replicate, at: .milliseconds(20))
        queue.schedule(.electionCheck, at: .milliseconds(50))
        queue.schedule(.leaderTick, at: .milliseconds(100))
        queue.schedule(.fault, at: .seconds(2))
        queue.schedule(.submit, at: .milliseconds(500))
        queue.schedule(.invariantSweep, at: .milliseconds(100))
        for i in nodes.indices { queue.schedule(.executorTick(node: i, epoch: 0), at: settings.lease / 8) }
        submitCronJobs()
        let end = settings.faultPhase + settings.healDeadline
        while let (at, event) = queue.pop() {
            now = at
            stats.events += 1
            try handle(event)
            if now >= settings.faultPhase, now.components.seconds % 5 == 0, allTerminal() { break }
            if now > end { break }
        }
        try finalChecks()
        stats.entries = log.count
        return stats
    }

    mutating func step(_ text: String) {
        steps.append("\(now) \(text)")
        if steps.count > 4_000 { steps.removeFirst(steps.count - 2_000) }
    }

    func violation(_ invariant: String, _ message: String) -> SchedulerViolation {
        SchedulerViolation(invariant: invariant, message: message, seed: seed, at: now, lastSteps: Array(steps.suffix(verboseSteps ? 2_000 : 40)))
    }

    mutating func handle(_ event: SimEvent) throws(SchedulerViolation) {
        switch event {
        case .replicate:
            try replicate()
            queue.schedule(.replicate, at: now + .milliseconds(20))
        case .electionCheck:
            try electionCheck()
            queue.schedule(.electionCheck, at: now + .milliseconds(50))
        case .leaderTick:
            try leaderTick()
            queue.schedule(.leaderTick, at: now + .milliseconds(100))
        case .executorTick(let node, let epoch):
            guard nodes[node].epoch == epoch, nodes[node].up else { return }
            queue.schedule(.executorTick(node: node, epoch: epoch), at: now + settings.lease / 8)
            guard !nodes[node].paused else { return }
            try executorTick(node)
        case .deliver(let message):
            try deliver(message)
        case .processEnd(let id, let generation):
            try processEnded(id, generation: generation)
        case .processKilled(let id):
            try killed(id)
        case .restart(let node, let lostLog):
            try restart(node, lostLog: lostLog)
        case .resume(let node):
            try resume(node)
        case .heal(let from, let to):
            blocked[from][to] -= 1
            if blocked[from][to] == 0 { step("heal n\(from + 1)→n\(to + 1)") }
        case .clockRevert(let node):
            nodes[node].jumpMs = 0
            lastClockRevert = now
            step("n\(node + 1) clock back")
        case .fault:
            injectFault()
            if now < settings.faultPhase { queue.schedule(.fault, at: now + .milliseconds(500 + random.below(2_000))) }
        case .submit:
            if now < settings.submissionPhase {
                try submitOnce()
            } else {
                try resubmit()
            }
            if now < settings.submissionPhase || !outstanding.isEmpty {
                queue.schedule(.submit, at: now + .milliseconds(100 + random.below(400)))
            }
        case .reportRetry(let node, let epoch):
            guard nodes[node].epoch == epoch, nodes[node].up else { return }
            try resendReports(node)
            queue.schedule(.reportRetry(node: node, epoch: epoch), at: now + .milliseconds(300))
        case .invariantSweep:
            try invariants.checkStuckAttempts(self)
            queue.schedule(.invariantSweep, at: now + .milliseconds(100))
        }
    }

    // MARK: Time

    /// Node `i`'s wall clock now.
    func wallClock(_ i: Int) -> Timestamp {
        Timestamp(epochMs + Self.ms(now) + nodes[i].skewMs + nodes[i].jumpMs)
    }

    /// True time now.
    var trueTime: Timestamp { Timestamp(epochMs + Self.ms(now)) }

    var monotonic: MonotonicTime { MonotonicTime(now) }

    static func ms(_ d: Duration) -> Int64 {
        let (s, a) = d.components
        return s * 1_000 + a / 1_000_000_000_000_000
    }

    // MARK: Links

    func canReach(_ from: Int, _ to: Int) -> Bool {
        from == to || (blocked[from][to] == 0 && nodes[from].up && nodes[to].up && !nodes[from].paused && !nodes[to].paused)
    }

    /// Whether `i` and a majority (itself included) exchange messages both ways.
    func hasMajority(_ i: Int) -> Bool {
        let reachable = nodes.indices.filter { canReach(i, $0) && canReach($0, i) }.count
        return reachable > nodes.count / 2
    }

    mutating func send(_ body: SimMessage.Body, from: Int, to: Int) {
        guard from != to else { return }
        guard canReach(from, to) else { return }
        let message = SimMessage(from: from, to: to, fromEpoch: nodes[from].epoch, body: body)
        queue.schedule(.deliver(message), at: now + .milliseconds(1 + random.below(15)))
    }
}
