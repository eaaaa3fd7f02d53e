/// Retry delays, as a pure function of the policy, the run id and the attempt number.
///
/// `base(n) = min(maxBackoffMs, initialBackoffMs × multiplier^(n−1))` after attempt `n` failed,
/// computed by repeated IEEE multiplication (no `pow`, so every platform agrees) and stopping
/// once the cap is reached (or after 1,024 multiplications). With jitter on, the delay is `base × (0.5 + u/2)` where
/// `u ∈ [0, 1)` comes from `splitmix64(fnv1a64(run id UTF-8) ^ n)` (top 32 bits), in integer
/// arithmetic: `base × (2^31 + (h >> 33)) >> 32`. Replicas agree because nothing here depends on
/// the process (Swift's `Hasher` is seeded per process and is deliberately not used).
public enum Backoff {
    /// The delay in milliseconds before the attempt after `attempt` (≥ 1) failed.
    public static func delayMs(policy: RetryPolicy, runID: RunID, attempt: Int) -> Int64 {
        let cap = max(0, policy.maxBackoffMs)
        var base = Double(max(0, policy.initialBackoffMs))
        var step = 1
        // Stops at the cap, at once when the delay cannot grow, and after at most 1,024
        // multiplications (so a multiplier barely above 1 cannot make this loop long).
        while step < attempt && step <= 1_024 && base < Double(cap) && base > 0 && policy.multiplier > 1 {
            base *= policy.multiplier
            step += 1
        }
        let capped: Int64 = (base.isNaN || base >= Double(cap)) ? cap : max(0, Int64(base))
        guard policy.jitter, capped > 0 else { return capped }
        let h = jitterHash(runID: runID, attempt: attempt)
        let factor = (UInt64(1) << 31) + (h >> 33)  // in [2^31, 2^32)
        let scaled = capped.multipliedFullWidth(by: Int64(factor))
        // (capped × factor) >> 32, exact for capped < 2^62.
        let result = (scaled.high << 32) | Int64(scaled.low >> 32)
        return result
    }

    /// `splitmix64(fnv1a64(runID) ^ attempt)`.
    public static func jitterHash(runID: RunID, attempt: Int) -> UInt64 {
        splitmix64(fnv1a64(runID.rawValue) ^ UInt64(truncatingIfNeeded: attempt))
    }

    /// FNV-1a, 64 bit, over the UTF-8 bytes of `text`.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// The SplitMix64 finaliser.
    public static func splitmix64(_ seed: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
