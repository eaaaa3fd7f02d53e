import Node
import RaftCore

/// Where the leader appends what its clients propose — its own clients' writes and its
/// followers' forwarded batches alike — through one ``ProposalBatcher``: at most one batch in
/// flight, so the groups of entries that arrive while one is being committed and applied go
/// together as the next, in arrival order, each group's entries at consecutive indexes.
///
/// Why one queue for both: every batch costs the same whatever its size — a hop to the driver, a
/// log write and its `fdatasync` on every node, an AppendEntries to and an answer from every
/// follower, the wake-ups of the tasks that carry them. Proposed on their own, the leader's own
/// writes and each follower's forwarded batch were each such a batch; together they are one
/// (docs/node.md, "Batched proposals"). A group that finds nothing in flight goes at once,
/// alone: no timer adds latency at low load.
///
/// Outcomes are each entry's own, as ``Node/RaftDriver/proposeEach(_:)`` gives them: an index
/// once applied here, or the driver's error (an entry over `max_entry_bytes` fails alone).
final class LeaderAppendGate: Sendable {
    typealias Outcome = Result<Raft.LogIndex, RaftDriverError>

    /// Groups in one batch at most, and their entries' bytes (a batch takes at least one group;
    /// a follower's forwarded batch is at most 8 MiB of commands too, `ForwardCoalescer`).
    static let maxBatch = (groups: 256, bytes: 8 << 20)

    let driver: RaftDriver
    private let batcher: ProposalBatcher<[[UInt8]], [Outcome]>

    init(driver: RaftDriver) {
        self.driver = driver
        batcher = ProposalBatcher(maxItems: Self.maxBatch.groups, maxBytes: Self.maxBatch.bytes,
                                  size: { group in group.reduce(0) { $0 + $1.count } },
                                  proposeTogether: { groups in await Self.append(groups, on: driver) },
                                  unanswered: { group in group.map { _ in .failure(Self.abandoned) } })
    }

    /// Batches appended so far (tests).
    var batchesAppended: UInt64 { batcher.batchesProposed }

    /// Appends `entries` together (with whatever else goes in their batch) and returns each one's
    /// outcome, in order.
    func append(_ entries: [[UInt8]]) async -> [Outcome] {
        guard !entries.isEmpty else { return [] }
        return await batcher.propose(entries)
    }

    /// Appends `entry` and returns its outcome.
    func append(_ entry: [UInt8]) async -> Outcome {
        await append([entry]).first ?? .failure(Self.abandoned)
    }

    /// One proposal to the driver for every group's entries, split back per group (each group
    /// gets exactly one outcome per entry).
    private static func append(_ groups: [[[UInt8]]], on driver: RaftDriver) async -> [[Outcome]] {
        let outcomes = await driver.proposeEach(groups.flatMap { $0 })
        var split: [[Outcome]] = []
        split.reserveCapacity(groups.count)
        var start = 0
        for group in groups {
            split.append((start..<start + group.count).map { $0 < outcomes.count ? outcomes[$0] : .failure(Self.abandoned) })
            start += group.count
        }
        return split
    }

    /// The outcome of an entry the batch left without one (never expected: `proposeEach` answers
    /// every entry).
    private static let abandoned = RaftDriverError(code: .leadershipLost,
                                                   message: "the proposal was abandoned; its outcome is unknown, retry idempotently")
}
