import DeterministicRandom
import EgressPolicy
import Testing

/// Seeded random addresses: the printed form parses back to the same address, and a block
/// contains exactly the addresses whose leading bits match.
@Suite("Addresses and blocks, seeded")
struct RoundTripTests {
    /// An IPv6 value with runs of zero groups (what `::` compresses) more often than chance.
    private static func ipv6(_ random: inout SplitMix64) -> UInt128 {
        var value: UInt128 = 0
        for _ in 0..<8 {
            let group: UInt16 = random.chance(40) ? 0 : UInt16(truncatingIfNeeded: random.next())
            value = value << 16 | UInt128(group)
        }
        return value
    }

    @Test("description parses back, and containment matches the prefix bits", arguments: [UInt64(1), 2, 3, 0xC0FFEE])
    func roundTrip(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<2_000 {
            let v4 = IPAddress.v4(UInt32(truncatingIfNeeded: random.next()))
            let v6 = IPAddress.v6(Self.ipv6(&random))
            for address in [v4, v6] {
                #expect(IPAddress.parse(address.description) == address, "seed \(seed): \(address)")
            }
            let other = UInt32(truncatingIfNeeded: random.next())
            let length = random.below(33)
            guard case .v4(let first) = v4 else { continue }
            let mask: UInt32 = length == 0 ? 0 : ~(UInt32.max >> length)
            guard let block = IPNetwork(address: .v4(first & mask), prefixLength: length) else {
                Issue.record("seed \(seed): \(first & mask)/\(length) refused")
                continue
            }
            #expect(block.contains(.v4(other)) == (other & mask == first & mask), "seed \(seed): \(block) \(IPAddress.v4(other))")
            #expect(block.contains(.v4(first)), "seed \(seed): \(block)")
            #expect((try? IPNetwork.parse(block.description).get()) == block, "seed \(seed): \(block)")
        }
    }
}
