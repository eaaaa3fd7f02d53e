// Throughput of one peer TLS connection on loopback: n1 sends to n2 through the real transport
// (queue, TLS 1.3, framing, authenticated inbound stream), for small and large messages.
//
// Run with scripts/bench-transport.sh (release build).

import Foundation
import Logging
import NIOCore
import RaftCore
import Transport

struct Scenario {
    let name: String
    let payloadBytes: Int
    let messages: Int
    let batch: Int
}

func runScenario(_ scenario: Scenario, n1: Transport.PeerTransport, n2: Transport.PeerTransport) async throws -> Duration {
    let payload = ByteBuffer(repeating: 0x5A, count: scenario.payloadBytes)
    let frame = Transport.Frame(type: 1, payload: payload)
    let (progress, progressContinuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
    let clock = ContinuousClock()
    let start = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            var received = 0
            for await message in n2.inbound {
                precondition(message.payload.readableBytes == scenario.payloadBytes, "payload size changed in transit")
                received += 1
                if received % scenario.batch == 0 || received == scenario.messages { progressContinuation.yield(received) }
                if received == scenario.messages { break }
            }
            progressContinuation.finish()
        }
        var sent = 0
        var acknowledged = 0
        var iterator = progress.makeAsyncIterator()
        // Keep at most four batches in flight so the bounded queues never drop.
        while sent < scenario.messages {
            let count = min(scenario.batch, scenario.messages - sent)
            for _ in 0..<count {
                let outcome = n1.send(frame, to: "n2")
                precondition(outcome == .queued, "send was \(outcome); the benchmark must not drop")
            }
            sent += count
            while sent - acknowledged > 4 * scenario.batch {
                guard let next = await iterator.next() else { break }
                acknowledged = next
            }
        }
        while acknowledged < scenario.messages {
            guard let next = await iterator.next() else { break }
            acknowledged = next
        }
        try await group.waitForAll()
    }
    return clock.now - start
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let arguments = CommandLine.arguments
let scale = arguments.count > 1 ? Double(arguments[1]) ?? 1 : 1
let scenarios = [
    Scenario(name: "100 B", payloadBytes: 100, messages: Int(500_000 * scale), batch: 1_000),
    Scenario(name: "64 KiB", payloadBytes: 64 * 1024, messages: Int(20_000 * scale), batch: 64),
]

let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
let authority = try Transport.DevCertificateAuthority.create(validity: .days(1, from: Date()))
func makeTransport(_ id: Raft.NodeID) throws -> Transport.PeerTransport {
    let issued = try authority.issueNodeCertificate(id: id, hosts: ["127.0.0.1"], validity: .days(1, from: Date()))
    return try Transport.PeerTransport(
        configuration: Transport.Configuration(
            credentials: Transport.TLSCredentials(authority: authority, issued: issued),
            listen: .init(host: "127.0.0.1", port: 0),
            sendQueue: .init(maximumFrames: 16_384, maximumBytes: 512 << 20),
            inboundBufferCapacity: 65_536),
        logger: logger)
}

let n1 = try makeTransport("n1")
let n2 = try makeTransport("n2")
try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { try await n1.run() }
    group.addTask { try await n2.run() }
    guard let n1Port = try await n1.listeningAddress().port, let n2Port = try await n2.listeningAddress().port else {
        fatalError("listeners have no port")
    }
    n1.setPeers(["n2": .init(host: "127.0.0.1", port: n2Port)])
    n2.setPeers(["n1": .init(host: "127.0.0.1", port: n1Port)])

    // Warm up: connect and push a few messages through.
    _ = try await runScenario(Scenario(name: "warm-up", payloadBytes: 100, messages: 10_000, batch: 1_000), n1: n1, n2: n2)

    print("Transport benchmark: one TLS 1.3 connection on 127.0.0.1, n1 -> n2, payload bytes only in MB/s")
    for scenario in scenarios {
        let elapsed = seconds(try await runScenario(scenario, n1: n1, n2: n2))
        let rate = Double(scenario.messages) / elapsed
        let megabytes = rate * Double(scenario.payloadBytes) / 1_000_000
        print(
            String(
                format: "%-7@ messages=%d  time=%.2f s  %.0f msg/s  %.1f MB/s",
                scenario.name as NSString, scenario.messages, elapsed, rate, megabytes))
    }
    let statistics = n1.statistics()
    print("dropped=\(statistics.peers["n2"]?.dropped ?? 0) inbound_dropped=\(n2.statistics().inboundDropped)")
    group.cancelAll()
}
