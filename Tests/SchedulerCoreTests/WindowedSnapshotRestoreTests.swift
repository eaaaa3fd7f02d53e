import BinaryCoding
import DeterministicRandom
import SchedulerCore
import SchedulerTesting
import Testing

/// Issue #18: a restore decodes the image from its file in windows, never holding it whole. The
/// windowed decode must give exactly the state and the errors of the decode of one array.
@Suite("Snapshot restored through a windowed reader")
struct WindowedSnapshotRestoreTests {
    static let seeds: [UInt64] = [1, 3, 42]
    /// Windows that split every field (1 byte), most of them (7) and few of them.
    static let windows = [1, 7, 4_096, SchedulerState.snapshotChunkBytes]

    /// The outcome of a decode: the restored state's image, or the error.
    static func decode(_ image: [UInt8], windowBytes: Int?) -> Result<[UInt8], DecodeError> {
        do throws(DecodeError) {
            if let windowBytes {
                return .success(try SchedulerState(snapshot: ArrayByteSource(image), windowBytes: windowBytes).snapshot())
            }
            return .success(try SchedulerState(snapshot: image).snapshot())
        } catch {
            return .failure(error)
        }
    }

    @Test("the windowed decode gives the array decode's state at every window size", arguments: seeds)
    func sameState(seed: UInt64) throws {
        print("seed \(seed)")
        let image = SchedulerWorkload.replay(seed: seed, count: 600).snapshot()
        let whole = try SchedulerState(snapshot: image)
        for windowBytes in Self.windows {
            let windowed = try SchedulerState(snapshot: ArrayByteSource(image), windowBytes: windowBytes)
            #expect(windowed.snapshot() == image, "seed \(seed), window \(windowBytes)")
            #expect(windowed.snapshotDigest() == whole.snapshotDigest(), "seed \(seed), window \(windowBytes)")
            #expect(windowed.unfinishedRunCount == whole.unfinishedRunCount)
        }
    }

    @Test("a truncated image fails with the array decode's error at every window size")
    func truncated() {
        let image = SchedulerWorkload.replay(seed: 5, count: 200).snapshot()
        for length in stride(from: 0, to: image.count, by: max(1, image.count / 97)) {
            let cut = Array(image.prefix(length))
            let expected = Self.decode(cut, windowBytes: nil)
            guard case .failure = expected else {
                Issue.record("a prefix of \(length) of \(image.count) bytes decoded")
                continue
            }
            for windowBytes in [1, 7, 4_096] {
                #expect(Self.decode(cut, windowBytes: windowBytes) == expected, "prefix \(length), window \(windowBytes)")
            }
        }
    }

    @Test("a flipped bit gives the array decode's outcome at every window size")
    func flippedBits() {
        print("seed 11")
        let image = SchedulerWorkload.replay(seed: 11, count: 200).snapshot()
        var random = SplitMix64(seed: 11)
        for _ in 0..<150 {
            var damaged = image
            let position = Int(random.next() % UInt64(image.count))
            damaged[position] ^= UInt8(1) << (random.next() % 8)
            let expected = Self.decode(damaged, windowBytes: nil)
            for windowBytes in [1, 7, 4_096] {
                #expect(Self.decode(damaged, windowBytes: windowBytes) == expected, "byte \(position), window \(windowBytes)")
            }
        }
    }

    @Test("a count larger than the bytes left in the stream fails before allocating, whatever the window")
    func countBeyondTheStream() {
        // An empty state's image ends with the four table counts (jobs, runs, DAG runs, keys): 0.
        let image = SchedulerState().snapshot()
        #expect(Array(image.suffix(4)) == [0, 0, 0, 0])
        var writer = BinaryWriter()
        writer.write(UInt64(1_000_000_000))
        let damaged = Array(image.dropLast(4)) + writer.bytes + [0, 0, 0]
        let expected = DecodeError("count 1000000000 exceeds the 3 bytes left", offset: image.count - 4)
        #expect(Self.decode(damaged, windowBytes: nil) == .failure(expected))
        for windowBytes in [1, 7, 4_096] {
            #expect(Self.decode(damaged, windowBytes: windowBytes) == .failure(expected), "window \(windowBytes)")
        }
    }

