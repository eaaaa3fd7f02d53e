import EgressPolicy
import Testing

@Suite("IP address parsing")
struct IPAddressTests {
    @Test("IPv4 dotted quads", arguments: [
        ("0.0.0.0", 0), ("127.0.0.1", 0x7F00_0001), ("255.255.255.255", 0xFFFF_FFFF), ("169.254.169.254", 0xA9FE_A9FE),
        ("10.0.0.0", 0x0A00_0000), ("1.2.3.4", 0x0102_0304),
    ] as [(String, UInt32)])
    func ipv4(text: String, value: UInt32) {
        #expect(IPAddress.parse(text) == .v4(value))
        #expect(IPAddress.parse(text)?.description == text)
    }

    static let ipv6Forms: [(String, String, UInt128)] = [
        ("::", "::", 0),
        ("::1", "::1", UInt128(1)),
        ("fe80::1", "fe80::1", UInt128(0xFE80) << 112 | 1),
        ("FE80:0:0:0:0:0:0:1", "fe80::1", UInt128(0xFE80) << 112 | 1),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", UInt128(0x2001_0DB8) << 96 | UInt128(1) << 48 | 1),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1", UInt128(0xFFFF) << 32 | 0x7F00_0001),
        ("::ffff:7f00:1", "::ffff:127.0.0.1", UInt128(0xFFFF) << 32 | 0x7F00_0001),
        ("0:0:0:0:0:ffff:1.2.3.4", "::ffff:1.2.3.4", UInt128(0xFFFF) << 32 | 0x0102_0304),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0", UInt128(0x0001_0002_0003_0004) << 64 | UInt128(0x0005_0006_0007_0000)),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", UInt128.max),
    ]

    @Test("IPv6 text forms", arguments: ipv6Forms)
    func ipv6(text: String, canonical: String, value: UInt128) {
        #expect(IPAddress.parse(text) == .v6(value))
        #expect(IPAddress.parse(text)?.description == canonical)
    }

    @Test("malformed text is not an address", arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.04", "1.2.3.-4", "1.2.3.4 ", " 1.2.3.4", "1..2.3",
        "0x7f.0.0.1", "2130706433", "localhost", "a.b.c.d",
        ":", ":::", "1::2::3", ":1::2", "1::2:", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1", "::1%eth0",
        "[::1]", "1:2:3:4:5:6:7::8", "::1.2.3.4.5", "::256.1.1.1", "1.2.3.4::", "::ffff:1.2.3", "1:2:3:4:5:6:1.2.3.4:8",
        String(repeating: "1", count: 100),
    ])
    func malformed(text: String) {
        #expect(IPAddress.parse(text) == nil)
    }

    @Test("IPv4-mapped and NAT64 addresses are effectively their IPv4 address; others are themselves")
    func effective() {
        #expect(IPAddress.parse("::ffff:169.254.169.254")?.effective == .v4(0xA9FE_A9FE))
        #expect(IPAddress.parse("64:ff9b::10.0.0.1")?.effective == .v4(0x0A00_0001))
        #expect(IPAddress.parse("64:ff9b:1::10.0.0.1")?.effective == IPAddress.parse("64:ff9b:1::10.0.0.1"))
        #expect(IPAddress.parse("::1")?.effective == IPAddress.parse("::1"))
        #expect(IPAddress.parse("::fffe:127.0.0.1")?.effective == IPAddress.parse("::fffe:127.0.0.1"))
        #expect(IPAddress.parse("1.2.3.4")?.effective == .v4(0x0102_0304))
    }
}

@Suite("CIDR parsing")
struct IPNetworkTests {
    @Test("valid blocks", arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"), ("0.0.0.0/0", "0.0.0.0/0"), ("1.2.3.4", "1.2.3.4/32"), ("1.2.3.4/32", "1.2.3.4/32"),
        ("fe80::/10", "fe80::/10"), ("::/0", "::/0"), ("::1", "::1/128"), ("FC00::/7", "fc00::/7"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"), ("::ffff:127.0.0.1", "127.0.0.1/32"), ("::ffff:0:0/96", "0.0.0.0/0"),
    ])
    func valid(text: String, canonical: String) throws {
        let network = try IPNetwork.parse(text).get()
        #expect(network.description == canonical)
    }

