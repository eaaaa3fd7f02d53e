@testable import RaftCore

/// A tiny in-memory cluster for transcript tests: instances wired through a message list, with
/// storage that becomes durable only when flushed (automatically unless `autoPersist` is off).
struct TestCluster {
    struct Storage {
        var hardState = Raft.HardState()
        var entries: [Raft.Entry] = []
        var snapshot: Raft.Snapshot?
        /// Every snapshot image this node took or installed, by index: what a shell's kept
        /// files would serve `.sendSnapshotChunk` from.
        var images: [Raft.LogIndex: [UInt8]] = [:]
        /// Persistence actions written but not yet durable.
        var pending: [Raft.Action] = []
    }

    var ids: [Raft.NodeID]
    var bootstrap: Raft.Membership
    var configs: [Raft.NodeID: Raft.Config] = [:]
    var nodes: [Raft.NodeID: Raft.Instance] = [:]
    var storage: [Raft.NodeID: Storage] = [:]
    /// Messages in flight, in send order.
    var network: [Raft.Message] = []
    /// Every message ever delivered or sent, for transcript assertions.
    var sent: [Raft.Message] = []
    var applied: [Raft.NodeID: [Raft.Entry]] = [:]
    var readsReady: [Raft.NodeID: [Raft.ReadState]] = [:]
    var readsFailed: [Raft.NodeID: [Raft.ReadContext]] = [:]
    /// Messages each node dropped by validation.
    var droppedMessages: [Raft.NodeID: [Raft.DroppedMessage]] = [:]
    var autoPersist: Set<Raft.NodeID>
    var isolated: Set<Raft.NodeID> = []
    var cutLinks: Set<[Raft.NodeID]> = []
    var crashed: Set<Raft.NodeID> = []
    var seed: UInt64
    var restarts: UInt64 = 0

    init(voters: [Raft.NodeID], learners: [Raft.NodeID] = [], seed: UInt64 = 1,
         configure: (inout Raft.Config) -> Void = { _ in })
    {
        self.ids = voters + learners
        self.bootstrap = Raft.Membership(voters: Set(voters), learners: Set(learners))
        self.autoPersist = Set(ids)
        self.seed = seed
        for (offset, id) in ids.enumerated() {
            var config = Raft.Config(id: id)
            configure(&config)
            configs[id] = config
            nodes[id] = Raft.Instance(config: config, membership: bootstrap, seed: seed &+ UInt64(offset))
            storage[id] = Storage()
            applied[id] = []
        }
    }

    /// Adds a brand-new node that is not in anyone's configuration yet.
    mutating func addBlankNode(_ id: Raft.NodeID) {
        ids.append(id)
        configs[id] = Raft.Config(id: id)
        nodes[id] = Raft.Instance(config: Raft.Config(id: id), membership: Raft.Membership(voters: []), seed: seed &+ 99)
        storage[id] = Storage()
        applied[id] = []
        autoPersist.insert(id)
    }

    subscript(id: Raft.NodeID) -> Raft.Instance {
        get {
            guard let node = nodes[id] else { preconditionFailure("no node \(id)") }
            return node
        }
        set { nodes[id] = newValue }
    }

    // MARK: Driving

    /// Runs an input on `id` and carries out its actions.
    mutating func input(_ id: Raft.NodeID, _ body: (inout Raft.Instance) -> [Raft.Action]) {
        guard !crashed.contains(id), var node = nodes[id] else { return }
        let actions = body(&node)
        nodes[id] = node
        perform(actions, on: id)
    }

    mutating func tick(_ id: Raft.NodeID, times: Int = 1) {
        for _ in 0..<times { input(id) { $0.tick() } }
    }

    mutating func tickAll(times: Int = 1) {
        for _ in 0..<times {
            for id in ids { tick(id) }
        }
    }

