#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loopback TCP ports: free ones picked by the kernel, and whether a given one is taken.
enum LoopbackPorts {
    /// `count` distinct ports that were free a moment ago: each is bound to 127.0.0.1 port 0
    /// (the kernel picks), read back, and all are closed together at the end. Another process
    /// may take one before a node binds it; ``TestCluster`` then starts again with new ports.
    static func free(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let socket = try boundSocket(port: 0)
            sockets.append(socket)
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let result = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
            }
            guard result == 0 else { throw ClusterError("getsockname failed: errno \(errno)") }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }

    /// Whether 127.0.0.1:`port` can be bound right now (nothing listens there).
    static func isFree(_ port: Int) -> Bool {
        guard let socket = try? boundSocket(port: port) else { return false }
        close(socket)
        return true
    }

    private static func boundSocket(port: Int) throws -> Int32 {
        #if canImport(Glibc)
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard socket >= 0 else { throw ClusterError("socket() failed: errno \(errno)") }
        var reuse: Int32 = 1
        _ = setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(socket)
            throw ClusterError("bind 127.0.0.1:\(port) failed: errno \(code)")
        }
        return socket
    }
}
