import Foundation
import NodeRuntime
import RaftCore
import RaftStorage
import SchedulerCore
import Testing

@Suite("quorum snapshot inspect")
struct SnapshotCommandTests {
    /// A backup of an empty scheduler state, written to a new temporary file.
    private func makeBackup() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-backup-\(UUID().uuidString).qbak").path
        let header = ClusterBackup.Header(index: 77, term: 2, clusterID: ClusterID.random(), takenAtMilliseconds: 1_800_000_000_000,
                                          nodeID: "n2", membership: Raft.Membership(voters: ["n1", "n2", "n3"]))
        let backup = ClusterBackup(header: header, image: SchedulerState(config: SchedulerConfig()).snapshot())
        try Data(backup.encoded()).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("an intact backup prints its header and counts and exits 0")
    func intact() throws {
        let file = try makeBackup()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try QuorumBinary.run(["snapshot", "inspect", file])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("index: 77  term: 2"), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("voters: n1, n2, n3"))
        #expect(result.standardOutput.contains("jobs: 0  runs: 0  DAG runs: 0  DLQ: 0"))
    }

    @Test("a flipped byte in the header or the image exits 1 naming the offset and the field; a missing file exits 2")
    func damaged() throws {
        let file = try makeBackup()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let good = try Data(contentsOf: URL(fileURLWithPath: file))
        for (position, field) in [(20, "header"), (good.count - 40, "image")] {
            var bytes = good
            bytes[position] ^= 0x10
            try bytes.write(to: URL(fileURLWithPath: file))
            let result = try QuorumBinary.run(["snapshot", "inspect", file])
            #expect(result.exitCode == 1, "byte \(position): \(result.standardOutput)")
            #expect(result.standardError.contains("damaged at byte offset") && result.standardError.contains("(\(field))"),
                    "byte \(position): \(result.standardError)")
        }
        let missing = try QuorumBinary.run(["snapshot", "inspect", file + ".missing"])
        #expect(missing.exitCode == 2, "\(missing.standardError)")
    }
}