    mutating func perform(_ actions: [Raft.Action], on id: Raft.NodeID) {
        for action in actions {
            switch action {
            case .persistHardState, .truncateLog, .appendLog, .installSnapshot, .compactLog:
                if case .installSnapshot(let snapshot) = action { storage[id, default: Storage()].images[snapshot.metadata.index] = snapshot.data }
                storage[id, default: Storage()].pending.append(action)
            case .send(let message):
                sent.append(message)
                network.append(message)
            case .sendSnapshotChunk(let read):
                guard let chunk = read.chunk, let image = storage[id]?.images[chunk.metadata.index] else { break }
                let message = read.message(filledWith: Array(image[chunk.offset..<chunk.offset + read.length]))
                sent.append(message)
                network.append(message)
            case .apply(let entries):
                applied[id, default: []].append(contentsOf: entries)
                if let last = entries.last {
                    let index = last.index
                    input(id) { $0.applied(through: index) }
                }
            case .readReady(let read):
                readsReady[id, default: []].append(read)
            case .readFailed(let context):
                readsFailed[id, default: []].append(context)
            case .droppedMessage(let dropped):
                droppedMessages[id, default: []].append(dropped)
            case .takeSnapshot, .leadershipChanged, .membershipChanged:
                break
            }
        }
        if autoPersist.contains(id) { flush(id) }
    }

    /// Makes `id`'s pending writes durable and reports them.
    mutating func flush(_ id: Raft.NodeID) {
        guard var disk = storage[id], !disk.pending.isEmpty else { return }
        var hardState: Raft.HardState?
        for action in disk.pending {
            switch action {
            case .persistHardState(let state):
                disk.hardState = state
                hardState = state
            case .truncateLog(let from):
                disk.entries.removeAll { $0.index >= from }
            case .appendLog(let entries):
                disk.entries.append(contentsOf: entries)
            case .installSnapshot(let snapshot):
                disk.snapshot = snapshot
                disk.entries = []
            case .compactLog(let through):
                disk.entries.removeAll { $0.index <= through }
            default:
                break
            }
        }
        disk.pending = []
        storage[id] = disk
        if let hardState { input(id) { $0.persisted(hardState: hardState) } }
        if let last = disk.entries.last {
            input(id) { $0.persisted(through: last.index, term: last.term) }
        } else if let snapshot = disk.snapshot {
            input(id) { $0.persisted(through: snapshot.metadata.index, term: snapshot.metadata.term) }
        }
    }

    func canDeliver(_ message: Raft.Message) -> Bool {
        !isolated.contains(message.from) && !isolated.contains(message.to)
            && !cutLinks.contains([message.from, message.to]) && !crashed.contains(message.to)
    }

    /// Delivers one message (the first in flight), dropping it if the link is cut.
    mutating func deliverNext() {
        let message = network.removeFirst()
        guard canDeliver(message) else { return }
        input(message.to) { $0.receive(message) }
    }

    /// Delivers messages until none are in flight.
    mutating func stabilize(maxMessages: Int = 100_000) {
        var delivered = 0
        while !network.isEmpty, delivered < maxMessages {
            deliverNext()
            delivered += 1
        }
        precondition(network.isEmpty, "cluster did not settle after \(maxMessages) messages")
    }

    /// Removes and returns the messages in flight matching `filter`.
    mutating func take(where filter: (Raft.Message) -> Bool) -> [Raft.Message] {
        let taken = network.filter(filter)
        network.removeAll(where: filter)
        return taken
    }

    mutating func deliver(_ messages: [Raft.Message]) {
        for message in messages where canDeliver(message) {
            input(message.to) { $0.receive(message) }
        }
    }

    /// Makes `id` campaign (skipping its random timeout) and settles the cluster.
    mutating func elect(_ id: Raft.NodeID) {
        let timeout = self[id].randomizedElectionTimeout
        for _ in 0..<timeout { tick(id) }
        stabilize()
    }

    mutating func propose(_ id: Raft.NodeID, _ text: String) throws(Raft.RaftError) -> Raft.Proposal {
        guard var node = nodes[id] else { preconditionFailure("no node \(id)") }
        let proposal = try node.propose(Array(text.utf8))
        nodes[id] = node
        perform(proposal.actions, on: id)
        return proposal
    }

    /// The shell takes a snapshot of `id`'s state machine through `index` and stores it durably.
    mutating func takeSnapshot(_ id: Raft.NodeID, through index: Raft.LogIndex, data: [UInt8]) throws(Raft.RaftError) {
        guard var node = nodes[id] else { return }
        let actions = try node.snapshotTaken(through: index, byteCount: data.count)
        nodes[id] = node
        if let metadata = node.snapshotMetadata {
            storage[id]?.snapshot = Raft.Snapshot(metadata: metadata, data: data)
            storage[id]?.images[metadata.index] = data
        }
        perform(actions, on: id)
    }

