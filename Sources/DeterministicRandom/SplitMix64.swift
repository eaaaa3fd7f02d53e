/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast, seeded pseudo-random generator.
///
/// Quorum's pure cores and randomized tests take all their randomness from a seed, so a run —
/// an election's jitter, a simulated history, a fuzz input — replays exactly from that seed in
/// any process. Never use it where unpredictability matters (keys, ids an attacker could guess).
public struct SplitMix64: RandomNumberGenerator, Hashable, Sendable {
    private var state: UInt64

    /// A generator whose whole output is a function of `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 pseudo-random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0 ..< bound`. The modulo bias is negligible for the small bounds used here
    /// and, unlike rejection sampling, consumes exactly one step, which keeps replays simple.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive, got \(bound)")
        return Int(next() % UInt64(bound))
    }

    /// True with probability `percent` / 100.
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}
