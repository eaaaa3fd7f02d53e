import Logging
import NodeCore
@testable import NodeRuntime
import RaftCore
import SchedulerCore
import Testing

/// The counts the leader's quota check reads: kept by the state machine after every batch, the
/// size estimate reset to a measured image by each snapshot encoded or installed.
@Suite("Admission gauges: unfinished runs and the state-size estimate")
struct AdmissionGaugesTests {
    let t0 = Timestamp(1_800_000_000_000)
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func entry(_ index: UInt64, _ command: Command) -> Raft.Entry {
        Raft.Entry(term: Raft.Term(1), index: Raft.LogIndex(index), data: CommandCodec.encode(command, at: t0))
    }

    func submit(_ id: String) -> Command {
        .submitJob(SubmitJob(jobID: JobID(id), spec: JobSpec(name: id), runID: RunID("r-" + id)))
    }

    @Test("applies add their entries' bytes and set the unfinished count; a finish lowers the count")
    func applied() async throws {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        let gauges = machine.admissionGauges
        let entries = [entry(1, submit("a")), entry(2, submit("b"))]
        try await machine.apply(entries)
        #expect(gauges.unfinishedRuns == 2)
        #expect(gauges.stateBytes == entries.reduce(0) { $0 + $1.data.count })
        try await machine.apply([entry(3, .cancelJob("a"))])
        #expect(gauges.unfinishedRuns == 1)
    }

    @Test("an encoded snapshot resets the estimate to its size plus what was applied after the freeze; a restore to the image's size")
    func snapshotResets() async throws {
        let machine = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        let gauges = machine.admissionGauges
        try await machine.apply((1...20).map { entry(UInt64($0), submit("j\($0)")) })
        let encode = await machine.snapshotEncoder()
        let later = entry(21, submit("late"))
        try await machine.apply([later])
        var image: [UInt8] = []
        encode { image += $0 }
        #expect(gauges.stateBytes == image.count + later.data.count)

        let restored = SchedulerStateMachine(executorID: "n2", replayThrough: .zero, logger: logger) { _ in }
        try await restored.restore(image, through: Raft.LogIndex(20))
        #expect(restored.admissionGauges.stateBytes == image.count)
        #expect(restored.admissionGauges.unfinishedRuns == 20)
    }

    @Test("an older encoding finishing after a newer one does not move the estimate back")
    func olderEncodingIgnored() {
        let gauges = AdmissionGauges()
        gauges.noteApplied(unfinishedRuns: 1, entryBytes: 100)
        let old = gauges.freezeMark()
        gauges.noteApplied(unfinishedRuns: 2, entryBytes: 50)
        let new = gauges.freezeMark()
        gauges.noteEncoded(bytes: 400, mark: new)
        gauges.noteEncoded(bytes: 300, mark: old)
        #expect(gauges.stateBytes == 400)
    }
}
