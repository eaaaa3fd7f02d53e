extension Simulation {
    /// A deterministic pseudo-random generator: xoshiro256** seeded through SplitMix64.
    ///
    /// Every random choice of a simulation comes from one of these, never from the system
    /// generator, so a seed fully determines a history. Bounded draws use Lemire's method
    /// (not the standard library's `random(in:using:)`, whose algorithm may change between
    /// toolchains) so recorded seeds keep reproducing.
    public struct SeededRandom: RandomNumberGenerator, Sendable {
        private var state: (UInt64, UInt64, UInt64, UInt64)

        /// Creates a generator whose whole output is determined by `seed`.
        public init(seed: UInt64) {
            var splitMix = seed
            func nextSplitMix() -> UInt64 {
                splitMix &+= 0x9E37_79B9_7F4A_7C15
                var z = splitMix
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            state = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
        }

        /// The next 64 random bits (xoshiro256**).
        public mutating func next() -> UInt64 {
            let result = rotateLeft(state.1 &* 5, 7) &* 9
            let shifted = state.1 << 17
            state.2 ^= state.0
            state.3 ^= state.1
            state.1 ^= state.2
            state.0 ^= state.3
            state.2 ^= shifted
            state.3 = rotateLeft(state.3, 45)
            return result
        }

        /// A uniform value in `0..<bound` (`bound` must be positive).
        public mutating func below(_ bound: UInt64) -> UInt64 {
            precondition(bound > 0, "SeededRandom.below needs a positive bound, got \(bound)")
            var product = next().multipliedFullWidth(by: bound)
            if product.low < bound {
                let threshold = (0 &- bound) % bound
                while product.low < threshold {
                    product = next().multipliedFullWidth(by: bound)
                }
            }
            return product.high
        }

        /// A uniform value in `range`.
        public mutating func uniform(in range: ClosedRange<UInt64>) -> UInt64 {
            let width = range.upperBound - range.lowerBound
            if width == UInt64.max { return next() }
            return range.lowerBound + below(width + 1)
        }

        /// A uniform integer in `range`.
        public mutating func uniform(in range: ClosedRange<Int>) -> Int {
            precondition(range.lowerBound >= 0, "SeededRandom.uniform needs a non-negative range, got \(range)")
            return Int(uniform(in: UInt64(range.lowerBound)...UInt64(range.upperBound)))
        }

        /// `true` with probability `probability` (0 never, 1 always).
        public mutating func chance(_ probability: Double) -> Bool {
            if probability <= 0 { return false }
            if probability >= 1 { return true }
            return Double(next() >> 11) * 0x1.0p-53 < probability
        }

        /// A uniformly chosen element of a non-empty collection.
        public mutating func pick<C: RandomAccessCollection>(_ elements: C) -> C.Element {
            precondition(!elements.isEmpty, "SeededRandom.pick needs a non-empty collection")
            let offset = Int(below(UInt64(elements.count)))
            return elements[elements.index(elements.startIndex, offsetBy: offset)]
        }

        private func rotateLeft(_ value: UInt64, _ amount: UInt64) -> UInt64 {
            (value << amount) | (value >> (64 - amount))
        }
    }
}