    @Test("a source that ends before the length it declared is an error, not a trap")
    func shortSource() {
        struct Short: BinaryByteSource {
            let bytes: [UInt8]
            var count: Int { bytes.count + 10 }
            func read(offset: Int, length: Int) throws(DecodeError) -> [UInt8] {
                try ArrayByteSource(bytes).read(offset: offset, length: length)
            }
        }
        let image = SchedulerWorkload.replay(seed: 2, count: 100).snapshot()
        #expect(throws: DecodeError.self) { try SchedulerState(snapshot: Short(bytes: image), windowBytes: 64) }
    }
}

@Suite("Windowed binary reader")
struct WindowedBinaryReaderTests {
    static func sample() -> [UInt8] {
        var w = BinaryWriter()
        w.write(UInt64.max)
        w.write(Int64.min)
        w.write("a string longer than a small window, é")
        w.write(3.25)
        w.write([UInt8](repeating: 9, count: 300))
        w.write(true)
        w.writeArray([1, 2, 3] as [Int]) { $0.write($1) }
        return w.bytes
    }

    static func read(_ r: inout BinaryReader) throws(DecodeError) -> [String] {
        var fields: [String] = []
        fields.append("\(try r.readUInt64())")
        fields.append("\(try r.readInt64())")
        fields.append(try r.readString())
        fields.append("\(try r.readDouble())")
        fields.append("\(try r.readBytes())")
        fields.append("\(try r.readBool())")
        fields.append("\(try r.readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readInt() })")
        return fields
    }

    @Test("every field reads the same across window boundaries; offsets and what is left are the stream's")
    func fieldsAcrossWindows() throws {
        let bytes = Self.sample()
        var whole = BinaryReader(bytes)
        let expected = try Self.read(&whole)
        for windowBytes in [1, 2, 3, 7, 64, 4_096] {
            var r = BinaryReader(source: ArrayByteSource(bytes), windowBytes: windowBytes)
            #expect(r.remaining == bytes.count)
            #expect(try Self.read(&r) == expected, "window \(windowBytes)")
            #expect(r.isAtEnd && r.offset == bytes.count && r.remaining == 0)
            #expect(throws: DecodeError("unexpected end of data", offset: bytes.count)) { try r.readByte() }
        }
    }
}

@Suite("Restored ids share their strings")
struct RestoredIDSharingTests {
    /// Whether two strings use one buffer (ids here are longer than 15 bytes: heap strings).
    static func sameBuffer(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in b.withUTF8 { y in x.baseAddress == y.baseAddress } }
    }

    @Test("a restored job's id and its run's job id share one buffer, and so do its run id and its run's id, as after applies")
    func idsShared() throws {
        var h = Harness()
        let ids = (0..<50).map { "job-with-a-long-id-\($0)" }
        for id in ids { h.submitOnce(id, runAt: h.clock.adding(milliseconds: 86_400_000)) }
        // A job without runs in between must not stop the sharing of the runs after it.
        h.submitCron("cron-with-a-long-id", firstFireAt: h.clock.adding(milliseconds: 86_400_000))
        for id in ids.map({ "later-" + $0 }) { h.submitOnce(id, runAt: h.clock.adding(milliseconds: 86_400_000)) }
        let image = h.state.snapshot()
        for windowBytes in [nil, 7] as [Int?] {
            let restored = try windowBytes.map { try SchedulerState(snapshot: ArrayByteSource(image), windowBytes: $0) }
                ?? SchedulerState(snapshot: image)
            #expect(restored.snapshot() == image)
            // The run right after the job without runs is where the cursor resynchronises: it
            // may keep its own strings; every later one shares again.
            for id in ids + ids.dropFirst().map({ "later-" + $0 }) {
                let job = try #require(restored.job(JobID(id)))
                let runID = try #require(job.runID)
                let run = try #require(restored.run(runID))
                #expect(Self.sameBuffer(job.id.rawValue, try #require(run.jobID).rawValue), "\(id): job id")
                #expect(Self.sameBuffer(runID.rawValue, run.id.rawValue), "\(id): run id")
                for active in job.activeRuns { #expect(Self.sameBuffer(runID.rawValue, active.rawValue), "\(id): active run") }
            }
        }
    }
}
