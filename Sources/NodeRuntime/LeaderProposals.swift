import Node
import NodeCore
import RaftCore
import SchedulerPlanning

/// A write this node proposes as leader for its own client: the command, and the size its entry
/// will have, give or take a varint (what bounds a batch's bytes).
struct LeaderProposal: Sendable {
    var command: UnstampedCommand
    var entryBytes: Int
}

/// What became of a write this node proposed as leader for its own client (``RaftReplica``).
enum LeaderProposalOutcome: Sendable {
    /// Proposed (or refused by the driver): the entry's index once applied here, or the driver's
    /// error; `entryBytes` is the entry's size.
    case proposed(Result<Raft.LogIndex, RaftDriverError>, entryBytes: Int)
    /// Refused by the leader's own checks before anything was appended.
    case refused(LeaderRefusal)
}

/// The leader's own clients' writes, batched (``ProposalBatcher``): each is resolved with the
/// leader's stamp when its batch goes — not when it arrived — and checked on its own, and the
/// ones that pass are appended together, as a follower's forwarded batch is
/// (``ForwardHandler/propose(batch:on:resolver:)``).
enum LeaderProposals {
    /// Proposals in one batch at most: Raft sends at most 256 entries per AppendEntries by
    /// default. Bytes in one batch at most: as a follower's forwarded batch (``ForwardCoalescer``).
    static let maxBatch = (items: 256, bytes: 8 << 20)

    /// The batcher for `driver`'s own clients.
    static func batcher(driver: RaftDriver, resolver: LeaderResolver) -> ProposalBatcher<LeaderProposal, LeaderProposalOutcome> {
        ProposalBatcher(maxItems: maxBatch.items, maxBytes: maxBatch.bytes, size: \.entryBytes, proposeTogether: { proposals in
            await propose(proposals.map(\.command), on: driver, resolver: resolver)
        }, unanswered: { _ in
            .proposed(.failure(RaftDriverError(code: .leadershipLost, message: "the proposal was abandoned; its outcome is unknown")),
                      entryBytes: 0)
        })
    }

    /// Each of `commands` stamped now, checked, and the admitted ones appended together; each
    /// one's outcome, in order.
    static func propose(_ commands: [UnstampedCommand], on driver: RaftDriver,
                        resolver: LeaderResolver) async -> [LeaderProposalOutcome] {
        var outcomes: [LeaderProposalOutcome] = []
        outcomes.reserveCapacity(commands.count)
        var entries: [[UInt8]] = []
        var slots: [Int] = []
        for command in commands {
            do {
                let bytes = try resolver.entry(for: command)
                slots.append(outcomes.count)
                entries.append(bytes)
                outcomes.append(.proposed(.failure(.init(code: .leadershipLost, message: "not proposed")), entryBytes: bytes.count))
            } catch {
                outcomes.append(.refused(error))
            }
        }
        guard !entries.isEmpty else { return outcomes }
        for (position, result) in await driver.proposeEach(entries).enumerated() where position < slots.count {
            outcomes[slots[position]] = .proposed(result, entryBytes: entries[position].count)
        }
        return outcomes
    }
}
