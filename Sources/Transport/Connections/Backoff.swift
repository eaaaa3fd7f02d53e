extension Transport {
    /// Reconnection delays: exponential growth capped at a maximum, with "equal jitter" (half the
    /// delay fixed, half random) so peers that lost a node at the same moment do not redial in
    /// lockstep, yet never retry faster than half the nominal delay.
    ///
    /// Pure: the random number generator is an input.
    public struct Backoff: Sendable, Hashable {
        /// The nominal delay after the first failure.
        public var initial: Duration
        /// The largest nominal delay.
        public var maximum: Duration
        /// The growth factor per consecutive failure.
        public var multiplier: Double

        /// Creates a backoff. Defaults: 100 ms doubling to 5 s.
        public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5), multiplier: Double = 2) {
            precondition(initial > .zero && maximum >= initial && multiplier >= 1,
                         "invalid backoff: initial \(initial), maximum \(maximum), multiplier \(multiplier)")
            self.initial = initial
            self.maximum = maximum
            self.multiplier = multiplier
        }

        /// The nominal delay before retry number `attempt` (0-based), without jitter.
        public func nominalDelay(attempt: Int) -> Duration {
            let initialSeconds = Self.seconds(initial)
            let maximumSeconds = Self.seconds(maximum)
            // Stop multiplying once past the cap so large attempt counts cannot overflow.
            var seconds = initialSeconds
            var step = 0
            while step < attempt && seconds < maximumSeconds {
                seconds *= multiplier
                step += 1
            }
            return .nanoseconds(Int64((Swift.min(seconds, maximumSeconds) * 1e9).rounded()))
        }

        /// The delay before retry number `attempt`: uniformly in [nominal/2, nominal].
        public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
            let nominal = Self.seconds(nominalDelay(attempt: attempt))
            let jittered = nominal / 2 + Double.random(in: 0...(nominal / 2), using: &generator)
            return .nanoseconds(Int64((jittered * 1e9).rounded()))
        }

        private static func seconds(_ duration: Duration) -> Double {
            let (s, attoseconds) = duration.components
            return Double(s) + Double(attoseconds) / 1e18
        }
    }
}
