import Foundation
import RaftStorage
import Testing

@Suite("CLUSTER_ID file")
struct ClusterIdentityFileTests {
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "cluster-id-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("written, read back; a directory without the file has none")
    func roundTrip() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try ClusterIdentityFile.read(directory: directory) == nil)
        let id = ClusterID.random()
        try ClusterIdentityFile.write(id, directory: directory)
        #expect(try ClusterIdentityFile.read(directory: directory) == id)
        let other = ClusterID.random()
        try ClusterIdentityFile.write(other, directory: directory)
        #expect(try ClusterIdentityFile.read(directory: directory) == other)
        #expect(!FileManager.default.fileExists(atPath: directory + "/CLUSTER_ID.tmp"))
    }

    @Test("hex: 32 digits either case round-trip; anything else is refused")
    func hex() throws {
        let id = ClusterID.random()
        #expect(ClusterID(hex: id.description) == id)
        #expect(ClusterID(hex: id.description.uppercased()) == id)
        #expect(id.description.count == 32)
        #expect(ClusterID(hex: "00") == nil)
        #expect(ClusterID(hex: String(repeating: "g", count: 32)) == nil)
        #expect(ClusterID(bytes: [1, 2, 3]) == nil)
    }

    @Test("every flipped byte and every truncation is damage naming the file and an offset, never another id")
    func damage() throws {
        let id = try #require(ClusterID(hex: "00112233445566778899aabbccddeeff"))
        let good = ClusterIdentityFile.encode(id)
        #expect(good.count == 28)
        for position in good.indices {
            var bytes = good
            bytes[position] ^= 0x40
            #expect(throws: StorageError.self, "byte \(position)") { try ClusterIdentityFile.decode(bytes, path: "d/CLUSTER_ID") }
        }
        for length in 0..<good.count {
            do {
                _ = try ClusterIdentityFile.decode(Array(good.prefix(length)), path: "d/CLUSTER_ID")
                Issue.record("a \(length)-byte file decoded")
            } catch {
                #expect(error.code == .damaged)
                #expect(error.message.contains("d/CLUSTER_ID is damaged at byte offset"))
            }
        }
        #expect(try ClusterIdentityFile.decode(good, path: "x") == id)
    }
}
