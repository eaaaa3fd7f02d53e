import BinaryCoding
import Foundation
import Logging
import NIOCore
import NodeCore
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import SchedulerPlanning
import Testing
import Transport

/// Two peer links over real loopback TLS.
struct LinkPair {
    let authority: Transport.DevCertificateAuthority
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    /// The links' clock: these tests run over real sockets, so on real time.
    let clock = NodeClock.system()

    init() throws { authority = try .create(validity: .days(30, from: Date())) }

    func link(_ id: Raft.NodeID, lease: Duration = .seconds(5), voters: Set<Raft.NodeID> = [], clock: NodeClock? = nil,
              processIncarnation: UInt64 = 0) throws -> PeerLink {
        let issued = try authority.issueNodeCertificate(id: id, hosts: ["127.0.0.1"], validity: .days(30, from: Date()))
        let configuration = Transport.Configuration(
            credentials: try Transport.TLSCredentials(authority: authority, issued: issued),
            listen: .init(host: "127.0.0.1", port: 0),
            backoff: Transport.Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
        return PeerLink(transport: try Transport.PeerTransport(configuration: configuration, logger: logger),
                        settings: NodeCore.Settings(lease: lease, leaseMargin: .milliseconds(6_850), voters: voters, slots: [:]),
                        clock: clock ?? self.clock, processIncarnation: processIncarnation, logger: logger)
    }
}

/// Runs the links (transport and inbound loop) for the duration of `body`.
func withRunning<T: Sendable>(_ links: [PeerLink], _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for link in links {
            group.addTask {
                do { try await link.transport.run() } catch is CancellationError {}
            }
            group.addTask { await link.runInbound() }
        }
        let result = try await body()
        group.cancelAll()
        return result
    }
}

@Suite("PeerLink: lease probes and forwarding over loopback TLS")
struct PeerLinkTests {
    @Test("a probe the leader echoes renews the lease from the probe's send time; an unanswered one does not")
    func leaseProbe() async throws {
        let pair = try LinkPair()
        let (n1, n2) = (try pair.link("n1"), try pair.link("n2"))
        try await withRunning([n1, n2]) {
            let port2 = try #require(try await n2.transport.listeningAddress().port)
            let port1 = try #require(try await n1.transport.listeningAddress().port)
            n1.transport.setPeers(["n2": .init(host: "127.0.0.1", port: port2)])
            n2.transport.setPeers(["n1": .init(host: "127.0.0.1", port: port1)])
            #expect(n1.lastLeaderRoundTrip == nil)
            n2.setLeading(since: pair.clock.monotonic())  // only a leader echoes
            let before = pair.clock.monotonic()
            try await waitUntil("an echoed lease probe") {
                // The first probes may go out before the connection is up.
                _ = n1.executorTick(leader: "n2", appliedIndex: Raft.LogIndex(5), wallClock: Timestamp(1_800_000_000_000))
                return n1.lastLeaderRoundTrip != nil
            }
            let roundTrip = try #require(n1.lastLeaderRoundTrip)
            // The echo was version 2: n1 knows n2 takes unstamped forwards; n2 knows n1's build.
            #expect(n1.leaderTakesUnstamped("n2"))
            #expect(!n2.leaderTakesUnstamped("n1"))
            #expect(n2.memberBuilds().version(of: "n1") == CommandCodec.buildFormatVersion)
            #expect(roundTrip >= before)
            #expect(n1.lastHeard(from: "n2") != nil)
            #expect(n2.lastHeard(from: "n1") != nil)
            // A probe to a member that is not there is never answered.
            _ = n1.executorTick(leader: "n3", appliedIndex: Raft.LogIndex(5), wallClock: Timestamp(1_800_000_000_000))
            #expect(n1.lastLeaderRoundTrip == roundTrip)
        }
    }

    /// Command format 15 over real links: the executor's first probe goes out before it knows the
    /// leader's features; the leader's echo makes it probe again at once (not at the next tick),
    /// carrying its process, and the leader's duty round names that process.
    @Test("the leader names the executor's process from its second probe, sent at once on the first echo")
    func processNamedAfterOneEcho() async throws {
        let pair = try LinkPair()
        let (n1, n2) = (try pair.link("n1", processIncarnation: 0x11), try pair.link("n2", processIncarnation: 0x22))
        try await withRunning([n1, n2]) {
            let port2 = try #require(try await n2.transport.listeningAddress().port)
            let port1 = try #require(try await n1.transport.listeningAddress().port)
            n1.transport.setPeers(["n2": .init(host: "127.0.0.1", port: port2)])
            n2.transport.setPeers(["n1": .init(host: "127.0.0.1", port: port1)])
            n2.membersChanged(voters: ["n1", "n2"], slots: ["n1": 2, "n2": 2], directory: MemberDirectory())
            n2.setLeading(since: pair.clock.monotonic())
            try await waitUntil("an echoed lease probe") {
                // The first probes may go out before the connection is up.
                _ = n1.executorTick(leader: "n2", appliedIndex: Raft.LogIndex(5), wallClock: Timestamp(1_800_000_000_000))
                return n1.lastLeaderRoundTrip != nil
            }
            // No more ticks: the second probe is the one the echo triggered.
            try await waitUntil("n1's process named in the leader's duty round") {
                n2.dutyRound(commitIndex: .zero)?.executors.first { $0.id == "n1" }?.incarnation == 0x11
            }
            let round = try #require(n2.dutyRound(commitIndex: .zero))
            #expect(round.executors.first { $0.id == "n2" }?.incarnation == 0x22, "the leader names its own process")
            #expect(round.executors.first { $0.id == "n1" }?.isReachable == true)
            #expect(n2.knownProcess(of: "n1") == 0x11, "what /api/cluster shows as n1's process on the leader")
            #expect(n2.knownProcess(of: "n2") == 0x22)
        }
    }

