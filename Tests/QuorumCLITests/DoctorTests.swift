import Foundation
import HTTPAPI
import RaftCore
@testable import quorum
import Testing
import Transport

/// `quorum doctor`'s judgements, each at and past its threshold (no processes; the live run is
/// in ClusterTests).
@Suite("quorum doctor: what counts as ok, a warning, a failure")
struct DoctorTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// A CA valid `caDays` from `start`, and a node certificate for `id` valid `nodeDays`.
    func pems(id: String = "n1", start: Date = now.addingTimeInterval(-86_400), caDays: Int = 3_650, nodeDays: Int)
        throws -> (ca: String, cert: String, key: String) {
        let authority = try Transport.DevCertificateAuthority.create(validity: .days(caDays, from: start))
        let issued = try authority.issueNodeCertificate(id: .init(id), hosts: ["127.0.0.1"], validity: .days(nodeDays, from: start))
        return (try authority.certificatePEM(), try issued.certificatePEM(), try issued.privateKeyPEM())
    }

    func check(_ files: (ca: String, cert: String, key: String), id: String = "n1") -> [DoctorFinding] {
        CertificateCheck.findings(id: id, caPEM: files.ca, certificatePEM: files.cert, keyPEM: files.key,
                                  paths: ("ca.pem", "\(id).pem", "\(id).key"), now: Self.now)
    }

    @Test("certificates: a year left is ok, 20 days a warning, expired a failure — the node's and the CA's")
    func certificateExpiry() throws {
        #expect(check(try pems(nodeDays: 365)).map(\.severity) == [.ok, .ok])
        let soon = check(try pems(nodeDays: 21))
        #expect(soon.map(\.severity) == [.warning, .ok])
        #expect(soon[0].message.contains("expires in 20 days") && soon[0].advice?.contains("quorum certs issue --id n1") == true,
                "\(soon[0])")
        let expired = check(try pems(start: Self.now.addingTimeInterval(-40 * 86_400), nodeDays: 30))
        #expect(expired.first?.severity == .failure && expired.first?.message.contains("expired on") == true, "\(expired)")
        let caSoon = check(try pems(caDays: 10, nodeDays: 9))
        #expect(caSoon.map(\.severity) == [.warning, .warning], "\(caSoon)")
        #expect(caSoon[1].advice?.contains("rotate the CA") == true)
    }

    @Test("certificates the node would refuse: another node's pair, a key that is not the certificate's, another CA")
    func refusedFiles() throws {
        let n1 = try pems(nodeDays: 365), other = try pems(nodeDays: 365)
        #expect(check(n1, id: "n2").map(\.severity) == [.failure])
        #expect(check((n1.ca, n1.cert, other.key)).map(\.severity) == [.failure])
        let foreignCA = check((other.ca, n1.cert, n1.key))
        #expect(foreignCA.map(\.severity) == [.failure] && foreignCA[0].advice?.contains("quorum certs issue") == true)
    }

    @Test("a log with nothing after its snapshot reads as such, not as a backwards range")
    func emptyLogRange() {
        #expect(DataDirectoryCheck.logRange(first: Raft.LogIndex(1), last: Raft.LogIndex(0)) == "no entries after the snapshot (next index 1)")
        #expect(DataDirectoryCheck.logRange(first: Raft.LogIndex(5), last: Raft.LogIndex(9)) == "entries 5–9")
    }

    @Test("disk space: ok above 10 % and 1 GiB; a warning below either; a failure below 2 % or 256 MiB")
    func space() {
        let gib: UInt64 = 1 << 30
        func severity(_ free: UInt64, _ total: UInt64) -> DoctorFinding.Severity {
            DataDirectoryCheck.space(free: free, total: total, directory: "d", area: "disk").severity
        }
        #expect(severity(20 * gib, 100 * gib) == .ok)
        #expect(severity(9 * gib, 100 * gib) == .warning)
        #expect(severity(gib - 1, 4 * gib) == .warning)
        #expect(severity(gib + gib / 2, 100 * gib) == .failure)
        #expect(severity(255 << 20, 1 << 30) == .failure)
        #expect(severity(0, 0) == .failure)
    }

    @Test("sync latency: by the median; over 10 ms a warning, over 50 ms a failure; one slow round alone is fine")
    func syncLatency() {
        func severity(_ ms: [Int]) -> DoctorFinding.Severity {
            DataDirectoryCheck.syncLatency(ms.map { .milliseconds($0) }, directory: "d", area: "fsync").severity
        }
        #expect(severity([1, 1, 1, 1, 200]) == .ok)
        #expect(severity([11, 12, 13]) == .warning)
        #expect(severity([60, 70, 80]) == .failure)
        #expect(severity([]) == .warning)
    }

    func node(_ id: String, leader: String?, term: UInt64 = 3, commit: UInt64 = 100,
              members: [ClusterNodeResource] = [], digest: (UInt64, String)? = nil, offset: Double? = 0) -> NodeObservation {
        var observation = NodeObservation(id: id, url: "http://\(id)")
        observation.ready = leader != nil
        observation.cluster = ClusterResource(leader: leader, term: term, commitIndex: commit, nodes: members)
        observation.digest = digest.map { (appliedIndex: $0.0, digest: $0.1) }
        observation.clockOffsetSeconds = offset
        return observation
    }

    func member(_ id: String, match: UInt64 = 100, reachable: Bool = true, role: String = "follower") -> ClusterNodeResource {
        ClusterNodeResource(id: id, role: role, api: "", raft: "", reachable: reachable, matchIndex: match, slots: 4, busy: 0)
    }

    @Test("the cluster: no leader fails; disagreement and lag warn; quorum lost fails; one failure from lost warns")
    func leadership() {
        let members = [member("n1", role: "leader"), member("n2"), member("n3")]
        let healthy = ClusterCheck.findings([node("n1", leader: "n1", members: members), node("n2", leader: "n1"), node("n3", leader: "n1")])
        #expect(healthy.allSatisfy { $0.severity == .ok }, "\(healthy)")

        let leaderless = ClusterCheck.findings([node("n1", leader: nil), node("n2", leader: nil)])
        #expect(leaderless.contains { $0.area == "cluster" && $0.severity == .failure })

        let split = ClusterCheck.findings([node("n1", leader: "n1", members: members), node("n2", leader: "n2", term: 4)])
        #expect(split.contains { $0.area == "cluster" && $0.severity == .warning && $0.message.contains("disagree") })

        let lagging = ClusterCheck.findings([node("n1", leader: "n1", commit: 5_000,
                                                  members: [member("n1", match: 5_000, role: "leader"), member("n2", match: 3_000), member("n3", match: 4_999)])])
        #expect(lagging.filter { $0.area == "replication" }.map(\.message) == ["n2 is 2000 entries behind the leader's commit index 5000"])

        var down = node("n3", leader: nil)
        down.unreachable = "connection refused"
        let oneDown = ClusterCheck.findings([node("n1", leader: "n1", members: members), node("n2", leader: "n1"), down])
        #expect(oneDown.contains { $0.area == "node n3" && $0.severity == .failure })
        #expect(oneDown.contains { $0.area == "quorum" && $0.severity == .warning }, "the leader still calls n3 reachable; doctor could not reach it")

        let twoDown = ClusterCheck.findings([node("n1", leader: "n1", members: [member("n1", role: "leader"), member("n2", reachable: false),
                                                                                member("n3", reachable: false), member("n4", role: "learner")])])
        #expect(twoDown.contains { $0.area == "quorum" && $0.severity == .failure && $0.message.contains("only 1 of 3 voters") })
    }

    @Test("replica digests: equal at an equal index is ok; different at an equal index fails; different indexes are not compared")
    func digests() {
        func replicas(_ digests: [(UInt64, String)]) -> [DoctorFinding] {
            ClusterCheck.digests(digests.enumerated().map { node("n\($0.offset + 1)", leader: "n1", digest: $0.element) })
        }
        #expect(replicas([(10, "a"), (10, "a"), (11, "b")]).map(\.severity) == [.ok])
        let diverged = replicas([(10, "a"), (10, "b"), (11, "c")])
        #expect(diverged.map(\.severity) == [.failure] && diverged[0].message.contains("n1 a, n2 b"), "\(diverged)")
        #expect(replicas([(10, "a"), (11, "b")])[0].message.contains("not compared"))
        #expect(DoctorCommand.needsAnotherDigestRound([node("n1", leader: "n1", digest: (10, "a")), node("n2", leader: "n1", digest: (11, "a"))]))
        #expect(!DoctorCommand.needsAnotherDigestRound([node("n1", leader: "n1", digest: (10, "a")), node("n2", leader: "n1", digest: (10, "a"))]))
    }

    @Test("cluster id: one id on every node is ok; a node holding another fails naming it and what to do; nodes without one are left out")
    func clusterIdentity() {
        func observed(_ id: String, cluster: String?) -> NodeObservation {
            var observation = node(id, leader: "n1")
            observation.cluster?.clusterID = cluster
            return observation
        }
        let same = "6f029b11756fb6e4c84876d393c30df2", other = "3c1d0000000000000000000000000000"
        let agreed = ClusterCheck.clusterIdentity([observed("n1", cluster: same), observed("n2", cluster: same), observed("n3", cluster: nil)])
        #expect(agreed.map(\.severity) == [.ok] && agreed[0].message == "2 nodes hold cluster id \(same)", "\(agreed)")
        let mixed = ClusterCheck.clusterIdentity([observed("n1", cluster: same), observed("n2", cluster: other), observed("n3", cluster: same)])
        #expect(mixed.map(\.severity) == [.failure], "\(mixed)")
        #expect(mixed.first?.message.contains("\(same): n1, n3; \(other): n2") == true, "\(mixed)")
        #expect(mixed.first?.advice?.hasPrefix("stop n2:") == true, "\(mixed)")
        #expect(ClusterCheck.clusterIdentity([observed("n1", cluster: nil)]).isEmpty)
        // And it is part of the cluster findings.
        #expect(ClusterCheck.findings([observed("n1", cluster: same), observed("n2", cluster: other)])
            .contains { $0.area == "cluster id" && $0.severity == .failure })
    }

    @Test("doctor's servers: --server, else every node of --config, else $QUORUM_SERVER (as the other commands read it), else the local cluster")
    func targets() throws {
        let fromFlag = try DoctorCommand.targets(servers: "http://a:1", environment: "http://b:2,http://c:3", loaded: nil)
        #expect(fromFlag.map(\.url) == ["http://a:1"])
        let fromEnvironment = try DoctorCommand.targets(servers: nil, environment: "http://b:2,http://c:3", loaded: nil)
        #expect(fromEnvironment.map(\.url) == ["http://b:2", "http://c:3"])
        let local = try DoctorCommand.targets(servers: nil, environment: "", loaded: nil)
        let unset = try DoctorCommand.targets(servers: nil, environment: nil, loaded: nil)
        #expect(local.map(\.url) == unset.map(\.url))
        #expect(!local.contains { $0.url == "http://b:2" })
        #expect(throws: CLIError.self) { try DoctorCommand.targets(servers: nil, environment: "ftp://x", loaded: nil) }
    }

    @Test("replica check: a member the leader holds as diverged fails naming both digests; mixed builds warn; all well adds nothing")
    func replicaChecks() {
        var n3 = member("n3")
        n3.replicaCheck = ReplicaCheckResource(state: "diverged", verifiedIndex: 32, mismatchIndex: 32, leaderDigest: "aa", memberDigest: "bb")
        n3.formatVersion = 7
        var n2 = member("n2")
        n2.replicaCheck = ReplicaCheckResource(state: "ok", verifiedIndex: 32)
        n2.formatVersion = 6
        let findings = ClusterCheck.replicaChecks([node("n1", leader: "n1", members: [member("n1", role: "leader"), n2, n3])])
        #expect(findings.map(\.severity) == [.failure, .warning], "\(findings)")
        #expect(findings[0].message.contains("n3 diverged at applied index 32") && findings[0].message.contains("aa")
                && findings[0].message.contains("bb"), "\(findings[0].message)")
        #expect(findings[1].message.contains("n2 format 6, n3 format 7"), "\(findings[1].message)")
        n3.replicaCheck = ReplicaCheckResource(state: "ok", verifiedIndex: 48)
        n2.formatVersion = 7
        #expect(ClusterCheck.replicaChecks([node("n1", leader: "n1", members: [n2, n3])]).isEmpty)
    }

    @Test("clocks: within 2 s ok; beyond, a warning naming the node; the Date header parses")
    func clocks() {
        #expect(ClusterCheck.clocks([node("n1", leader: "n1", offset: 1), node("n2", leader: "n1", offset: -1)]).map(\.severity) == [.ok])
        let skewed = ClusterCheck.clocks([node("n1", leader: "n1", offset: 0), node("n2", leader: "n1", offset: -7)])
        #expect(skewed.map(\.area) == ["clock n2"] && skewed[0].message == "-7 s from this machine's clock")
        #expect(ClusterProbe.httpDate("Sun, 06 Dec 2026 04:30:00 GMT") == Date(timeIntervalSince1970: 1_796_531_400))
    }

    @Test("the report: one line per finding, advice under warnings and failures, exit 1 only on a failure")
    func report() {
        let findings: [DoctorFinding] = [.ok("disk n1", "fine"), .warning("tls n1", "soon", advice: "renew")]
        #expect(DoctorReport.exitCode(findings) == 0)
        #expect(DoctorReport.exitCode(findings + [.failure("node n2", "down", advice: "start it")]) == 1)
        let text = DoctorReport.render(findings)
        #expect(text.contains("ok   disk n1  fine") && text.contains("WARN tls n1   soon") && text.contains("→ renew"), "\(text)")
        #expect(text.hasSuffix("2 checks: 0 failed, 1 warnings"))
    }
}
