import Node
import NodeCore
import RaftCore
import SchedulerCore
import SchedulerPlanning

/// The leader's one step from a client's command to log-entry bytes — for its own clients
/// (``RaftReplica``) and for followers' forwards (``ForwardHandler``) alike: stamp with the
/// bounded clock, resolve every relative time against that stamp, and pass the format gate over
/// every configured member (``NodeCore/LeaderRefusal/resolve(_:at:defaults:builds:members:self:)``).
struct LeaderResolver: Sendable {
    /// The bounded stamp clock (``StampClock/now()``).
    let clock: @Sendable () -> Timestamp
    /// The build versions members reported this term (``PeerLink/memberBuilds()``).
    let builds: @Sendable () -> MemberBuilds
    /// Every voter and learner of the latest configuration (``MembershipView/memberIDs``).
    let members: @Sendable () -> Set<Raft.NodeID>
    /// This node.
    let selfID: Raft.NodeID
    /// `[scheduler]`: stamped into submits that left a value to the cluster.
    var defaults = SubmissionDefaults.builtIn
    /// The leader's own check of what the command would run (``QuorumNode/Admission``): the
    /// node that took the request checked it with its copy of the policy; the leader checks
    /// every command it proposes, its followers' forwards included, with its own.
    var admission: QuorumNode.Admission?
    /// `[quotas]` as this leader has them, and the counts they are checked against (the state
    /// machine's, O(1)); `nil`, no quota check (tests that do not configure one).
    var quotas: (limits: AdmissionQuotas, gauges: AdmissionGauges)?
    /// Called with each quota refusal (counts `quorum_quota_refusals_total`).
    var onQuotaRefusal: @Sendable (QuotaRefusal) -> Void = { _ in }

    /// The encoded entry for `unstamped`, stamped now.
    func entry(for unstamped: UnstampedCommand) throws(LeaderRefusal) -> [UInt8] {
        let stamped = try LeaderRefusal.resolve(unstamped, at: clock(), defaults: defaults, builds: builds(), members: members(),
                                                self: selfID)
        if let problem = admission?(stamped.command) { throw .invalid(problem) }
        let bytes = CommandCodec.encode(stamped)
        if let (limits, gauges) = quotas,
           let refusal = limits.refusal(for: stamped.command, entryBytes: bytes.count, unfinishedRuns: gauges.unfinishedRuns,
                                        stateBytes: gauges.stateBytes) {
            onQuotaRefusal(refusal)
            throw .quotaExceeded(refusal)
        }
        return bytes
    }
}

/// The leader's side of forwarding: resolve the command with the leader's own stamp and propose it.
enum ForwardHandler {
    /// The outcome of proposing a forwarded command. A stamped one (frame 2, from any build) is
    /// re-stamped; an unstamped one (frame 8) has its relative times resolved. Both pass the
    /// format gate; a command over the driver's `maxEntryBytes` is answered `.entryTooLarge`
    /// without being proposed.
    ///
    /// The entry goes through `appends` (the node's ``LeaderAppendGate``), batched with the
    /// leader's other appends.
    static func propose(_ request: PeerLink.ForwardRequest, through appends: LeaderAppendGate,
                        resolver: LeaderResolver) async -> ForwardedOutcome.Result {
        let bytes: [UInt8]
        switch entry(for: request, resolver: resolver) {
        case .entry(let entry): bytes = entry
        case .answered(let result): return result
        }
        switch await appends.append(bytes) {
        case .success(let index): return .applied(index)
        case .failure(let error): return result(of: error, entryBytes: bytes.count, on: appends.driver)
        }
    }

    /// The outcomes of proposing a batch of forwarded commands (frame 20), in order: each is
    /// resolved and checked on its own (one refused or too large is answered so without failing
    /// its neighbours), and the rest are appended together (``Node/RaftDriver/propose(batch:)``):
    /// one log write and one AppendEntries per follower for the batch, each entry's own outcome —
    /// through `appends` (the node's ``LeaderAppendGate``).
    static func propose(batch requests: [PeerLink.ForwardRequest], through appends: LeaderAppendGate,
                        resolver: LeaderResolver) async -> [ForwardedOutcome.Result] {
        var results = [ForwardedOutcome.Result](repeating: .outcomeUnknown(message: "the forwarded batch was abandoned"),
                                                count: requests.count)
        var entries: [[UInt8]] = []
        var slots: [Int] = []
        for (slot, request) in requests.enumerated() {
            switch entry(for: request, resolver: resolver) {
            case .entry(let bytes):
                entries.append(bytes)
                slots.append(slot)
            case .answered(let result):
                results[slot] = result
            }
        }
        guard !entries.isEmpty else { return results }
        for (position, outcome) in await appends.append(entries).enumerated() where position < slots.count {
            switch outcome {
            case .success(let index): results[slots[position]] = .applied(index)
            case .failure(let error): results[slots[position]] = result(of: error, entryBytes: entries[position].count, on: appends.driver)
            }
        }
        return results
    }

    /// A forward's entry bytes, or the answer that refuses it.
    private enum Prepared {
        case entry([UInt8])
        case answered(ForwardedOutcome.Result)
    }

    /// Resolves `request` with the leader's stamp into its entry's bytes, or the refusal to answer.
    private static func entry(for request: PeerLink.ForwardRequest, resolver: LeaderResolver) -> Prepared {
        let unstamped: UnstampedCommand
        let isUnstamped: Bool
        switch request {
        case .stamped(let bytes):
            do {
                unstamped = UnstampedCommand(try CommandCodec.decode(bytes).command)
            } catch {
                return .answered(.notProposed(leaderHint: nil, message: "the forwarded command is not decodable by the leader: \(error)"))
            }
            isUnstamped = false
        case .unstamped(let command):
            unstamped = command
            isUnstamped = true
        }
        do {
            return .entry(try resolver.entry(for: unstamped))
        } catch {
            switch error {
            case .invalid(let problem):
                return .answered(isUnstamped ? .invalid(problem) : .notProposed(leaderHint: nil, message: problem.description))
            case .upgradeInProgress(let refusal):
                // An older follower cannot decode tag 5: it retries `notProposed` until its wait ends.
                return .answered(isUnstamped ? .upgradeInProgress(message: refusal.message)
                    : .notProposed(leaderHint: nil, message: refusal.message))
            case .quotaExceeded(let refusal):
                // Tag 6 only to followers that send unstamped forwards (builds that know it).
                return .answered(isUnstamped ? .quotaExceeded(refusal) : .notProposed(leaderHint: nil, message: refusal.message))
            }
        }
    }

    /// The answer for a proposal the driver refused or could not see through.
    private static func result(of error: RaftDriverError, entryBytes: Int, on driver: RaftDriver) -> ForwardedOutcome.Result {
        switch error.code {
        case .entryTooLarge: .entryTooLarge(size: entryBytes, limit: driver.maxEntryBytes)
        case .notLeader, .refused: .notProposed(leaderHint: error.leaderHint, message: error.message)
        default: .outcomeUnknown(message: error.message)
        }
    }
}
