import Foundation
import Testing

@testable import RaftStorage

@Suite("Data directory incarnation")
struct IncarnationTests {
    @Test("a new directory gets a new incarnation, fsynced, and keeps it on every later open")
    func createdOnceThenRead() async throws {
        try await withTemporaryDirectory { root in
            let directory = root + "/n1/raft"
            let created = try DataDirectoryIncarnation.openOrCreate(directory: directory, newID: { 0x1234_5678_9ABC_DEF0 })
            #expect(created == DataDirectoryIncarnation(id: 0x1234_5678_9ABC_DEF0, isNew: true))
            let bytes = try readBytes(directory + "/INCARNATION")
            #expect(bytes.count == 20)
            #expect(Array(bytes[0..<4]) == Array("QINC".utf8))
            let reopened = try DataDirectoryIncarnation.openOrCreate(directory: directory, newID: { 7 })
            #expect(reopened == DataDirectoryIncarnation(id: 0x1234_5678_9ABC_DEF0, isNew: false))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["INCARNATION"])
        }
    }

    @Test("a wiped directory comes back with a different incarnation; 0 is never drawn")
    func wipedDirectoryIsNew() async throws {
        try await withTemporaryDirectory { root in
            let first = try DataDirectoryIncarnation.openOrCreate(directory: root + "/d")
            try FileManager.default.removeItem(atPath: root + "/d")
            var draws: [UInt64] = [0, 0, 42]
            let second = try DataDirectoryIncarnation.openOrCreate(directory: root + "/d", newID: { draws.removeFirst() })
            #expect(second.id == 42 && second.isNew)
            #expect(first.id != 0 && first.id != second.id)
        }
    }

    @Test("a temporary file left by a crash during creation is replaced")
    func leftoverTemporaryFile() async throws {
        try await withTemporaryDirectory { directory in
            try writeBytes([1, 2, 3], to: directory + "/INCARNATION.tmp")
            let incarnation = try DataDirectoryIncarnation.openOrCreate(directory: directory, newID: { 9 })
            #expect(incarnation == DataDirectoryIncarnation(id: 9, isNew: true))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["INCARNATION"])
        }
    }

    @Test("every damaged form is refused with the file, the offset and what to do",
          arguments: [
            ("short", 16, "it is 16 bytes long, expected 20"),
            ("magic", 0, "it does not start with \"QINC\""),
            ("version", 4, "format version 2, this build reads 1"),
            ("bit flip", 16, "checksum mismatch"),
            ("zero id", 8, "the incarnation id is 0"),
          ])
    func damaged(form: String, offset: Int, reason: String) async throws {
        try await withTemporaryDirectory { directory in
            var bytes = DataDirectoryIncarnation.encode(5)
            switch form {
            case "short": bytes.removeLast(4)
            case "magic": bytes[0] = UInt8(ascii: "X")
            case "version": bytes = Self.resealed(bytes) { $0[4] = 2 }
            case "bit flip": bytes[9] ^= 0x10
            default: bytes = Self.resealed(bytes) { $0[8] = 0 }
            }
            try writeBytes(bytes, to: directory + "/INCARNATION")
            do throws(StorageError) {
                _ = try DataDirectoryIncarnation.openOrCreate(directory: directory)
                Issue.record("\(form): opened a damaged incarnation file")
            } catch {
                #expect(error.code == .damaged)
                #expect(error.file == directory + "/INCARNATION")
                #expect(error.offset == offset)
                #expect(error.message.contains(reason), "\(error.message)")
                #expect(error.message.contains("wipe the whole data directory"))
            }
        }
    }

    /// `bytes` changed by `change`, with a valid checksum again.
    static func resealed(_ bytes: [UInt8], _ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var body = Array(bytes[0..<16])
        change(&body)
        let crc = CRC32C.checksum(body)
        return body + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) }
    }
}