    @Test("invalid blocks say why", arguments: [
        ("10.0.0.1/8", "'10.0.0.1' has bits set past the /8 prefix; did you mean 10.0.0.0/8?"),
        ("fe80::1/10", "'fe80::1' has bits set past the /10 prefix; did you mean fe80::/10?"),
        ("10.0.0.0/33", "prefix '/33' is not a number from 0 to 32"),
        ("::/129", "prefix '/129' is not a number from 0 to 128"),
        ("10.0.0.0/08", "prefix '/08' is not a number from 0 to 32"),
        ("10.0.0.0/", "prefix '/' is not a number from 0 to 32"),
        ("10.0.0.0/-1", "prefix '/-1' is not a number from 0 to 32"),
        ("10.0.0.0/+8", "prefix '/+8' is not a number from 0 to 32"),
        ("10.0.0.0/8/8", "more than one '/'; write ADDRESS/PREFIX, e.g. 10.0.0.0/8"),
        ("10/8", "'10' is not an IPv4 (a.b.c.d, no leading zeros) or IPv6 address; write ADDRESS/PREFIX, e.g. 10.0.0.0/8 or fd00::/8"),
        ("", "'' is not an IPv4 (a.b.c.d, no leading zeros) or IPv6 address; write ADDRESS/PREFIX, e.g. 10.0.0.0/8 or fd00::/8"),
        (" 10.0.0.0/8", "' 10.0.0.0' is not an IPv4 (a.b.c.d, no leading zeros) or IPv6 address; write ADDRESS/PREFIX, e.g. 10.0.0.0/8 or fd00::/8"),
        ("10.0.0.0/8 ", "prefix '/8 ' is not a number from 0 to 32"),
    ])
    func invalid(text: String, reason: String) {
        guard case .failure(let failure) = IPNetwork.parse(text) else {
            Issue.record("'\(text)' parsed")
            return
        }
        #expect(failure.reason == reason)
    }

    @Test("containment at the edges of a block")
    func edges() throws {
        let block = try IPNetwork.parse("172.16.0.0/12").get()
        #expect(!block.contains(.v4(0xAC0F_FFFF)))  // 172.15.255.255
        #expect(block.contains(.v4(0xAC10_0000)))   // 172.16.0.0
        #expect(block.contains(.v4(0xAC1F_FFFF)))   // 172.31.255.255
        #expect(!block.contains(.v4(0xAC20_0000)))  // 172.32.0.0
        #expect(!block.contains(try #require(IPAddress.parse("::ffff:172.16.0.1"))))  // families differ
        let all = try IPNetwork.parse("0.0.0.0/0").get()
        #expect(all.contains(.v4(0)) && all.contains(.v4(.max)))
        let one = try IPNetwork.parse("::1/128").get()
        #expect(one.contains(.v6(1)) && !one.contains(.v6(0)) && !one.contains(.v6(2)))
        let inner = try IPNetwork.parse("172.16.0.0/16").get(), outer = try IPNetwork.parse("172.0.0.0/8").get()
        let beside = try IPNetwork.parse("172.32.0.0/16").get(), otherFamily = try IPNetwork.parse("::/0").get()
        #expect(block.overlaps(inner) && block.overlaps(outer) && inner.overlaps(block))
        #expect(!block.overlaps(beside) && !block.overlaps(otherFamily))
        #expect(IPNetwork(address: .v4(0x0A00_0001), prefixLength: 8) == nil)
        #expect(IPNetwork(address: .v4(0x0A00_0000), prefixLength: 33) == nil)
        #expect(IPNetwork(address: .v4(0x0A00_0000), prefixLength: -1) == nil)
    }
}
