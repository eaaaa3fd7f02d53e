import BinaryCoding
import DeterministicRandom
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Testing

@Suite("The batched forwarding frames (20 and 21)")
struct ForwardBatchFramesTests {
    static let commands: [UnstampedCommand] = [
        .submit(SubmitJob(jobID: "j1", spec: JobSpec(name: "a"), runID: "r1"), .afterStamp(milliseconds: 0)),
        .submit(SubmitJob(jobID: "j2", spec: JobSpec(name: "b"), runID: "r2"), .afterStamp(milliseconds: 30_000)),
        UnstampedCommand(.cancelJob("j1")),
    ]

    static var batch: ForwardBatch {
        ForwardBatch(items: commands.enumerated().map { ForwardBatch.Item(requestID: UInt64(10 + $0.offset), command: $0.element.encoded()) })
    }

    static let answer = ForwardBatchOutcome(outcomes: [
        ForwardedOutcome(requestID: 10, result: .applied(Raft.LogIndex(41))),
        ForwardedOutcome(requestID: 11, result: .invalid(UnstampedCommand.ResolveError(batchIndex: nil, field: "schedule", message: "never"))),
        ForwardedOutcome(requestID: 12, result: .entryTooLarge(size: 5 << 20, limit: 4 << 20)),
        ForwardedOutcome(requestID: 13, result: .notProposed(leaderHint: "n3", message: "not the leader")),
    ])

    @Test("a batch and its answer survive a round trip, in order; the frame numbers are the assigned ones")
    func roundTrip() throws {
        let decoded = try ForwardBatch(decoding: Self.batch.encoded())
        #expect(decoded.items == Self.batch.items)
        let commands = try decoded.decodedCommands().map { try $0.command.get() }
        #expect(commands == Self.commands)
        #expect(try ForwardBatch(decoding: ForwardBatch(items: []).encoded()).items.isEmpty)
        let outcomes = try ForwardBatchOutcome.decode(Self.answer.encoded()).map { try $0.get() }
        #expect(outcomes == Self.answer.outcomes)
        #expect(PeerFrameType.forwardBatch.rawValue == 20 && PeerFrameType.forwardBatchOutcome.rawValue == 21)
    }

    @Test("one undecodable command or answer costs only its own request")
    func undecodableItems() throws {
        var items = Self.batch.items
        items[1].command = [9, 1, 2]  // an unstamped command version 9
        let decoded = try ForwardBatch(decoding: ForwardBatch(items: items).encoded()).decodedCommands()
        #expect(decoded.map(\.requestID) == [10, 11, 12])
        #expect((try? decoded[0].command.get()) == Self.commands[0])
        #expect((try? decoded[1].command.get()) == nil)
        #expect((try? decoded[2].command.get()) == Self.commands[2])
        // An answer with an unknown tag (a newer build's) in the middle: that request alone is unreadable.
        var w = BinaryWriter()
        w.writeArray([ForwardedOutcome(requestID: 1, result: .applied(Raft.LogIndex(5))).encoded(), [7, 99],
                      ForwardedOutcome(requestID: 3, result: .applied(Raft.LogIndex(6))).encoded()]) { w, item in w.write(item) }
        let answers = try ForwardBatchOutcome.decode(w.bytes)
        #expect((try? answers[0].get())?.result == .applied(Raft.LogIndex(5)))
        guard case .failure(let unreadable) = answers[1] else {
            Issue.record("expected the unknown tag to be unreadable")
            return
        }
        #expect(unreadable.requestID == 7)
        #expect((try? answers[2].get())?.requestID == 3)
    }

    @Test("truncated batches, bad counts and lengths, trailing bytes and random bytes are errors, never crashes",
          arguments: [UInt64(20), 21, 22])
    func garbage(seed: UInt64) {
        print("ForwardBatchFramesTests.garbage seed \(seed)")
        var random = SplitMix64(seed: seed)
        for valid in [Self.batch.encoded(), Self.answer.encoded()] {
            for cut in 0..<valid.count {
                #expect(throws: (any Error).self) { try ForwardBatch(decoding: Array(valid.prefix(cut))) }
                #expect(throws: (any Error).self) { try ForwardBatchOutcome.decode(Array(valid.prefix(cut))) }
            }
            #expect(throws: (any Error).self) { try ForwardBatch(decoding: valid + [0]) }
            #expect(throws: (any Error).self) { try ForwardBatchOutcome.decode(valid + [0]) }
        }
        // A count far beyond the bytes, and an item length beyond them.
        var huge = BinaryWriter()
        huge.write(UInt64.max)
        #expect(throws: (any Error).self) { try ForwardBatch(decoding: huge.bytes) }
        #expect(throws: (any Error).self) { try ForwardBatchOutcome.decode(huge.bytes) }
        var long = BinaryWriter()
        long.write(UInt64(1))
        long.write(UInt64(5))
        long.write(UInt64(1 << 40))
        #expect(throws: (any Error).self) { try ForwardBatch(decoding: long.bytes) }
        for _ in 0..<3_000 {
            var bytes = (0..<random.below(40)).map { _ in UInt8(random.below(256)) }
            _ = (try? ForwardBatch(decoding: bytes))?.decodedCommands()
            _ = try? ForwardBatchOutcome.decode(bytes)
            // Flip a byte of a valid frame: decodes or throws, never traps.
            bytes = Self.batch.encoded()
            bytes[random.below(bytes.count)] = UInt8(random.below(256))
            _ = (try? ForwardBatch(decoding: bytes))?.decodedCommands()
        }
    }
}
