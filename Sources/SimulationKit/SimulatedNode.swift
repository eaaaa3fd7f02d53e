import RaftCore

extension Simulation {
    /// One node of a simulated cluster: the Raft instance (absent while crashed), its disk,
    /// its clock, its state machine and the client requests it has accepted.
    struct SimulatedNode: Sendable {
        let id: Raft.NodeID
        /// Fixed at creation, except that a wipe makes the node abstain from elections for good.
        var config: Raft.Config
        /// Founding members start with the founding membership; spares start with none.
        let bootstrapMembership: Raft.Membership
        var instance: Raft.Instance?
        var disk = SimulatedDisk()
        /// Simulated time between two ticks of this node's clock (clocks are skewed).
        var tickPeriod: Time
        /// Bumped on every crash, so events scheduled for an earlier incarnation are ignored.
        var epoch: UInt64 = 0
        var syncScheduled = false
        var restartScheduled = false
        /// Crash as soon as the current event is handled (set by crash-before-sync hooks).
        var crashRequested = false

        /// The images of the snapshots this node may be asked to send chunks of
        /// (`Action.sendSnapshotChunk`): its latest and those still in transfer, as a shell keeps
        /// their files.
        var snapshotImages: [Raft.LogIndex: [UInt8]] = [:]

        /// The state machine: an append-only register; `lastValue` is the last value written.
        var appliedIndex: UInt64 = 0
        var lastValue: UInt64 = 0

        /// Proposals accepted here, by log index: the term they were appended in and their value.
        var proposals: [UInt64: (term: Raft.Term, value: UInt64)] = [:]
        /// Reads asked here and not yet confirmed: context → acknowledged floor when asked.
        var reads: [Raft.ReadContext: UInt64] = [:]
        /// Confirmed reads waiting for the state machine to reach their index.
        var waitingReads: [(context: Raft.ReadContext, floor: UInt64, index: UInt64)] = []

        var isUp: Bool { instance != nil }

        init(id: Raft.NodeID, config: Raft.Config, bootstrapMembership: Raft.Membership, tickPeriod: Time) {
            self.id = id
            self.config = config
            self.bootstrapMembership = bootstrapMembership
            self.tickPeriod = tickPeriod
        }

        /// The snapshot payload of the register state machine: applied index and last value.
        var stateMachineData: [UInt8] {
            (0..<8).map { UInt8(truncatingIfNeeded: appliedIndex >> (8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: lastValue >> (8 * $0)) }
        }

        mutating func restoreStateMachine(from snapshot: Raft.Snapshot?) {
            guard let snapshot else {
                appliedIndex = 0
                lastValue = 0
                return
            }
            appliedIndex = snapshot.metadata.index.rawValue
            lastValue = snapshot.data.count >= 16 ? Self.decodeValue(Array(snapshot.data[8..<16])) : 0
        }

        static func encodeValue(_ value: UInt64) -> [UInt8] {
            (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }

        static func decodeValue(_ bytes: [UInt8]) -> UInt64 {
            var value: UInt64 = 0
            for (offset, byte) in bytes.prefix(8).enumerated() { value |= UInt64(byte) << (8 * offset) }
            return value
        }
    }
}
