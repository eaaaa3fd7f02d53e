import EgressPolicy
import Testing

@Suite("Address policy")
struct AddressPolicyTests {
    private static func address(_ text: String) -> IPAddress {
        guard let address = IPAddress.parse(text) else { preconditionFailure("bad address in a test: \(text)") }
        return address
    }

    private static func network(_ text: String) -> IPNetwork {
        guard case .success(let network) = IPNetwork.parse(text) else { preconditionFailure("bad CIDR in a test: \(text)") }
        return network
    }

    private static func deniedBy(_ text: String, _ policy: AddressPolicy = AddressPolicy()) -> String? {
        guard case .denied(let rule) = policy.verdict(for: address(text)) else { return nil }
        return rule.description
    }

    /// Each built-in range: its first and last address are denied, the neighbours outside are not.
    @Test("built-in deny: the edges of every range", arguments: [
        ("255.255.255.255", "0.0.0.0", "this network 0.0.0.0/8 (built-in)", "0.255.255.255", "1.0.0.0"),
        ("9.255.255.255", "10.0.0.0", "private 10.0.0.0/8 (built-in)", "10.255.255.255", "11.0.0.0"),
        ("100.63.255.255", "100.64.0.0", "shared address space (carrier-grade NAT) 100.64.0.0/10 (built-in)", "100.127.255.255", "100.128.0.0"),
        ("126.255.255.255", "127.0.0.0", "loopback 127.0.0.0/8 (built-in)", "127.255.255.255", "128.0.0.0"),
        ("169.253.255.255", "169.254.0.0", "link-local (cloud metadata) 169.254.0.0/16 (built-in)", "169.254.255.255", "169.255.0.0"),
        ("172.15.255.255", "172.16.0.0", "private 172.16.0.0/12 (built-in)", "172.31.255.255", "172.32.0.0"),
        ("191.255.255.255", "192.0.0.0", "IETF protocol assignments 192.0.0.0/24 (built-in)", "192.0.0.255", "192.0.1.0"),
        ("192.167.255.255", "192.168.0.0", "private 192.168.0.0/16 (built-in)", "192.168.255.255", "192.169.0.0"),
        ("198.17.255.255", "198.18.0.0", "benchmarking 198.18.0.0/15 (built-in)", "198.19.255.255", "198.20.0.0"),
        ("223.255.255.255", "224.0.0.0", "multicast 224.0.0.0/4 (built-in)", "239.255.255.255", "1.1.1.1"),
        ("223.255.255.255", "240.0.0.0", "reserved and broadcast 240.0.0.0/4 (built-in)", "255.255.255.255", "8.8.8.8"),
        ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fc00::", "unique local (private) fc00::/7 (built-in)",
         "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe00::"),
        ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::", "link-local fe80::/10 (built-in)",
         "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::1"),
        ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::", "site-local (deprecated) fec0::/10 (built-in)",
         "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2606:4700::1111"),
        ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ff00::", "multicast ff00::/8 (built-in)",
         "ff02::1", "2a00:1450::1"),
        ("::1:0:0", "::2", "IPv4-compatible (deprecated) ::/96 (built-in)", "::ffff:ffff", "1::"),
    ])
    func builtInEdges(below: String, first: String, rule: String, last: String, above: String) {
        #expect(Self.deniedBy(first) == rule)
        #expect(Self.deniedBy(last) == rule)
        #expect(Self.deniedBy(below) != rule)
        #expect(Self.deniedBy(above) != rule)
    }

    @Test("the most specific rule is named; public addresses are allowed")
    func specificAndPublic() {
        #expect(Self.deniedBy("::") == "unspecified ::/128 (built-in)")
        #expect(Self.deniedBy("::1") == "loopback ::1/128 (built-in)")
        #expect(Self.deniedBy("169.254.169.254") == "link-local (cloud metadata) 169.254.0.0/16 (built-in)")
        for text in ["1.1.1.1", "8.8.8.8", "93.184.216.34", "100.63.0.1", "100.128.0.1", "172.32.0.1", "2606:4700:4700::1111",
                     "64:ff9b::8.8.8.8", "::ffff:8.8.8.8"] {
            #expect(AddressPolicy().verdict(for: Self.address(text)) == .allowed, "\(text)")
        }
    }

    @Test("IPv4-mapped and NAT64 addresses are judged as their IPv4 address", arguments: [
        ("::ffff:127.0.0.1", "loopback 127.0.0.0/8 (built-in)"),
        ("::ffff:7f00:1", "loopback 127.0.0.0/8 (built-in)"),
        ("::ffff:169.254.169.254", "link-local (cloud metadata) 169.254.0.0/16 (built-in)"),
        ("::ffff:10.1.2.3", "private 10.0.0.0/8 (built-in)"),
        ("64:ff9b::192.168.1.1", "private 192.168.0.0/16 (built-in)"),
        ("::ffff:0.0.0.0", "this network 0.0.0.0/8 (built-in)"),
    ])
    func mapped(text: String, rule: String) {
        #expect(Self.deniedBy(text) == rule)
    }

    @Test("http_allow entries are exceptions: an address in both lists is allowed")
    func allowWins() {
        let policy = AddressPolicy(extraDeny: [Self.network("203.0.113.0/24")],
                                   allow: [Self.network("127.0.0.1/32"), Self.network("203.0.113.7"), Self.network("10.1.0.0/16")])
        #expect(policy.verdict(for: Self.address("127.0.0.1")) == .allowed)
        #expect(policy.verdict(for: Self.address("::ffff:127.0.0.1")) == .allowed)
        #expect(Self.deniedBy("127.0.0.2", policy) == "loopback 127.0.0.0/8 (built-in)")
        #expect(policy.verdict(for: Self.address("203.0.113.7")) == .allowed)
        #expect(Self.deniedBy("203.0.113.8", policy) == "http_deny entry 203.0.113.0/24")
        #expect(policy.verdict(for: Self.address("10.1.255.255")) == .allowed)
        #expect(Self.deniedBy("10.2.0.0", policy) == "private 10.0.0.0/8 (built-in)")
        // Families do not cross: an IPv4 allow does not open ::1.
        #expect(Self.deniedBy("::1", policy) == "loopback ::1/128 (built-in)")
    }

    @Test("a resolved host is refused if any answer is denied, else its first answer is used")
    func choose() {
        let policy = AddressPolicy()
        let public1 = Self.address("93.184.216.34"), public2 = Self.address("2606:2800::1")
        #expect(policy.choose(host: "example.com", from: [public1, public2]) == .success(public1))
        guard case .failure(let refusal) = policy.choose(host: "evil.example", from: [public1, Self.address("169.254.169.254")]) else {
            Issue.record("a mixed answer was allowed")
            return
        }
        #expect(refusal.address == Self.address("169.254.169.254"))
        #expect(refusal.text == "http tasks may not connect to evil.example (169.254.169.254): denied by link-local (cloud metadata) "
                + "169.254.0.0/16 (built-in); list the address in [executor] http_allow to permit it")
        guard case .failure(let empty) = policy.choose(host: "nothing.example", from: []) else {
            Issue.record("an empty answer was allowed")
            return
        }
        #expect(empty.text == "nothing.example resolved to no address; check the name")
        guard case .failure(let mapped) = policy.choose(host: "::ffff:10.0.0.1", from: [Self.address("::ffff:10.0.0.1")]) else {
            Issue.record("a mapped private address was allowed")
            return
        }
        #expect(mapped.text.hasPrefix("http tasks may not connect to ::ffff:10.0.0.1 (judged as 10.0.0.1): denied by private 10.0.0.0/8"))
    }
}

