import Foundation
@testable import NodeRuntime
import RaftCore
import RaftStorage
import SchedulerCore
import Testing

@Suite("Backup file format (QBAK)")
struct ClusterBackupTests {
    static func sample(imageBytes: Int = 3_000) -> ClusterBackup {
        let membership = Raft.Membership(voters: ["n1", "n2", "n3"], learners: ["x1"], incarnations: ["n1": 7])
        let header = ClusterBackup.Header(index: 1234, term: 5, clusterID: ClusterID.random(), takenAtMilliseconds: 1_800_000_000_000,
                                          nodeID: "n1", membership: membership)
        return ClusterBackup(header: header, image: (0..<imageBytes).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    }

    @Test("streamed in chunks equals the whole encoding and decodes to the same header and image")
    func roundTrip() async throws {
        let backup = Self.sample()
        var streamed: [UInt8] = []
        var chunks = 0
        try await ClusterBackup.stream(header: backup.header, image: backup.image, chunkBytes: 1000) { chunk in
            streamed += chunk
            chunks += 1
        }
        #expect(streamed == backup.encoded())
        #expect(chunks == 5)  // prefix, three image chunks, the checksum
        let decoded = try ClusterBackup(decoding: streamed)
        #expect(decoded.header == backup.header)
        #expect(decoded.image == backup.image)
        let empty = ClusterBackup(header: backup.header, image: [])
        #expect(try ClusterBackup(decoding: empty.encoded()).image.isEmpty)
    }

    @Test("a real scheduler state survives the file")
    func schedulerState() throws {
        let state = SchedulerState(config: SchedulerConfig())
        let backup = ClusterBackup(header: Self.sample().header, image: state.snapshot())
        let decoded = try ClusterBackup(decoding: backup.encoded())
        #expect(try SchedulerState(snapshot: decoded.image).jobCount == 0)
    }

    @Test("every flipped byte is detected, naming the header or the image and an offset inside the file")
    func everyFlippedByte() throws {
        let good = Self.sample(imageBytes: 200).encoded()
        let headerLength = Int(good[8]) | Int(good[9]) << 8 | Int(good[10]) << 16 | Int(good[11]) << 24
        for position in good.indices {
            var bytes = good
            bytes[position] ^= 0x01
            do {
                _ = try ClusterBackup(decoding: bytes)
                Issue.record("a flip at byte \(position) went unnoticed")
            } catch {
                #expect(error.offset >= 0 && error.offset <= good.count, "byte \(position): \(error)")
                if position >= 12 && position < 12 + headerLength {
                    #expect(error.field == "header", "byte \(position): \(error)")
                } else if position >= 12 + headerLength + 8 {
                    #expect(error.field == "image", "byte \(position): \(error)")
                }
                #expect(error.description.contains("byte offset"))
            }
        }
    }

    @Test("truncated and extended files are refused with the field that does not fit")
    func truncated() throws {
        let good = Self.sample(imageBytes: 100).encoded()
        for length in [0, 3, 11, 12, 40, good.count - 33, good.count - 1] {
            #expect(throws: ClusterBackupError.self, "\(length) bytes") { try ClusterBackup(decoding: Array(good.prefix(length))) }
        }
        #expect(throws: ClusterBackupError.self) { try ClusterBackup(decoding: good + [0]) }
        var wrongMagic = good
        wrongMagic[0] = UInt8(ascii: "X")
        #expect(throws: ClusterBackupError(offset: 0, field: "magic", reason: "the file does not start with \"QBAK\": not a Quorum backup")) {
            try ClusterBackup(decoding: wrongMagic)
        }
    }

    @Test("the derived cluster id depends on the name, the CA and the node ids, not on their order or the addresses")
    func derivedClusterID() {
        let base = ClusterIdentity.derived(clusterName: "prod", authority: [1, 2, 3], nodeIDs: ["n1", "n2"])
        #expect(ClusterIdentity.derived(clusterName: "prod", authority: [1, 2, 3], nodeIDs: ["n2", "n1"]) == base)
        #expect(ClusterIdentity.derived(clusterName: "prod2", authority: [1, 2, 3], nodeIDs: ["n1", "n2"]) != base)
        #expect(ClusterIdentity.derived(clusterName: "prod", authority: [1, 2, 4], nodeIDs: ["n1", "n2"]) != base)
        #expect(ClusterIdentity.derived(clusterName: "prod", authority: [1, 2, 3], nodeIDs: ["n1"]) != base)
        // Length-prefixed fields: moving bytes from one field to the next changes the id.
        #expect(ClusterIdentity.derived(clusterName: "prodn", authority: [1, 2, 3], nodeIDs: ["1", "n2"])
                    != ClusterIdentity.derived(clusterName: "prod", authority: [1, 2, 3], nodeIDs: ["n1", "n2"]))
    }
}
