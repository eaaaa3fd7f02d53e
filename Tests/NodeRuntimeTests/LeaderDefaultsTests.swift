import NodeCore
@testable import NodeRuntime
import SchedulerCore
import SchedulerPlanning
import Testing

/// `[scheduler]` defaults are stamped by the leader, into its own clients' and followers'
/// commands alike (issue #12).
@Suite("The leader stamps the cluster defaults")
struct LeaderDefaultsTests {
    static let leaderTime = Timestamp(1_800_000_000_000)

    func retention(_ bytes: [UInt8]) throws -> Int64? {
        switch try CommandCodec.decode(bytes).command {
        case .submitJob(let submit): submit.spec.retentionMs
        case .submitDAG(let submit): submit.retentionMs
        default: nil
        }
    }

    @Test("a forward that left retention_seconds out gets the leader's [scheduler] retention_seconds; a given one is kept")
    func stampsRetention() throws {
        let resolver = LeaderResolver(clock: { Self.leaderTime }, builds: { MemberBuilds(probeFreshness: .seconds(1)) },
                                      members: { ["n1"] }, selfID: "n1", defaults: SubmissionDefaults(retentionMs: 120_000))
        let unset = SubmitJob(jobID: "j", spec: JobSpec(name: "a", retentionMs: JobSpec.clusterDefaultRetentionMs), runID: "r")
        #expect(try retention(resolver.entry(for: .submit(unset, .afterStamp(milliseconds: 0)))) == 120_000)
        let given = SubmitJob(jobID: "k", spec: JobSpec(name: "b", retentionMs: 60_000), runID: "s")
        #expect(try retention(resolver.entry(for: .submit(given, .afterStamp(milliseconds: 0)))) == 60_000)
        let dag = try DAGSpec.validated(name: "d", tasks: [DAGTaskSpec(id: "t")])
        let dagRun = UnstampedCommand(.submitDAG(SubmitDAG(dagRunID: "d1", spec: dag, retentionMs: JobSpec.clusterDefaultRetentionMs)))
        #expect(try retention(resolver.entry(for: dagRun)) == 120_000)
    }

    @Test("this build's leaders advertise that they stamp the defaults")
    func advertised() {
        #expect(PeerFeatures.thisBuild.contains(.clusterDefaults))
        #expect(CommandCodec.buildFormatVersion >= CommandCodec.leaderStampedDefaults)
    }
}