@Suite("URL host literals")
struct URLHostLiteralTests {
    @Test("literal hosts in every form a resolver accepts", arguments: [
        ("http://127.0.0.1/x", "127.0.0.1"),
        ("https://127.0.0.1:8443", "127.0.0.1"),
        ("http://user:pw@169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://[::1]:8080/", "::1"),
        ("http://[::FFFF:127.0.0.1]/", "::ffff:127.0.0.1"),
        ("http://[fe80::1%25eth0]/", "fe80::1"),
        ("HTTP://10.0.0.1?q", "10.0.0.1"),
        ("http://10.0.0.1#f", "10.0.0.1"),
        ("http://10.0.0.1\\@example.com/", "10.0.0.1"),
        ("http://2130706433/", "127.0.0.1"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://0X7F000001/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://127.1/", "127.0.0.1"),
        ("http://169.254.43518/", "169.254.169.254"),
        ("http://127.0.0.1./", "127.0.0.1"),
        ("http://0/", "0.0.0.0"),
        ("http://0x/", "0.0.0.0"),
        ("http://127.0.0.%31/", "127.0.0.1"),
        ("http://%31%32%37.0.0.1:8080/", "127.0.0.1"),
    ])
    func literal(url: String, address: String) {
        #expect(URLHostLiteral.address(in: url) == IPAddress.parse(address))
    }

    @Test("names and malformed hosts are not literals", arguments: [
        "http://example.com/", "http://localhost:8080", "http://1.2.3.4.example/", "http://4294967296/", "http://256.1.1.1/",
        "http://1.2.3.4.5/", "http://08.1.1.1/", "http://[::1/", "http://[not-v6]/", "no-scheme", "http:///path",
        "http://127.0.0.1../", "http://127.0.0.%/", "http://127.0.0.%3/", "http://127.0.0.%zz/",
    ])
    func notLiteral(url: String) {
        #expect(URLHostLiteral.address(in: url) == nil)
    }
}
