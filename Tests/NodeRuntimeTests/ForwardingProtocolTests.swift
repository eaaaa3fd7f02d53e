import DeterministicRandom
@testable import NodeRuntime
import RaftCore
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
        ] {
            let outcome = ForwardedOutcome(requestID: 9, result: result)
            #expect(try ForwardedOutcome(decoding: outcome.encoded()) == outcome)
        }
    }

    @Test("truncated, extended and random bytes are errors, never crashes", arguments: [UInt64(1), 2, 3])
    func garbage(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let valid = ForwardedOutcome(requestID: 3, result: .notProposed(leaderHint: "n1", message: "x")).encoded()
        for cut in 0..<valid.count {
            #expect(throws: (any Error).self) { try ForwardedOutcome(decoding: Array(valid.prefix(cut))) }
        }
        #expect(throws: (any Error).self) { try ForwardedOutcome(decoding: valid + [0]) }
        for _ in 0..<2_000 {
            let bytes = (0..<Int(random.below(24))).map { _ in UInt8(random.below(256)) }
            _ = try? ForwardedOutcome(decoding: bytes)
            _ = try? ForwardedProposal(decoding: bytes)
        }
    }
}
