import Foundation
import Testing

@testable import NodeRuntime

@Suite("the data directory is the node user's alone")
struct DataDirectoryTests {
    private func mode(_ path: String) throws -> Int {
        try #require((FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue)
    }

    private func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("data-dir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        return path
    }

    @Test("a new one is 0700; an existing one of Quorum's (empty or with wal/) is tightened to 0700")
    func createdAndTightened() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(try DataDirectory.create("\(root)/new/n1") == nil)
        #expect(try mode("\(root)/new/n1") == 0o700)
        let old = "\(root)/old"
        try FileManager.default.createDirectory(atPath: "\(old)/wal", withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: old)
        #expect(try DataDirectory.create(old) == nil)
        #expect(try mode(old) == 0o700)
    }

    @Test("a shared directory that is not Quorum's is left alone, with a warning naming it")
    func sharedLeftAlone() throws {
        let root = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(root)/someone-elses-file"))
        let warning = try #require(try DataDirectory.create(root))
        #expect(warning.contains("the data directory \(root) is mode 755 and holds other files"))
        #expect(try mode(root) == 0o755)
    }
}
