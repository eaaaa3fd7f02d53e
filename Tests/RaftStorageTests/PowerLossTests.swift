import DeterministicRandom
import RaftCore
import Testing

@testable import RaftStorage

/// What a store holds, for comparing a recovered store with the oracle.
struct Observed: Equatable, CustomStringConvertible {
    var hardState: Raft.HardState
    var snapshot: RaftSnapshot?
    var firstIndex: Raft.LogIndex
    var lastIndex: Raft.LogIndex
    var entries: [Raft.Entry]

    init(_ store: any RaftLogStore) throws {
        hardState = store.hardState
        snapshot = store.snapshot
        firstIndex = store.firstIndex
        lastIndex = store.lastIndex
        entries = try store.entries(from: store.firstIndex, through: store.lastIndex)
    }

    var description: String {
        "hs \(hardState.term)/\(hardState.vote?.rawValue ?? "-")/\(hardState.commit) snap \(snapshot?.index.rawValue ?? 0) "
            + "log \(firstIndex)...\(lastIndex) terms \(entries.map(\.term.rawValue))"
    }
}

/// One write of the power-loss workload, applied to the store under test and to the oracle.
enum Workload {
    case persist(Raft.HardState?, [Raft.Entry])
    case snapshot(RaftSnapshot)

    func apply(to store: any RaftLogStore) async throws {
        switch self {
        case .persist(let hardState, let entries): _ = try await store.persist(hardState: hardState, entries: entries)
        case .snapshot(let snapshot): try await store.saveSnapshot(snapshot)
        }
    }

    /// The next write for a store in `state`: appends, conflicting suffixes, hard states, snapshots.
    static func next(after oracle: InMemoryLogStore, random: inout SplitMix64) -> Workload {
        let last = oracle.lastIndex.rawValue
        let first = oracle.firstIndex.rawValue
        let term = max(oracle.hardState.term.rawValue, oracle.term(at: oracle.lastIndex)?.rawValue ?? 0, 1)
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<5:
            return .persist(nil, makeEntries(from: last + 1, count: Int.random(in: 1...4, using: &random), term: term, size: 40))
        case 5 where last >= first:
            let start = UInt64.random(in: first...last, using: &random)
            return .persist(nil, makeEntries(from: start, count: Int.random(in: 1...3, using: &random), term: term + 1, size: 40))
        case 6:
            let vote = Bool.random(using: &random) ? Raft.NodeID("n\(Int.random(in: 1...3, using: &random))") : nil
            return .persist(Raft.HardState(term: Raft.Term(term + 1), vote: vote, commit: Raft.LogIndex(last / 2)), [])
        case 7 where last >= first:
            let index = Raft.LogIndex(UInt64.random(in: first...last, using: &random))
            return .snapshot(RaftSnapshot(index: index, term: oracle.term(at: index) ?? .zero, data: Array("state@\(index.rawValue)".utf8)))
        case 8:
            return .snapshot(RaftSnapshot(index: Raft.LogIndex(last + 3), term: Raft.Term(term + 1), data: [9]))
        default:
            return .persist(
                Raft.HardState(term: Raft.Term(term), vote: "n1", commit: Raft.LogIndex(last)),
                makeEntries(from: last + 1, count: 2, term: term, size: 40))
        }
    }
}

@Suite("Power loss")
struct PowerLossTests {
    static let directory = "/sim/node"

    /// Runs the workload of `seed` on `disk` until it ends or the power fails. Returns the oracle
    /// states before and after the write that was in flight (equal if none was).
    private func run(seed: UInt64, writes: Int, on disk: SimulatedDisk) async throws -> (before: Observed, after: Observed) {
        var random = SplitMix64(seed: seed)
        let oracle = InMemoryLogStore()
        let empty = try Observed(oracle)
        let store: FileLogStore
        do {
            store = try await FileLogStore.open(directory: Self.directory, options: testOptions(segmentSize: 600, fileSystem: disk))
        } catch {
            return (empty, empty)
        }
        for _ in 0..<writes {
            let write = Workload.next(after: oracle, random: &random)
            let before = try Observed(oracle)
            do {
                try await write.apply(to: store)
            } catch where disk.crashed {
                try await write.apply(to: oracle)
                let after = try Observed(oracle)
                await store.close()
                return (before, after)
            }
            try await write.apply(to: oracle)
            #expect(try Observed(store) == Observed(oracle), "seed \(seed)")
        }
        await store.close()
        let final = try Observed(oracle)
        return (final, final)
    }

