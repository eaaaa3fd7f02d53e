import DeterministicRandom
import NIOCore
import Testing

@testable import Transport

@Suite("Reconnection backoff")
struct BackoffTests {
    let backoff = Transport.Backoff(initial: .milliseconds(100), maximum: .seconds(5), multiplier: 2)

    @Test("nominal delays double from the initial delay and stop at the maximum")
    func nominal() {
        #expect(backoff.nominalDelay(attempt: 0) == .milliseconds(100))
        #expect(backoff.nominalDelay(attempt: 1) == .milliseconds(200))
        #expect(backoff.nominalDelay(attempt: 5) == .milliseconds(3200))
        #expect(backoff.nominalDelay(attempt: 6) == .seconds(5))
        #expect(backoff.nominalDelay(attempt: 1_000_000) == .seconds(5))
    }

    @Test("jittered delays lie in [nominal/2, nominal] and differ between draws", arguments: [UInt64(1), 99, 12345])
    func jitter(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for attempt in 0..<20 {
            let nominal = backoff.nominalDelay(attempt: attempt)
            let draws = (0..<50).map { _ in backoff.delay(attempt: attempt, using: &random) }
            #expect(draws.allSatisfy { $0 >= nominal / 2 && $0 <= nominal }, "seed \(seed) attempt \(attempt)")
            #expect(Set(draws).count > 1, "seed \(seed): no jitter at attempt \(attempt)")
        }
    }
}

@Suite("Per-peer send queue")
struct SendQueueTests {
    private func frame(_ size: Int) -> Transport.Frame {
        Transport.Frame(type: 1, payload: ByteBuffer(repeating: 0, count: size))
    }

    @Test("the byte bound drops the oldest frames until the new one fits")
    func byteBound() {
        var queue = Transport.SendQueue(limits: .init(maximumFrames: 100, maximumBytes: 1000))
        for _ in 0..<4 { #expect(queue.push(frame(250)) == .queued) }
        #expect(queue.push(frame(600)) == .queuedDroppingOldest(count: 3))
        #expect(queue.count == 2)
        #expect(queue.bytes == 850)
    }

    @Test("a frame larger than the whole byte bound is dropped and the queue kept")
    func oversizedFrame() {
        var queue = Transport.SendQueue(limits: .init(maximumFrames: 100, maximumBytes: 1000))
        #expect(queue.push(frame(10)) == .queued)
        #expect(queue.push(frame(1001)) == .dropped)
        #expect(queue.count == 1)
    }

    @Test("frames leave in the order they came")
    func fifo() {
        var queue = Transport.SendQueue(limits: .init(maximumFrames: 3, maximumBytes: 1000))
        for size in 1...5 { _ = queue.push(frame(size)) }
        #expect(queue.pop(upTo: 10).map(\.payload.readableBytes) == [3, 4, 5])
        #expect(queue.bytes == 0)
    }
}
