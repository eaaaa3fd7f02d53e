import Foundation
import Testing

@testable import Chaos

/// `--config` (an existing cluster): which nemeses are refused and why, and how a node the tool
/// did not start is found by its pid file, signalled, and seen gone.
@Suite struct ExistingClusterTests {
    private func cluster(pidFile: String? = nil, startCommand: String? = nil) -> ExistingCluster {
        ExistingCluster(ids: ["n1", "n2", "n3"], apiURLs: ["n1": "http://127.0.0.1:1"], configPath: "/tmp/cluster.toml",
                        pidFile: pidFile, startCommand: startCommand)
    }

    private func refusal(_ existing: ExistingCluster, _ nemeses: [NemesisKind]) -> String? {
        do {
            try existing.validate(nemeses: nemeses)
            return nil
        } catch {
            return error.description
        }
    }

    @Test(arguments: [NemesisKind.partition, .oneWay, .bridge, .clock, .wipe])
    func nemesesThatNeedAGeneratedClusterAreRefused(_ kind: NemesisKind) throws {
        let message = try #require(refusal(cluster(pidFile: "/run/{id}.pid", startCommand: "quorum node --id {id}"), [kind]))
        #expect(message.contains("nemesis \(kind.rawValue) cannot run against an existing cluster"))
        #expect(message.contains("use kill, stop or restart-all"))
    }

    @Test func stopNeedsOnlyPidFiles() throws {
        #expect(refusal(cluster(pidFile: "/run/{id}.pid"), [.stop]) == nil)
        let message = try #require(refusal(cluster(), [.stop]))
        #expect(message.contains("--pid-file"))
    }

    @Test(arguments: [NemesisKind.kill, .restartAll])
    func restartingNemesesNeedAStartCommand(_ kind: NemesisKind) throws {
        let message = try #require(refusal(cluster(pidFile: "/run/{id}.pid"), [kind]))
        #expect(message.contains("--start-command"))
        #expect(refusal(cluster(pidFile: "/run/{id}.pid", startCommand: "quorum node --id {id}"), [kind]) == nil)
        // A template without {id} would start the same node for every member.
        #expect(refusal(cluster(pidFile: "/run/{id}.pid", startCommand: "quorum node --id n1"), [kind]) != nil)
    }

    @Test func linkFaultsAreRefusedWithConfig() throws {
        var options = ChaosOptions(outDirectory: "/tmp/x", binary: "/bin/true")
        options.existing = cluster(pidFile: "/run/{id}.pid")
        options.nemeses = [.stop]
        options.linkQuality = LinkQuality(delayMilliseconds: 20, loss: 0)
        #expect(throws: ChaosError.self) { try options.validate() }
        options.linkQuality = LinkQuality()
        options.nodes = 4  // the config's size, not 3 or 5
        try options.validate()
    }

    @Test func prefetchIsForTheGeneratedClusterAndAtMostItsSlots() throws {
        var options = ChaosOptions(outDirectory: "/tmp/x", binary: "/bin/true")
        options.prefetch = 4
        try options.validate()
        options.prefetch = 5
        #expect(throws: ChaosError.self) { try options.validate() }
        options.prefetch = 2
        options.existing = cluster(pidFile: "/run/{id}.pid")
        options.nemeses = [.stop]
        options.nodes = 3
        #expect(throws: ChaosError.self) { try options.validate() }
    }

    /// A process this tool did not spawn as a node: adopted from its pid file, alive until
    /// killed, and not alive once it is a zombie its real parent (here the test) has not reaped.
    @Test func aNodeFoundByItsPidFileIsSignalledAndSeenGone() async throws {
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { if sleeper.isRunning { sleeper.terminate() } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chaos-adopt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pidFile = directory + "/n1.pid"
        try "\(sleeper.processIdentifier)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        let node = NodeProcess(id: "n1", executable: "", arguments: [], directory: directory,
                               logPath: directory + "/n1.log", pidFile: pidFile)
        #expect(node.isRunning)
        await node.killAndWait(timeout: .seconds(10))
        #expect(!node.isRunning, "a SIGKILLed adopted node still counted as running")
        #expect(node.pids.isEmpty, "an adopted pid is not one the tool started")
        // No start command: starting it again is refused, and the pid file is left as it was.
        #expect(throws: ChaosError.self) { try node.start() }
        #expect(try String(contentsOfFile: pidFile, encoding: .utf8) == "\(sleeper.processIdentifier)\n")
    }
}
