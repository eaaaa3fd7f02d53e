import DeterministicRandom
import Notify
import Testing

@Suite("Retry schedule")
struct RetryScheduleTests {
    let schedule = RetrySchedule(base: .seconds(10), cap: .seconds(600), maxTries: 8)

    @Test("after try n the wait is within [d/2, d], d = min(cap, base·2^(n-1)); none after the last try", arguments: [UInt64(20261206), 1, 0])
    func bounds(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for _ in 0..<500 {
            let eventSeed = generator.next()
            for tries in 1..<8 {
                let full = min(600_000, 10_000 << (tries - 1))
                guard let wait = schedule.delay(afterTries: tries, seed: eventSeed) else {
                    Issue.record("no wait after try \(tries) (seed \(seed), event seed \(eventSeed))")
                    continue
                }
                let ms = wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000
                #expect(ms >= Int64(full / 2) && ms <= Int64(full), "try \(tries): \(ms) ms outside [\(full / 2), \(full)] (seed \(seed), event seed \(eventSeed))")
            }
            #expect(schedule.delay(afterTries: 8, seed: eventSeed) == nil)
        }
    }

    @Test("a pure function of (tries, seed): the same on every call, different seeds spread")
    func deterministic() {
        let seed = RetrySchedule.seed(eventID: "ev-0000000000000042")
        #expect(seed == RetrySchedule.seed(eventID: "ev-0000000000000042"))
        #expect(seed != RetrySchedule.seed(eventID: "ev-0000000000000043"))
        for tries in 1..<8 {
            #expect(schedule.delay(afterTries: tries, seed: seed) == schedule.delay(afterTries: tries, seed: seed))
        }
        let waits = Set((0..<50).compactMap { schedule.delay(afterTries: 3, seed: RetrySchedule.seed(eventID: "ev-\($0)")) })
        #expect(waits.count > 40, "jitter spreads 50 events over \(waits.count) distinct waits only")
    }

    @Test("Retry-After lengthens the wait up to the cap; out-of-range inputs are clamped, never trapped")
    func retryAfterAndClamping() {
        #expect(schedule.delay(afterTries: 1, seed: 7, retryAfter: .seconds(120)) == .seconds(120))
        #expect(schedule.delay(afterTries: 1, seed: 7, retryAfter: .seconds(86_400)) == .seconds(600))
        #expect(schedule.delay(afterTries: 0, seed: 7) == nil)
        #expect(schedule.delay(afterTries: -5, seed: 7) == nil)
        let huge = RetrySchedule(base: .seconds(Int64.max / 2), cap: .seconds(Int64.max), maxTries: Int.max)
        #expect(huge.delay(afterTries: Int.max - 1, seed: .max) != nil)
        let zero = RetrySchedule(base: .zero, cap: .zero, maxTries: 3)
        #expect(zero.delay(afterTries: 1, seed: 1) == .zero)
    }
}

@Suite("Retry-After header")
struct RetryAfterHeaderTests {
    /// 2026-12-06T04:25:00Z.
    let now: Int64 = 1_796_531_100

    @Test("delta-seconds and IMF-fixdate are read; a past date is zero; other forms are ignored")
    func forms() {
        #expect(RetryAfterHeader.delay("120", now: now) == .seconds(120))
        #expect(RetryAfterHeader.delay(" 0 ", now: now) == .zero)
        #expect(RetryAfterHeader.delay("Sun, 06 Dec 2026 04:27:00 GMT", now: now) == .seconds(120))
        #expect(RetryAfterHeader.delay("Thu, 29 Feb 2024 00:00:00 GMT", now: now) == .zero)
        #expect(RetryAfterHeader.delay("Mon, 01 Jan 2100 00:00:00 GMT", now: 0) == .seconds(4_102_444_800))
        for ignored in ["", "-5", "1.5", "soon", "99999999999999999999", "Sunday, 06-Dec-26 04:27:00 GMT", "Sun Dec  6 04:27:00 2026",
                        "Sun, 06 Dec 2026 04:27:00 UTC", "Sun, 32 Dec 2026 04:27:00 GMT", "Sun, 06 Dex 2026 04:27:00 GMT",
                        "Sun, 06 Dec 2026 24:00:00 GMT"] {
            #expect(RetryAfterHeader.delay(ignored, now: now) == nil, "\(ignored)")
        }
    }
}