    @Test("power lost after every single file-system step: recovery yields the state before or after the write in flight",
        arguments: [UInt64(1), 2, 3, 4])
    func powerLossAtEveryStep(seed: UInt64) async throws {
        let writes = 40
        let probe = SimulatedDisk(directories: ["/sim"])
        _ = try await run(seed: seed, writes: writes, on: probe)
        let steps = probe.operations
        var random = SplitMix64(seed: seed &* 7919)
        for crashPoint in 0...steps {
            let disk = SimulatedDisk(directories: ["/sim"])
            disk.crash(afterOperations: crashPoint)
            let (before, after) = try await run(seed: seed, writes: writes, on: disk)
            let image = disk.imageAfterPowerLoss(&random)
            let restarted = SimulatedDisk(image: image, directories: disk.directories)
            do {
                let store = try await FileLogStore.open(directory: Self.directory, options: testOptions(segmentSize: 600, fileSystem: restarted))
                let recovered = try Observed(store)
                #expect(recovered == before || recovered == after,
                    "seed \(seed) crash point \(crashPoint): recovered \(recovered), expected \(before) or \(after)")
                await store.close()
            } catch {
                Issue.record("seed \(seed) crash point \(crashPoint): recovery failed: \(error)\n\(Self.dump(image))")
            }
        }
    }

    @Test("power lost after every step with sectors torn: recovery yields the state before or after, or refuses at the torn frame",
        arguments: [UInt64(5), 6])
    func sectorTearingAtEveryStep(seed: UInt64) async throws {
        let writes = 40
        let probe = SimulatedDisk(directories: ["/sim"])
        _ = try await run(seed: seed, writes: writes, on: probe)
        let steps = probe.operations
        var random = SplitMix64(seed: seed &* 104_729)
        var refused = 0
        var zeroExplained = 0
        for crashPoint in 0...steps {
            let disk = SimulatedDisk(directories: ["/sim"])
            disk.crash(afterOperations: crashPoint)
            let (before, after) = try await run(seed: seed, writes: writes, on: disk)
            let image = disk.imageAfterPowerLoss(&random, tearingSectors: true)
            let restarted = SimulatedDisk(image: image, directories: disk.directories)
            // Before the first open made the directory there is nothing to inspect.
            let report = try? WALInspector.inspect(directory: Self.directory, fileSystem: SimulatedDisk(image: image, directories: disk.directories))
            do {
                let store = try await FileLogStore.open(directory: Self.directory, options: testOptions(segmentSize: 600, fileSystem: restarted))
                let recovered = try Observed(store)
                #expect(recovered == before || recovered == after,
                    "seed \(seed) crash point \(crashPoint): recovered \(recovered), expected \(before) or \(after)")
                if report?.tornTail?.reason.contains("all zero") == true { zeroExplained += 1 }
                #expect(report?.isDamaged != true, "seed \(seed) crash point \(crashPoint): the inspector disagrees with the open")
                await store.close()
            } catch let error as StorageError {
                // Refusing is safe, and allowed only for the write in flight: a torn frame whose
                // only unwritten piece is too short to tell from legitimate zeros.
                refused += 1
                let last = image.keys.filter { $0.hasSuffix(".wal") }.max()
                #expect(error.code == .damaged && error.file == last, "seed \(seed) crash point \(crashPoint): \(error)\n\(Self.dump(image))")
                #expect(report?.damage == error, "seed \(seed) crash point \(crashPoint): the inspector disagrees with the open")
                #expect(before != after, "seed \(seed) crash point \(crashPoint): refused although no write was in flight")
            }
        }
        print("seed \(seed): \(steps + 1) power losses with torn sectors, \(zeroExplained) tails cut for zeroed sectors, \(refused) refused at the torn write")
    }

    /// The records of every segment in `image`, for failure messages.
    static func dump(_ image: [String: [UInt8]]) -> String {
        var lines: [String] = []
        for (path, bytes) in image.sorted(by: { $0.key < $1.key }) {
            lines.append("\(path) (\(bytes.count) bytes)")
            guard path.hasSuffix(".wal") else { continue }
            bytes.withUnsafeBytes { raw in
                let scan = SegmentScanner.scan(raw)
                for frame in scan.frames where frame.type == .batch {
                    let records = (try? WALDecoder.batch(payload: UnsafeRawBufferPointer(rebasing: raw[frame.payload]))) ?? []
                    let text = records.map { record -> String in
                        switch record {
                        case .entries(let entries): "entries \(entries.first?.index.rawValue ?? 0)...\(entries.last?.index.rawValue ?? 0) t\(entries.first?.term.rawValue ?? 0)"
                        case .hardState(let state): "hs t\(state.term.rawValue)"
                        case .snapshotMarker(let index, let term, let kept): "marker \(index.rawValue) t\(term.rawValue) \(kept ? "kept" : "discarded")"
                        case .truncation(let from): "truncate \(from.rawValue)"
                        }
                    }
                    lines.append("  @\(frame.offset): " + text.joined(separator: ", "))
                }
                lines.append("  end: \(scan.end)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
