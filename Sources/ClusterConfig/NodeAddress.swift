/// A `host:port` address from the config, such as `127.0.0.1:7001` or `[::1]:7001`.
public struct NodeAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host name or IP literal, without brackets.
    public var host: String
    /// The TCP port, 1–65535.
    public var port: Int

    /// Whether `host` is a loopback address or `localhost` (the API is reachable only from this machine).
    public var isLoopback: Bool {
        let name = host.lowercased()
        if name == "localhost" || name == "::1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; IPv6 literals must be bracketed (`[::1]:8080`).
    /// - Returns: the address, or a reason the text is not one.
    public static func parse(_ text: String) -> Result<NodeAddress, NodeAddressError> {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(NodeAddressError(reason: "an IPv6 address needs a closing ']'"))
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                return .failure(NodeAddressError(reason: "expected ':PORT' after ']'"))
            }
            portPart = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(NodeAddressError(reason: "expected HOST:PORT"))
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                return .failure(NodeAddressError(reason: "an IPv6 address must be written in brackets, as [::1]:PORT"))
            }
        }
        guard !hostPart.isEmpty else {
            return .failure(NodeAddressError(reason: "the host is empty"))
        }
        guard hostPart.allSatisfy({ $0.isLetter || $0.isNumber || ".-_:".contains($0) }) else {
            return .failure(NodeAddressError(reason: "the host '\(hostPart)' has characters a host name cannot have"))
        }
        guard !portPart.isEmpty, portPart.allSatisfy(\.isASCII), let port = Int(portPart), (1...65535).contains(port) else {
            return .failure(NodeAddressError(reason: "the port '\(portPart)' is not a number from 1 to 65535"))
        }
        return .success(NodeAddress(host: String(hostPart), port: port))
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Why a text is not a `host:port` address.
public struct NodeAddressError: Error, Sendable, Equatable {
    public var reason: String
}
