import Foundation
import RaftCore
import Testing

@testable import RaftStorage

@Suite("WAL inspector")
struct WALInspectorTests {
    @Test("a healthy directory: segments with index ranges, hard state, snapshot, checksums verified")
    func healthy() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await FileLogStore.open(directory: directory, options: testOptions(segmentSize: 300))
            for start in stride(from: 1, through: 31, by: 5) {
                try await store.append(makeEntries(from: UInt64(start), count: 5))
            }
            try await store.setHardState(Raft.HardState(term: 4, vote: "n2", commit: 20))
            try await store.saveSnapshot(RaftSnapshot(index: 12, term: 1, data: [1]))
            await store.close()

            let report = try WALInspector.inspect(directory: directory)
            #expect(!report.isDamaged)
            #expect(report.hardState == Raft.HardState(term: 4, vote: "n2", commit: 20))
            #expect(report.logIndexes?.first == 13)
            #expect(report.logIndexes?.last == 35)
            #expect(report.segments.count >= 2)
            #expect(report.segments.compactMap { $0.entryIndexes?.upperBound }.max() == 35)
            let text = report.rendered
            #expect(text.contains("vote n2"))
            #expect(text.contains(SnapshotFile.name(index: 12, term: 1)))
            #expect(text.contains("verdict: ok"))
        }
    }

    @Test("a torn tail is reported but is not damage, and inspecting changes nothing")
    func tornTail() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await FileLogStore.open(directory: directory, options: testOptions())
            try await store.append(makeEntries(from: 1, count: 3))
            try await store.append(makeEntries(from: 4, count: 3))
            await store.close()
            let path = try #require(try segmentFiles(in: directory).last)
            let bytes = try readBytes(path)
            try writeBytes(Array(bytes.dropLast(7)), to: path)

            let report = try WALInspector.inspect(directory: directory)
            #expect(!report.isDamaged)
            #expect(report.tornTail?.length == bytes.count - 7 - (report.tornTail?.offset ?? 0))
            #expect(report.logIndexes?.last == 3)
            #expect(report.rendered.contains("torn tail"))
            #expect(try readBytes(path) == Array(bytes.dropLast(7)))
        }
    }

    @Test("damage is reported with the file and byte offset")
    func damaged() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await FileLogStore.open(directory: directory, options: testOptions())
            for index in 1...5 { try await store.append(makeEntries(from: UInt64(index), count: 1)) }
            await store.close()
            let path = try #require(try segmentFiles(in: directory).last)
            var bytes = try readBytes(path)
            let target = frames(of: bytes)[2]
            bytes[target.payload.lowerBound] ^= 0x80
            try writeBytes(bytes, to: path)

            let report = try WALInspector.inspect(directory: directory)
            #expect(report.isDamaged)
            #expect(report.damage?.offset == target.offset)
            #expect(report.rendered.contains("DAMAGED"))
            #expect(report.rendered.contains("byte offset \(target.offset)"))
        }
    }
}
