import Foundation
import Logging
import NodeRuntime
import RaftStorage
import Testing

/// ``ClusterIdentity/judge(_:provisional:)``: who refuses whom, who adopts what, what is written
/// (docs/security.md, "Cluster identity").
@Suite("Cluster identity: confirm, adopt, refuse")
struct ClusterIdentityTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func directory() -> String { NSTemporaryDirectory() + "cluster-identity-\(UUID().uuidString)" }

    @Test("a confirmed node refuses another confirmed id, accepts its own and any provisional one, and never changes")
    func confirmed() throws {
        let own = ClusterID.random()
        let identity = ClusterIdentity(own, directory: nil, logger: logger)
        #expect(identity.judge(.random(), provisional: false) == .refuse)
        #expect(identity.judge(own, provisional: false) == .accept)
        #expect(identity.judge(.random(), provisional: true) == .accept)
        #expect(identity.current == own && !identity.isProvisional)
    }

    @Test("a provisional node is confirmed by its own id, replaced by another confirmed one, and keeps it against another provisional one")
    func provisional() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let derived = ClusterID.random()
        let identity = ClusterIdentity(derived, provisional: true, directory: path, logger: logger)
        #expect(identity.judge(.random(), provisional: true) == .accept)
        #expect(identity.current == derived && identity.isProvisional)
        #expect(try ClusterIdentityFile.read(directory: path) == nil)
        #expect(identity.judge(derived, provisional: true) == .accept)
        #expect(identity.isProvisional)  // two provisional nodes confirm nothing
        let cluster = ClusterID.random()
        #expect(identity.judge(cluster, provisional: false) == .accept)
        #expect(identity.current == cluster && !identity.isProvisional)
        #expect(try ClusterIdentityFile.read(directory: path) == cluster)
        // Confirmed now: another cluster is refused.
        #expect(identity.judge(derived, provisional: false) == .refuse)
    }

    @Test("a provisional id is confirmed and written when a peer presents it confirmed")
    func confirmation() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let derived = ClusterID.random()
        let identity = ClusterIdentity(derived, provisional: true, directory: path, logger: logger)
        #expect(identity.judge(derived, provisional: false) == .accept)
        #expect(!identity.isProvisional)
        #expect(try ClusterIdentityFile.read(directory: path) == derived)
    }

    @Test("a joining node takes the first id presented: a provisional one in memory, a confirmed one written")
    func joining() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let identity = ClusterIdentity(nil, directory: path, logger: logger)
        #expect(identity.current == nil && identity.isProvisional)
        let provisional = ClusterID.random()
        #expect(identity.judge(provisional, provisional: true) == .accept)
        #expect(identity.current == provisional && identity.isProvisional)
        #expect(try ClusterIdentityFile.read(directory: path) == nil)
        let cluster = ClusterID.random()
        #expect(identity.judge(cluster, provisional: false) == .accept)
        #expect(try ClusterIdentityFile.read(directory: path) == cluster)
    }

    @Test("an elected leader confirms its provisional id (a new cluster's first confirmation); a confirmed id stays")
    func leading() throws {
        let path = directory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let derived = ClusterID.random()
        let identity = ClusterIdentity(derived, provisional: true, directory: path, logger: logger)
        identity.confirmLeading()
        #expect(identity.current == derived && !identity.isProvisional)
        #expect(try ClusterIdentityFile.read(directory: path) == derived)
        identity.confirmLeading()
        #expect(identity.current == derived)
        let lone = ClusterIdentity(nil, directory: nil, logger: logger)
        lone.confirmLeading()
        #expect(lone.current != nil && !lone.isProvisional)
    }
}