    @Test("the leader renews an executor's lease only once a probe names an echo it sent; it learns the executor's applied index")
    func leaderSideProof() async throws {
        let pair = try LinkPair()
        let (n1, n2) = (try pair.link("n1"), try pair.link("n2"))
        try await withRunning([n1, n2]) {
            let port2 = try #require(try await n2.transport.listeningAddress().port)
            let port1 = try #require(try await n1.transport.listeningAddress().port)
            n1.transport.setPeers(["n2": .init(host: "127.0.0.1", port: port2)])
            n2.transport.setPeers(["n1": .init(host: "127.0.0.1", port: port1)])
            let tookOffice = pair.clock.monotonic() - .seconds(60)  // n2 leads long enough: no benefit of the doubt
            n2.setLeading(since: tookOffice)
            #expect(!n2.leaseHolds("n1"))
            try await waitUntil("n2 to hold a round-trip proof for n1") {
                _ = n1.executorTick(leader: "n2", appliedIndex: Raft.LogIndex(9), wallClock: Timestamp(1_800_000_000_000))
                return n2.leaseHolds("n1")
            }
            #expect(n2.reportedAppliedIndex(of: "n1") == Raft.LogIndex(9))
        }
    }

    @Test("forwarding to a member without a connection fails at once as not proposed")
    func forwardWithoutConnection() async throws {
        let pair = try LinkPair()
        let n1 = try pair.link("n1")
        n1.transport.setPeers(["n2": .init(host: "127.0.0.1", port: 1)])
        let result = await n1.forward([1, 2, 3], to: "n2", timeout: .seconds(30), poll: .milliseconds(10))
        guard case .notProposed(let hint, _) = result else {
            Issue.record("expected notProposed, got \(result)")
            return
        }
        #expect(hint == "n2")
    }

    @Test("a forwarded command reaches the other side's handler and its answer comes back")
    func forwardRoundTrip() async throws {
        let pair = try LinkPair()
        let (n1, n2) = (try pair.link("n1"), try pair.link("n2"))
        n2.setForwardHandler { request in
            switch request {
            case .stamped(let command): .applied(Raft.LogIndex(UInt64(command.count)))
            case .unstamped(let command): .applied(Raft.LogIndex(UInt64(1_000 + command.times.count)))
            }
        }
        try await withRunning([n1, n2]) {
            let port2 = try #require(try await n2.transport.listeningAddress().port)
            let port1 = try #require(try await n1.transport.listeningAddress().port)
            n1.transport.setPeers(["n2": .init(host: "127.0.0.1", port: port2)])
            n2.transport.setPeers(["n1": .init(host: "127.0.0.1", port: port1)])
            try await waitUntil("n1 to connect to n2") { n1.transport.isConnected(to: "n2") }
            let result = await n1.forward([1, 2, 3, 4, 5], to: "n2", timeout: .seconds(30), poll: .milliseconds(10))
            #expect(result == .applied(Raft.LogIndex(5)))
            let unstamped = UnstampedCommand.submit(SubmitJob(jobID: "j", spec: JobSpec(name: "a"), runID: "r"),
                                                    .afterStamp(milliseconds: 30_000))
            let answer = await n1.forward(unstamped: unstamped, to: "n2", timeout: .seconds(30), poll: .milliseconds(10))
            #expect(answer == .applied(Raft.LogIndex(1_001)))
            // A frame 8 the leader cannot decode is answered at once (not proposed), not left to time out.
            let started = ContinuousClock.now
            let refused = await n1.forward(to: "n2", timeout: .seconds(30), poll: .milliseconds(10)) { requestID in
                var w = BinaryWriter()
                w.write(requestID)
                w.write([UInt8(9), 1, 2])  // unstamped command version 9
                return Transport.Frame(type: PeerFrameType.forwardUnstamped.rawValue, bytes: w.bytes)
            }
            guard case .notProposed(_, let message) = refused else {
                Issue.record("expected notProposed, got \(refused)")
                return
            }
            #expect(message.contains("could not decode"))
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }
}
