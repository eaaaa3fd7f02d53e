import ClusterConfig
import Logging
import NodeCore
@testable import NodeRuntime
import RaftCore
import Synchronization
import Testing

/// Collects warning messages (the file-versus-log disagreement).
private final class WarningLog: Sendable {
    let lines = Mutex<[String]>([])
    var logger: Logger {
        Logger(label: "test") { _ in WarningCapture(sink: self) }
    }
}

private struct WarningCapture: LogHandler {
    let sink: WarningLog
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        sink.lines.withLock { $0.append("\(event.message) \(event.metadata ?? [:])") }
    }
}

@Suite("MembershipView: the log's configuration wins over the file")
struct MembershipViewTests {
    static let fileNodes = [
        ClusterConfig.Node(id: "n1", raft: NodeAddress(host: "127.0.0.1", port: 7001), api: NodeAddress(host: "127.0.0.1", port: 8080)),
        ClusterConfig.Node(id: "n2", raft: NodeAddress(host: "127.0.0.1", port: 7002), api: NodeAddress(host: "127.0.0.1", port: 8081)),
        ClusterConfig.Node(id: "n3", raft: NodeAddress(host: "127.0.0.1", port: 7003), api: NodeAddress(host: "127.0.0.1", port: 8082)),
    ]

    static func logged(_ records: [Raft.NodeID: (Int, Int)]) -> [UInt8] {
        MemberDirectory(records: records.mapValues {
            MemberDirectory.Record(raft: .init(host: "127.0.0.1", port: $0.0), api: .init(host: "127.0.0.1", port: $0.1))
        }).encoded
    }

    @Test("addresses come from the log; a disagreeing file entry is warned about once and not used; new members need no file entry")
    func logWins() {
        let warnings = WarningLog()
        let seed = MembershipView.seed(from: Self.fileNodes)
        let view = MembershipView(selfID: "n1", seed: seed, membership: Raft.Membership(voters: ["n1", "n2", "n3"]),
                                  transport: nil, logger: warnings.logger, sleep: { try await Task.sleep(for: $0) })
        #expect(view.apiAddress(of: "n2")?.port == 8081, "before the log has a directory, the file seeds it")
        let membership = Raft.Membership(voters: ["n1", "n2", "n3"], learners: ["n4"],
                                         directory: Self.logged(["n1": (7001, 8080), "n2": (7102, 8181), "n3": (7003, 8082), "n4": (7004, 8083)]))
        view.update(membership)
        view.update(membership)
        #expect(view.apiAddress(of: "n2")?.port == 8181)
        #expect(view.apiAddress(of: "n4")?.port == 8083)
        #expect(view.members.map(\.voter) == [true, true, true, false])
        let lines = warnings.lines.withLock { $0 }
        #expect(lines.count(where: { $0.contains("disagrees") && $0.contains("n2") }) == 1, "\(lines)")
        #expect(!lines.contains { $0.contains("n1:") || $0.contains("n3:") || $0.contains("n4:") }, "\(lines)")
    }

    @Test("a removal reaches onChange and, for this node, onRemoved; removed ids leave the member list")
    func removal() {
        let removedCalls = Mutex(0)
        let changes = Mutex<[Raft.Membership]>([])
        let view = MembershipView(selfID: "n3", seed: MembershipView.seed(from: Self.fileNodes),
                                  membership: Raft.Membership(voters: ["n1", "n2", "n3"]), transport: nil,
                                  logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                  sleep: { try await Task.sleep(for: $0) },
                                  onChange: { membership, _ in changes.withLock { $0.append(membership) } },
                                  onRemoved: { removedCalls.withLock { $0 += 1 } })
        view.update(Raft.Membership(voters: ["n1", "n2", "n3"], removed: ["n9"]))
        #expect(removedCalls.withLock { $0 } == 0)
        view.update(Raft.Membership(voters: ["n1", "n2"], removed: ["n3", "n9"]))
        #expect(removedCalls.withLock { $0 } == 1)
        #expect(view.memberIDs == ["n1", "n2"])
        #expect(changes.withLock { $0.last?.removed } == ["n3", "n9"])
    }

    @Test("a removed id is answered with a notice only once its removal committed and its linger ended, and never while it is a member")
    func finalRemoval() async throws {
        // The linger's sleep returns only when the test lets it.
        let (lingerEnds, endLinger) = AsyncStream.makeStream(of: Void.self)
        let view = MembershipView(selfID: "n1", seed: MembershipView.seed(from: Self.fileNodes),
                                  membership: Raft.Membership(voters: ["n1", "n2", "n3"]), transport: nil,
                                  logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                  sleep: { _ in for await _ in lingerEnds { return } })
        #expect(view.finalRemoval(of: "n3") == nil, "a member")
        let removing = Raft.Membership(voters: ["n1", "n2"], removed: ["n3"])
        view.update(removing)
        #expect(view.finalRemoval(of: "n3") == nil, "removed, but not committed (a new leader may truncate it)")
        view.committed(removing, at: Raft.LogIndex(7))
        #expect(view.finalRemoval(of: "n3") == nil, "committed, but still lingering for the farewell")
        endLinger.yield()
        try await waitUntil("the linger to end", within: .seconds(10)) { view.finalRemoval(of: "n3") != nil }
        #expect(view.finalRemoval(of: "n3") == Raft.LogIndex(7))
        // A later committed configuration keeps the first index; ids never removed get nothing.
        view.committed(Raft.Membership(voters: ["n1", "n2"], learners: ["n5"], removed: ["n3"]), at: Raft.LogIndex(9))
        #expect(view.finalRemoval(of: "n3") == Raft.LogIndex(7))
        #expect(view.finalRemoval(of: "n9") == nil)
        #expect(view.finalRemoval(of: "n1") == nil)
    }
}
