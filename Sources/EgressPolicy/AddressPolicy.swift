/// Which addresses http tasks may connect to (`[executor] http_deny` and `http_allow`).
///
/// An address is denied when a deny rule contains it and no allow rule does: `http_allow`
/// entries are exceptions, so an address in both lists is allowed (that is how an operator opens
/// one internal service, or loopback for development, inside a denied range). The built-in deny
/// rules (``builtInDeny``) always apply; `http_deny` adds to them. Addresses are judged by
/// ``IPAddress/effective``, so an IPv4-mapped or NAT64 address is judged as its IPv4 address.
///
/// Pure: the API uses it on literal URL hosts at submission, the executor on resolved addresses.
public struct AddressPolicy: Sendable, Hashable {
    /// A block and where it came from, as messages name it.
    public struct Rule: Sendable, Hashable, CustomStringConvertible {
        /// The block.
        public let network: IPNetwork
        /// `loopback`, `link-local`, … for built-ins; `http_deny` or `http_allow` for config entries.
        public let name: String
        /// Whether the rule is one of ``AddressPolicy/builtInDeny``.
        public let isBuiltIn: Bool

        /// A rule.
        public init(_ network: IPNetwork, name: String, isBuiltIn: Bool) {
            self.network = network
            self.name = name
            self.isBuiltIn = isBuiltIn
        }

        /// `loopback 127.0.0.0/8 (built-in)` or `http_deny entry 203.0.113.0/24`.
        public var description: String {
            isBuiltIn ? "\(name) \(network) (built-in)" : "\(name) entry \(network)"
        }
    }

    /// The decision for one address.
    public enum Verdict: Sendable, Hashable {
        /// No deny rule contains it, or an allow rule does.
        case allowed
        /// This rule (the most specific deny rule containing it) denies it.
        case denied(Rule)
    }

    /// Built-in rules then `http_deny` entries.
    public let deny: [Rule]
    /// `http_allow` entries.
    public let allow: [Rule]

    /// A policy: the built-in deny rules plus `extraDeny`, with `allow` as exceptions.
    public init(extraDeny: [IPNetwork] = [], allow: [IPNetwork] = []) {
        self.deny = Self.builtInDeny + extraDeny.map { Rule($0, name: "http_deny", isBuiltIn: false) }
        self.allow = allow.map { Rule($0, name: "http_allow", isBuiltIn: false) }
    }

    /// Whether an http task may connect to `address`.
    public func verdict(for address: IPAddress) -> Verdict {
        let judged = address.effective
        if allow.contains(where: { $0.network.contains(judged) }) { return .allowed }
        let matching = deny.filter { $0.network.contains(judged) }
        guard let mostSpecific = matching.max(by: { $0.network.prefixLength < $1.network.prefixLength }) else { return .allowed }
        return .denied(mostSpecific)
    }

    /// The address to connect to for a host that resolved to `addresses`, or why none may be used.
    ///
    /// All or nothing: if any answer is denied the host is refused, even if another answer is
    /// allowed. A name that points at an internal address is an attempt to reach it (or a
    /// misconfiguration); picking the allowed answer would let whoever controls the name's DNS
    /// choose, per lookup, what the task reaches. Otherwise the first answer (the resolver's
    /// preferred order) is used, and the caller connects to exactly that address.
    public func choose(host: String, from addresses: [IPAddress]) -> Result<IPAddress, Refusal> {
        guard let first = addresses.first else {
            return .failure(Refusal(host: host, address: nil, rule: nil,
                                    text: "\(host) resolved to no address; check the name"))
        }
        for address in addresses {
            if case .denied(let rule) = verdict(for: address) {
                return .failure(Self.refusal(host: host, address: address, rule: rule))
            }
        }
        return .success(first)
    }

    /// The refusal of `address` (reached as `host`), or `nil` if it is allowed.
    public func refusal(host: String, address: IPAddress) -> Refusal? {
        guard case .denied(let rule) = verdict(for: address) else { return nil }
        return Self.refusal(host: host, address: address, rule: rule)
    }

    private static func refusal(host: String, address: IPAddress, rule: Rule) -> Refusal {
        let reached = host == address.description ? "\(address)" : "\(host) (\(address))"
        let judged = address.effective == address ? "" : " (judged as \(address.effective))"
        return Refusal(host: host, address: address, rule: rule,
                       text: "http tasks may not connect to \(reached)\(judged): denied by \(rule); "
                           + "list the address in [executor] http_allow to permit it")
    }

    /// Why a host may not be reached.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        /// The host as the URL names it.
        public let host: String
        /// The denied address, if the host resolved to any.
        public let address: IPAddress?
        /// The rule that denied it.
        public let rule: Rule?
        /// The whole message: which address, which rule, what to do.
        public let text: String
        /// ``text``.
        public var description: String { text }
    }

    /// Denied unless `http_allow` lists them: what an http task from a user of the API must not
    /// reach by default — the node itself, its network and the cloud's metadata service.
    public static let builtInDeny: [Rule] = [
        ("this network", "0.0.0.0/8"),
        ("private", "10.0.0.0/8"),
        ("shared address space (carrier-grade NAT)", "100.64.0.0/10"),
        ("loopback", "127.0.0.0/8"),
        ("link-local (cloud metadata)", "169.254.0.0/16"),
        ("private", "172.16.0.0/12"),
        ("IETF protocol assignments", "192.0.0.0/24"),
        ("private", "192.168.0.0/16"),
        ("benchmarking", "198.18.0.0/15"),
        ("multicast", "224.0.0.0/4"),
        ("reserved and broadcast", "240.0.0.0/4"),
        ("unspecified", "::/128"),
        ("loopback", "::1/128"),
        ("IPv4-compatible (deprecated)", "::/96"),
        ("unique local (private)", "fc00::/7"),
        ("link-local", "fe80::/10"),
        ("site-local (deprecated)", "fec0::/10"),
        ("multicast", "ff00::/8"),
    ].map { name, text in
        guard case .success(let network) = IPNetwork.parse(text) else {
            preconditionFailure("AddressPolicy.builtInDeny: '\(text)' does not parse")
        }
        return Rule(network, name: name, isBuiltIn: true)
    }
}
