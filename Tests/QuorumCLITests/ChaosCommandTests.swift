import Foundation
import Testing

/// `quorum chaos`'s option errors: exit 2 naming the option, before any cluster is started.
@Suite("quorum chaos options")
struct ChaosCommandTests {
    @Test(
        "a bad option exits 2 with a message naming it and starts nothing",
        arguments: [
            (["--nodes", "4"], "--nodes must be 3 or 5, got 4"),
            (["--nemesis", "kill,clok"], "unknown nemesis 'clok'"),
            (["--nemesis", ","], "--nemesis names no nemesis"),
            (["--duration", "2"], "--duration must be 10"),
            (["--link-delay-ms", "9000"], "--link-delay-ms must be 0…5000 milliseconds, got 9000"),
            (["--link-loss", "0.9"], "--link-loss must be a probability 0…0.5"),
        ])
    func badOptions(arguments: [String], message: String) throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("quorum-chaos-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try QuorumBinary.run(["chaos", "--out", out] + arguments)
        #expect(result.exitCode == 2, "\(result.standardError)")
        #expect(result.standardError.contains(message), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: out + "/cluster"))
    }
}
