import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RealClusterTests {
    /// `[executor] http_deny` through a real node: a literal loopback target is a 422, a name
    /// that resolves to loopback is refused by the executor, and the target never sees a
    /// connection. Only loopback is involved.
    @Suite("http tasks to internal addresses")
    struct HTTPEgressTests {
        @Test("an http task to a denied loopback address never gets through")
        func loopbackDenied() async throws {
            let listener = try LoopbackListener()
            defer { listener.close() }
            try await TestCluster.with(nodes: 1) { cluster in
                _ = try await cluster.waitForLeader()
                let api = cluster.api("n1")
                let literal = #"{"name":"to-loopback","task":{"kind":"http","url":"http://127.0.0.1:\#(listener.port)/"}}"#
                let refused = try await api.post("/api/jobs", data: Data(literal.utf8))
                #expect(refused.status == 422)
                let error = try refused.decode(ErrorBody.self).error
                #expect(error.field == "task.url")
                #expect(error.message.contains("denied by loopback 127.0.0.0/8 (built-in)"))

                let named = #"{"name":"to-localhost","task":{"kind":"http","url":"http://localhost:\#(listener.port)/"},"#
                    + #""retry":{"max_attempts":1}}"#
                let id = try await api.post("/api/jobs", data: Data(named.utf8)).expect(201, as: Created.self).id
                try await cluster.waitForJob(id, on: "n1", state: "dead")
                let attempt = try #require(try await cluster.attempts(of: id, on: "n1").first)
                #expect(attempt.outcome == "failed")
                #expect(attempt.error?.hasPrefix("http tasks may not connect to localhost (") == true, "\(attempt.error ?? "no error")")
                #expect(listener.pendingConnections() == 0)
            }
        }
    }
}

/// The API's error object (docs/api.md).
private struct ErrorBody: Decodable {
    struct Detail: Decodable {
        var field: String?
        var message: String
    }
    var error: Detail
}

/// A socket listening on 127.0.0.1 that never accepts: the kernel queues any connection made to
/// it, so ``pendingConnections()`` shows whether anything connected.
private struct LoopbackListener {
    let socket: Int32
    let port: Int

    init() throws {
        #if canImport(Glibc)
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw ClusterError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            closeDescriptor(descriptor)
            throw ClusterError("bind/listen failed: errno \(errno)")
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else {
            closeDescriptor(descriptor)
            throw ClusterError("getsockname failed: errno \(errno)")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        socket = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Accepts (and closes) every queued connection; how many there were.
    func pendingConnections() -> Int {
        var count = 0
        while true {
            let connection = accept(socket, nil, nil)
            guard connection >= 0 else { return count }
            count += 1
            closeDescriptor(connection)
        }
    }

    func close() {
        closeDescriptor(socket)
    }
}

private func closeDescriptor(_ descriptor: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(descriptor)
    #else
    _ = Darwin.close(descriptor)
    #endif
}
