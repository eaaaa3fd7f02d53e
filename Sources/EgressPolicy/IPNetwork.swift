/// A block of addresses in CIDR notation (`10.0.0.0/8`, `fe80::/10`), parsed strictly.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block (its host bits are zero).
    public let address: IPAddress
    /// How many leading bits every member shares: 0–32 for IPv4, 0–128 for IPv6.
    public let prefixLength: Int

    /// Why a CIDR did not parse, phrased to be shown after the entry.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong and what to write instead.
        public let reason: String
        /// The reason.
        public var description: String { reason }
    }

    /// A block from its first address and prefix length, or `nil` if the prefix is out of range
    /// or host bits are set.
    public init?(address: IPAddress, prefixLength: Int) {
        let bits = Self.bits(of: address)
        guard (0...bits).contains(prefixLength), Self.hostBits(of: address, prefixLength: prefixLength) == 0 else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    private init(unchecked address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `ADDRESS/PREFIX` or a bare `ADDRESS` (one address: `/32` or `/128`).
    ///
    /// Strict: no spaces, a decimal prefix without leading zeros, no host bits (`10.0.0.1/8` is
    /// refused, as it most likely means a typo), addresses as ``IPAddress/parse(_:)`` takes them.
    /// An IPv6 block inside the IPv4-mapped range (`::ffff:10.0.0.0/104`) becomes the IPv4 block
    /// it maps (`10.0.0.0/8`), since policies judge mapped addresses as IPv4.
    public static func parse(_ text: String) -> Result<IPNetwork, ParseError> {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else {
            return .failure(ParseError(reason: "more than one '/'; write ADDRESS/PREFIX, e.g. 10.0.0.0/8"))
        }
        guard let address = IPAddress.parse(pieces[0]) else {
            return .failure(ParseError(reason: "'\(pieces[0])' is not an IPv4 (a.b.c.d, no leading zeros) or IPv6 address; "
                                       + "write ADDRESS/PREFIX, e.g. 10.0.0.0/8 or fd00::/8"))
        }
        let bits = bits(of: address)
        var prefixLength = bits
        if pieces.count == 2 {
            let digits = pieces[1]
            guard !digits.isEmpty, digits.utf8.count <= 3, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  digits.utf8.count == 1 || digits.utf8.first != 0x30,
                  let length = Int(digits), length <= bits
            else {
                return .failure(ParseError(reason: "prefix '/\(digits)' is not a number from 0 to \(bits)"))
            }
            prefixLength = length
        }
        guard hostBits(of: address, prefixLength: prefixLength) == 0 else {
            let first = Self(unchecked: masked(address, prefixLength: prefixLength), prefixLength: prefixLength)
            return .failure(ParseError(reason: "'\(address)' has bits set past the /\(prefixLength) prefix; did you mean \(first)?"))
        }
        if case .v6(let value) = address, prefixLength >= 96, value >> 32 == 0xFFFF {
            return .success(Self(unchecked: .v4(UInt32(truncatingIfNeeded: value)), prefixLength: prefixLength - 96))
        }
        return .success(Self(unchecked: address, prefixLength: prefixLength))
    }

    /// Whether `candidate` is in the block; an address of the other family never is.
    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let network), .v4(let value)):
            return prefixLength == 0 || network >> (32 - prefixLength) == value >> (32 - prefixLength)
        case (.v6(let network), .v6(let value)):
            return prefixLength == 0 || network >> (128 - prefixLength) == value >> (128 - prefixLength)
        default:
            return false
        }
    }

    /// Whether the two blocks share an address (CIDR blocks are nested or disjoint, so one holds
    /// the other's first address).
    public func overlaps(_ other: IPNetwork) -> Bool {
        contains(other.address) || other.contains(address)
    }

    /// `10.0.0.0/8`.
    public var description: String { "\(address)/\(prefixLength)" }

    private static func bits(of address: IPAddress) -> Int {
        switch address {
        case .v4: 32
        case .v6: 128
        }
    }

    private static func hostBits(of address: IPAddress, prefixLength: Int) -> UInt128 {
        switch address {
        case .v4(let value):
            return prefixLength >= 32 ? 0 : UInt128(value & (UInt32.max >> prefixLength))
        case .v6(let value):
            return prefixLength >= 128 ? 0 : value & (UInt128.max >> prefixLength)
        }
    }

    private static func masked(_ address: IPAddress, prefixLength: Int) -> IPAddress {
        switch address {
        case .v4(let value):
            return .v4(prefixLength == 0 ? 0 : value & ~(UInt32.max >> prefixLength))
        case .v6(let value):
            return .v6(prefixLength == 0 ? 0 : value & ~(UInt128.max >> prefixLength))
        }
    }
}
