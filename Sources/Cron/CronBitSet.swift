/// A set of small non-negative integers (0…63) stored as one bit mask, so "the next allowed
/// value at or after `v`" is a single count-trailing-zeros instead of a loop.
struct CronBitSet: Hashable, Sendable {
    var bits: UInt64

    init() { bits = 0 }
    init(bits: UInt64) { self.bits = bits }

    /// All values in `range` stepping by `step` (`step >= 1`, range within 0…63).
    init(range: ClosedRange<Int>, step: Int = 1) {
        bits = 0
        var value = range.lowerBound
        while value <= range.upperBound {
            insert(value)
            value += step
        }
    }

    var isEmpty: Bool { bits == 0 }

    func contains(_ value: Int) -> Bool {
        value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0
    }

    mutating func insert(_ value: Int) {
        precondition(value >= 0 && value < 64, "CronBitSet holds 0...63, got \(value)")
        bits |= 1 << UInt64(value)
    }

    mutating func formUnion(_ other: CronBitSet) { bits |= other.bits }

    /// The smallest member `>= value`, or nil.
    func next(atOrAfter value: Int) -> Int? {
        if value >= 64 { return nil }
        let from = max(value, 0)
        let masked = bits & (~UInt64(0) << UInt64(from))
        return masked == 0 ? nil : masked.trailingZeroBitCount
    }

    /// The members in ascending order.
    var members: [Int] {
        var result: [Int] = []
        var rest = bits
        while rest != 0 {
            result.append(rest.trailingZeroBitCount)
            rest &= rest - 1
        }
        return result
    }
}