    // MARK: Crashes

    /// Loses every unflushed write and the in-memory instance. Messages already in flight stay
    /// in flight (they may reach the restarted node, as datagrams could).
    mutating func crash(_ id: Raft.NodeID) {
        crashed.insert(id)
        storage[id]?.pending = []
    }

    /// Restarts `id` from its durable storage.
    mutating func restart(_ id: Raft.NodeID) {
        crashed.remove(id)
        guard let disk = storage[id], let config = configs[id] else { return }
        let state = Raft.PersistedState(hardState: disk.hardState, snapshot: disk.snapshot, entries: disk.entries,
                                        bootstrapMembership: bootstrap)
        if let snapshot = disk.snapshot { storage[id]?.images[snapshot.metadata.index] = snapshot.data }
        restarts += 1
        // Its incarnation file exists (`wipe` started the instance that created it): not new.
        var restarted = config
        restarted.incarnationIsNew = false
        configs[id] = restarted
        nodes[id] = Raft.Instance(config: restarted, restoring: state, seed: seed &+ 1000 &+ restarts)
        // State machine rebuilt from the snapshot, then replayed through `.apply`.
        applied[id] = []
    }

    /// An operator wiped `id`'s data directory and started it again: empty storage, a fresh
    /// instance with the bootstrap membership, nothing applied. Messages in flight stay in flight.
    /// With `abstaining`, the restarted node neither votes nor campaigns.
    /// With `incarnation`, the new data directory has that new incarnation.
    mutating func wipe(_ id: Raft.NodeID, abstaining: Bool = false, incarnation: UInt64? = nil) {
        crashed.remove(id)
        if abstaining { configs[id]?.abstainsFromElections = true }
        if let incarnation {
            configs[id]?.incarnation = incarnation
            configs[id]?.incarnationIsNew = true
        }
        guard let config = configs[id] else { return }
        storage[id] = Storage()
        restarts += 1
        nodes[id] = Raft.Instance(config: config, membership: bootstrap, seed: seed &+ 2000 &+ restarts)
        applied[id] = []
    }

    /// Delivers at most `limit` messages; returns whether the network drained.
    mutating func settle(within limit: Int) -> Bool {
        var delivered = 0
        while !network.isEmpty, delivered < limit {
            deliverNext()
            delivered += 1
        }
        return network.isEmpty
    }

    // MARK: Views

    var leaders: [Raft.NodeID] { ids.filter { !crashed.contains($0) && nodes[$0]?.role == .leader } }

    func appliedData(_ id: Raft.NodeID) -> [String] {
        (applied[id] ?? []).filter { $0.kind == .normal }.map { String(decoding: $0.data, as: UTF8.self) }
    }

    func log(_ id: Raft.NodeID) -> [Raft.Entry] {
        guard let node = nodes[id] else { return [] }
        var result: [Raft.Entry] = []
        var index = node.firstLogIndex
        while index <= node.lastLogIndex {
            if let entry = node.entry(at: index) { result.append(entry) }
            index = index + 1
        }
        return result
    }
}

extension Raft.Message {
    var isAppend: Bool { if case .append = body { true } else { false } }
    var isVoteResponse: Bool { if case .voteResponse = body { true } else { false } }
    var isVoteRequest: Bool { if case .voteRequest = body { true } else { false } }
    var isAppendResponse: Bool { if case .appendResponse = body { true } else { false } }
    var isHeartbeat: Bool { if case .heartbeat = body { true } else { false } }
    var isHeartbeatResponse: Bool { if case .heartbeatResponse = body { true } else { false } }
}

func entry(_ term: UInt64, _ index: UInt64, _ text: String = "") -> Raft.Entry {
    Raft.Entry(term: Raft.Term(term), index: Raft.LogIndex(index), kind: .normal, data: Array(text.utf8))
}

let n1: Raft.NodeID = "n1"
let n2: Raft.NodeID = "n2"
let n3: Raft.NodeID = "n3"
let n4: Raft.NodeID = "n4"
let n5: Raft.NodeID = "n5"
