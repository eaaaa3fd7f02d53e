/// When to try a notification again: exponential backoff with jitter, up to a cap, for at most
/// ``maxTries`` tries.
///
/// A pure function of (tries, seed): the leader can compute `next_attempt_at` and stamp it into
/// the log, and every replica (and a new leader) reads the same time. The seed comes from the
/// event (``seed(eventID:)``), so notifications that failed together do not all retry at once.
///
/// After try `n` failed (n ≥ 1) the wait is uniformly drawn from `[d/2, d]` ("equal jitter"),
/// where `d = min(cap, base · 2^(n-1))`: never shorter than half the backoff, never past the cap.
public struct RetrySchedule: Sendable, Hashable {
    /// The backoff after the first failed try (before jitter).
    public var base: Duration
    /// The longest wait between two tries, Retry-After included.
    public var cap: Duration
    /// Tries in all, the first included; after the last fails the notification is failed.
    public var maxTries: Int

    /// The defaults: 10 s, doubling, capped at 10 min, 8 tries (about 30 minutes in all).
    public init(base: Duration = .seconds(10), cap: Duration = .seconds(600), maxTries: Int = 8) {
        self.base = base
        self.cap = cap
        self.maxTries = maxTries
    }

    /// The wait after try number `tries` failed, or `nil` if that was the last try.
    ///
    /// `retryAfter` (a server's `Retry-After`, or an SMTP server's advice) lengthens the wait to
    /// at least that much, still at most ``cap``. Out-of-range inputs are clamped, never trapped.
    public func delay(afterTries tries: Int, seed: UInt64, retryAfter: Duration? = nil) -> Duration? {
        guard tries >= 1, tries < maxTries else { return nil }
        let capMs = Self.milliseconds(cap)
        let baseMs = min(Self.milliseconds(base), capMs)
        // base · 2^(tries-1), saturating at the cap (62 doublings overflow any Int64).
        let shift = min(tries - 1, 62)
        let (doubled, overflow) = baseMs.multipliedReportingOverflow(by: Int64(1) << shift)
        let backoff = overflow ? capMs : min(doubled, capMs)
        let half = backoff / 2
        let jitter = half == 0 ? 0 : Int64(Self.mix(seed, UInt64(tries)) % UInt64(backoff - half + 1))
        var wait = half + jitter
        if let retryAfter {
            wait = max(wait, min(Self.milliseconds(retryAfter), capMs))
        }
        return .milliseconds(wait)
    }

    /// A seed from an event id: FNV-1a over its UTF-8, the same in every process (unlike `Hasher`).
    public static func seed(eventID: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in eventID.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// SplitMix64's finaliser over seed and try: a well-spread value per (seed, try).
    private static func mix(_ seed: UInt64, _ tries: UInt64) -> UInt64 {
        var z = seed &+ tries &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A timeout in whole milliseconds, at least 1 and at most a day: NIO's `TimeAmount` counts
    /// nanoseconds in an Int64 and would overflow (trap) on a huge configured value.
    static func timeoutMilliseconds(_ duration: Duration) -> Int64 {
        min(max(milliseconds(duration), 1), 86_400_000)
    }

    /// Whole milliseconds of a duration, 0 for a negative one, saturating.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return Int64.max / 2 }
        return min(scaled, Int64.max / 2) + attoseconds / 1_000_000_000_000_000
    }
}
