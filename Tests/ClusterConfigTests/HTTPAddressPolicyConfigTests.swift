import EgressPolicy
import Testing

@testable import ClusterConfig

@Suite("Config: [executor] http_deny and http_allow")
struct HTTPAddressPolicyConfigTests {
    private func withExecutorKeys(_ keys: String) -> String {
        validConfig.replacingOccurrences(of: "allow_shell = false", with: "allow_shell = false\n" + keys)
    }

    @Test("absent, the policy is the built-in deny list and nothing is allowed beyond it")
    func defaults() throws {
        let config = try ConfigLoader.parse(validConfig, file: "c.toml")
        #expect(config.executor.httpDeny.isEmpty)
        #expect(config.executor.httpAllow.isEmpty)
        #expect(config.executor.httpAddressPolicy == AddressPolicy())
        #expect(config.executor.httpAddressPolicy.verdict(for: .v4(0xA9FE_A9FE)) != .allowed)
    }

    @Test("IPv4 and IPv6 CIDRs and bare addresses parse; allow entries are exceptions to deny")
    func parses() throws {
        let text = withExecutorKeys(#"""
            http_deny = ["203.0.113.0/24", "2001:db8::/32"]
            http_allow = ["127.0.0.1", "::1/128", "10.20.0.0/16"]
            """#)
        let config = try ConfigLoader.parse(text, file: "c.toml")
        #expect(config.executor.httpDeny.map(\.description) == ["203.0.113.0/24", "2001:db8::/32"])
        #expect(config.executor.httpAllow.map(\.description) == ["127.0.0.1/32", "::1/128", "10.20.0.0/16"])
        let policy = config.executor.httpAddressPolicy
        #expect(policy.verdict(for: .v4(0x7F00_0001)) == .allowed)
        #expect(policy.verdict(for: .v4(0x0A14_0001)) == .allowed)
        #expect(policy.verdict(for: .v4(0xCB00_7101)) != .allowed)
        #expect(configError(text) == nil)
    }

    @Test("an http_allow entry that no deny rule covers is a warning: it changes nothing")
    func uselessAllowWarns() throws {
        let text = withExecutorKeys(#"http_allow = ["127.0.0.1", "8.8.8.0/24", "10.0.0.0/7", "2001:db8::/32"]"#)
        let config = try ConfigLoader.parse(text, file: "c.toml")
        let warnings = try ConfigValidator.validate(config, file: "c.toml").filter { $0.key.hasPrefix("executor.") }
        #expect(warnings.map(\.key) == ["executor.http_allow[1]", "executor.http_allow[3]"])
        #expect(warnings.first?.reason == "8.8.8.0/24 is in no denied range (built-in or http_deny), so allowing it changes nothing; remove it")
        let denied = withExecutorKeys(#"http_deny = ["8.8.0.0/16"]\#nhttp_allow = ["8.8.8.0/24"]"#)
        #expect(try ConfigValidator.validate(ConfigLoader.parse(denied, file: "c.toml"), file: "c.toml").filter { $0.key.hasPrefix("executor.") }.isEmpty)
    }

    @Test("a bad entry is an error naming the key, the entry's index and why", arguments: [
        (#"http_deny = ["10.0.0.0/8", "10.0.0.1/8"]"#, "executor.http_deny[1]",
         #""10.0.0.1/8" is not a CIDR: '10.0.0.1' has bits set past the /8 prefix; did you mean 10.0.0.0/8?"#),
        (#"http_allow = ["localhost"]"#, "executor.http_allow[0]",
         #""localhost" is not a CIDR: 'localhost' is not an IPv4 (a.b.c.d, no leading zeros) or IPv6 address; "#
            + "write ADDRESS/PREFIX, e.g. 10.0.0.0/8 or fd00::/8"),
        (#"http_allow = ["::1/200"]"#, "executor.http_allow[0]", #""::1/200" is not a CIDR: prefix '/200' is not a number from 0 to 128"#),
        (#"http_deny = "10.0.0.0/8""#, "executor.http_deny", "expected an array of strings, found string"),
        (#"http_deny = [10]"#, "executor.http_deny", "expected an array of strings, found an element that is a integer"),
    ])
    func invalid(line: String, key: String, reason: String) throws {
        let error = try #require(configError(withExecutorKeys(line)))
        #expect(error.key == key)
        #expect(error.reason == reason)
    }
}
