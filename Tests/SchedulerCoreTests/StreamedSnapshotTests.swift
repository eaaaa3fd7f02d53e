import SchedulerCore
import SchedulerTesting
import Testing

/// Issue #18, "Memory": the snapshot is encoded in pieces, so writing or hashing it never holds
/// the whole image; the pieces must be exactly the one-array encoding.
@Suite("Snapshot encoded in pieces")
struct StreamedSnapshotTests {
    static let seeds: [UInt64] = [1, 3, 42]

    @Test("the pieces concatenate to snapshot(), at any piece size", arguments: seeds)
    func piecesAreTheImage(seed: UInt64) {
        let state = SchedulerWorkload.replay(seed: seed, count: 1_500)
        let whole = state.snapshot()
        for chunkBytes in [1, 7, 4_096, SchedulerState.snapshotChunkBytes] {
            var pieces: [[UInt8]] = []
            state.snapshot(chunkBytes: chunkBytes) { pieces.append($0) }
            #expect(Array(pieces.joined()) == whole, "seed \(seed), pieces of \(chunkBytes) bytes")
            #expect(!pieces.contains { $0.isEmpty }, "seed \(seed): an empty piece")
            if chunkBytes >= whole.count {
                #expect(pieces.count == 1, "seed \(seed): a state smaller than a piece is one piece")
            }
        }
    }

    @Test("a piece ends after the record that reached the size: no piece holds more than one record beyond it")
    func piecesStaySmall() {
        let state = SchedulerWorkload.replay(seed: 2, count: 1_500)
        var largest = 0
        var count = 0
        state.snapshot(chunkBytes: 2_048) { piece in
            largest = max(largest, piece.count)
            count += 1
        }
        #expect(count > 1)
        // One job record with its attempt history stays well below 16 KiB in this workload.
        #expect(largest < 2_048 + 16_384, "largest piece \(largest) bytes")
    }

    @Test("the streamed digest is the digest of the image", arguments: seeds)
    func digestOfPieces(seed: UInt64) {
        let state = SchedulerWorkload.replay(seed: seed, count: 1_500)
        #expect(state.snapshotDigest() == SchedulerSnapshot.digest(state.snapshot()), "seed \(seed)")
        #expect(SchedulerState().snapshotDigest() == SchedulerSnapshot.digest(SchedulerState().snapshot()))
    }
}

@Suite("DAG specs shared after a restore")
struct SharedDAGSpecTests {
    @Test("the runs of a cron DAG job share the job's spec object after a restore, and the image is unchanged")
    func restoredRunsShareTheSpec() throws {
        var h = Harness()
        let spec = try DAGSpec.validated(name: "etl", tasks: [
            DAGTaskSpec(id: "extract"), DAGTaskSpec(id: "load", dependsOn: ["extract"]),
        ])
        h.submitCron("nightly", firstFireAt: h.clock, dag: spec)
        for i in 0..<3 {
            h.apply(.fireCron(FireCron(jobID: "nightly", scheduledAt: h.clock, nextFireAt: h.clock + 60_000,
                                       runID: RunID("nightly-\(i)"))))
            h.advance(ms: 60_000)
        }
        let runs = (0..<3).compactMap { h.state.dagRun(DAGRunID("nightly-\($0)")) }
        try #require(runs.count == 3)
        let image = h.state.snapshot()
        let restored = try SchedulerState(snapshot: image)
        let jobSpec = try #require(restored.job("nightly")?.spec.dag)
        for i in 0..<3 {
            let run = try #require(restored.dagRun(DAGRunID("nightly-\(i)")))
            #expect(run.spec === jobSpec, "run \(i) holds its own copy of the spec")
        }
        #expect(restored.snapshot() == image)
    }
}
