#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import HTTPAPI
import Hummingbird
import Logging
import Testing

/// Issue #12: the API server closes idle connections and caps open connections per node, as
/// `APILimits` configures it (`httpServer`, `applicationConfiguration(address:)`).
@Suite("HTTP server connection limits", .serialized)
struct ServerConnectionLimitTests {
    /// Serves the API over an in-memory service with `limits` on a free loopback port while
    /// `body` runs with the port.
    static func withServer(limits: APILimits, _ body: @Sendable (Int) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "connection-limit-test")
        logger.logLevel = .critical
        let app = Application(router: makeQuorumRouter(service: makeLocalService(), limits: limits), server: limits.httpServer,
                              configuration: limits.applicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  if let port = channel.localAddress?.port { continuation.yield(port) }
                                  continuation.finish()
                              }, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { continuation.finish() }
                try await app.run()
            }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            do {
                try await body(port)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    @Test("a connection idle past the idle timeout is closed by the server (EOF), after answering its request")
    func idleTimeout() async throws {
        var limits = APILimits()
        limits.idleTimeout = .milliseconds(200)
        try await Self.withServer(limits: limits) { port in
            let socket = try RawConnection(port: port)
            defer { socket.disconnect() }
            try socket.write("GET /healthz HTTP/1.1\r\nHost: quorum\r\n\r\n")
            let answer = try socket.read(until: { $0.contains("\r\n\r\n") && $0.contains("\"ok\"") }, deadline: .seconds(10))
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            // Wait (with a deadline, not a sleep) for the server to close the idle connection.
            #expect(try socket.waitForEOF(deadline: .seconds(10)), "the server kept an idle connection open for 10 s")
        }
    }

    @Test("past maxConnections the server accepts no more until one closes")
    func connectionCap() async throws {
        var limits = APILimits()
        limits.maxConnections = 1
        try await Self.withServer(limits: limits) { port in
            let first = try RawConnection(port: port)
            try first.write("GET /healthz HTTP/1.1\r\nHost: quorum\r\n\r\n")
            _ = try first.read(until: { $0.contains("\"ok\"") }, deadline: .seconds(10))
            // The kernel completes the second handshake (listen backlog); the server does not
            // take the connection while the first is open, so its request gets no answer.
            let second = try RawConnection(port: port)
            defer { second.disconnect() }
            try second.write("GET /healthz HTTP/1.1\r\nHost: quorum\r\n\r\n")
            #expect(try second.read(until: { !$0.isEmpty }, deadline: .milliseconds(300)).isEmpty)
            first.disconnect()
            let answer = try second.read(until: { $0.contains("\"ok\"") }, deadline: .seconds(10))
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        }
    }
}

/// A blocking TCP connection to 127.0.0.1 with deadline-bounded reads (poll), for tests that
/// must see exactly what the server does with a socket.
final class RawConnection: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawConnectionError("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(fd)
            throw RawConnectionError("connect() to port \(port) failed: errno \(errno)")
        }
    }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw RawConnectionError("send() failed: errno \(errno)") }
    }

    /// Reads until `done(text so far)` or EOF or the deadline; returns what arrived.
    func read(until done: (String) -> Bool, deadline: Duration) throws -> String {
        var received: [UInt8] = []
        let end = ContinuousClock.now + deadline
        while !done(String(decoding: received, as: UTF8.self)) {
            guard let chunk = try readChunk(until: end) else { break }
            if chunk.isEmpty { break }  // EOF
            received += chunk
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Whether the peer closed the connection (EOF or reset) before the deadline; data that
    /// arrives meanwhile is skipped.
    func waitForEOF(deadline: Duration) throws -> Bool {
        let end = ContinuousClock.now + deadline
        while true {
            guard let chunk = try readChunk(until: end) else { return false }
            if chunk.isEmpty { return true }
        }
    }

    /// One read: bytes, `[]` at EOF or reset, `nil` when the deadline passed first.
    private func readChunk(until end: ContinuousClock.Instant) throws -> [UInt8]? {
        let left = end - ContinuousClock.now
        guard left > .zero else { return nil }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000, 60_000))
        let ready = poll(&descriptor, 1, max(1, milliseconds))
        guard ready > 0 else { return ready == 0 ? nil : [] }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(buffer.prefix(count)) : []
    }

    func disconnect() { close(fd) }
}

struct RawConnectionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
