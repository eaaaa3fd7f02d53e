import EgressPolicy
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves an http task's or webhook's host with the system resolver (`getaddrinfo`) before
/// anything connects, so the caller can judge every address and then connect to the one it judged.
public enum HostResolver {
    /// Why a host did not resolve.
    public struct Failure: Error, Sendable {
        /// `getaddrinfo`'s message, e.g. `Name or service not known`.
        public let reason: String
    }

    /// Every address `host` resolves to, in the resolver's order, without duplicates.
    ///
    /// `getaddrinfo` blocks (for as long as the resolver's own timeouts), so it runs on NIO's
    /// blocking-I/O thread pool, never on an event loop or the cooperative pool.
    public static func resolve(_ host: String) async -> Result<[IPAddress], Failure> {
        do {
            return try await NIOThreadPool.singleton.runIfActive { blockingResolve(host) }
        } catch {
            return .failure(Failure(reason: "the resolver thread pool is not running (\(error))"))
        }
    }

    private static func blockingResolve(_ host: String) -> Result<[IPAddress], Failure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if os(Linux)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            return .failure(Failure(reason: String(cString: gai_strerror(status))))
        }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var cursor = list
        while let info = cursor {
            if let address = info.pointee.ai_addr.flatMap({ Self.address(of: $0, family: info.pointee.ai_family) }),
               !addresses.contains(address) {
                addresses.append(address)
            }
            cursor = info.pointee.ai_next
        }
        return .success(addresses)
    }

    private static func address(of socketAddress: UnsafeMutablePointer<sockaddr>, family: Int32) -> IPAddress? {
        switch family {
        case AF_INET:
            return socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                .v4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr))
            }
        case AF_INET6:
            return socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { bytes in
                    .v6(bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) })
                }
            }
        default:
            return nil
        }
    }
}
