import DeterministicRandom
import NodeCore
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Testing

@Suite("The forwarding messages between a follower and the leader")
struct ForwardingProtocolTests {
    @Test("proposals and every kind of outcome survive a round trip")
    func roundTrip() throws {
        let proposal = ForwardedProposal(requestID: 42, command: [1, 2, 3, 255])
        #expect(try ForwardedProposal(decoding: proposal.encoded()) == proposal)
        for result: ForwardedOutcome.Result in [
            .applied(Raft.LogIndex(7)), .notProposed(leaderHint: "n2", message: "not the leader"),
            .notProposed(leaderHint: nil, message: ""), .outcomeUnknown(message: "leadership lost"),
            .entryTooLarge(size: 20_971_520, limit: 4_194_304), .entryTooLarge(size: 0, limit: 0),
            .invalid(UnstampedCommand.ResolveError(batchIndex: nil, field: "schedule", message: "never fires after now")),
            .invalid(UnstampedCommand.ResolveError(batchIndex: 0, field: "schedule", message: "")),
            .invalid(UnstampedCommand.ResolveError(batchIndex: 9_999, field: "run_at", message: "x")),
            .upgradeInProgress(message: "upgrade in progress: n3 (format 1)"),
            .quotaExceeded(QuotaRefusal(quota: .maxPendingJobs, current: 10, adding: 3, limit: 12)),
            .quotaExceeded(QuotaRefusal(quota: .maxStateBytes, current: 2 << 30, adding: 512, limit: 2 << 30)),
        ] {
            let outcome = ForwardedOutcome(requestID: 9, result: result)
            #expect(try ForwardedOutcome(decoding: outcome.encoded()) == outcome)
        }
    }

    @Test("an unstamped forward (frame 8) survives a round trip; its frame type is new and the old ones keep their numbers")
    func unstampedRoundTrip() throws {
        let spec = JobSpec(name: "c", schedule: CronSchedule(expression: "0 * * * *", timezone: "Europe/Berlin"))
        let command = UnstampedCommand.batch([
            (SubmitJob(jobID: "j1", spec: JobSpec(name: "a"), runID: "r1"), .afterStamp(milliseconds: 30_000)),
            (SubmitJob(jobID: "j2", spec: spec, runID: "unused"), .firstFireAfterStamp),
        ])
        let forward = ForwardedUnstamped(requestID: 77, command: command)
        #expect(try ForwardedUnstamped(decoding: forward.encoded()) == forward)
        #expect(PeerFrameType.forwardProposal.rawValue == 2 && PeerFrameType.forwardOutcome.rawValue == 3)
        #expect(PeerFrameType.forwardUnstamped.rawValue == 8)
        let bytes = forward.encoded()
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self) { try ForwardedUnstamped(decoding: Array(bytes.prefix(cut))) }
        }
        #expect(throws: (any Error).self) { try ForwardedUnstamped(decoding: bytes + [0]) }
    }

    @Test("truncated, extended and random bytes are errors, never crashes", arguments: [UInt64(1), 2, 3])
    func garbage(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for result: ForwardedOutcome.Result in [
            .notProposed(leaderHint: "n1", message: "x"), .upgradeInProgress(message: "y"),
            .invalid(UnstampedCommand.ResolveError(batchIndex: 2, field: "schedule", message: "z")),
            .quotaExceeded(QuotaRefusal(quota: .maxPendingJobs, current: 1, adding: 1, limit: 1)),
        ] {
            let valid = ForwardedOutcome(requestID: 3, result: result).encoded()
            for cut in 0..<valid.count {
                #expect(throws: (any Error).self) { try ForwardedOutcome(decoding: Array(valid.prefix(cut))) }
            }
            #expect(throws: (any Error).self) { try ForwardedOutcome(decoding: valid + [0]) }
        }
        for _ in 0..<2_000 {
            let bytes = (0..<Int(random.below(24))).map { _ in UInt8(random.below(256)) }
            _ = try? ForwardedOutcome(decoding: bytes)
            _ = try? ForwardedProposal(decoding: bytes)
            _ = try? ForwardedUnstamped(decoding: bytes)
        }
    }
}
