import DeterministicRandom
import Dispatch
import NIOCore
import NIOEmbedded
import Testing

@testable import Transport

private let seeds: [UInt64] = [1, 2, 3, 42, 0xDEAD_BEEF, 20_261_130]

private func randomFrame(using random: inout SplitMix64, maximumPayload: Int = 512) -> Transport.Frame {
    let size = Int.random(in: 0...maximumPayload, using: &random)
    return Transport.Frame(
        type: .random(in: 0...255, using: &random),
        bytes: (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) })
}

private func encoded(_ frames: [Transport.Frame]) -> ByteBuffer {
    var buffer = ByteBuffer()
    for frame in frames { Transport.FrameEncoder.write(frame, into: &buffer) }
    return buffer
}

private func makeChannel(maximumFrameLength: Int = 1024) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandlers([
        ByteToMessageHandler(Transport.FrameDecoder(maximumFrameLength: maximumFrameLength)),
        MessageToByteHandler(Transport.FrameEncoder()),
    ])
    return channel
}

@Suite("Frame codec")
struct FrameCodecTests {
    @Test("the wire layout is length (UInt32 BE), version, type, payload")
    func wireLayout() {
        let buffer = encoded([Transport.Frame(type: 7, bytes: [0xAA, 0xBB, 0xCC])])
        #expect(Array(buffer.readableBytesView) == [0, 0, 0, 5, 1, 7, 0xAA, 0xBB, 0xCC])
    }

    @Test("an empty payload round-trips")
    func emptyPayload() throws {
        var buffer = encoded([Transport.Frame(type: 0, bytes: [])])
        let frame = try Transport.FrameDecoder().decodeFrame(from: &buffer)
        #expect(frame == Transport.Frame(type: 0, bytes: []))
        #expect(buffer.readableBytes == 0)
    }

    @Test("random frames round-trip through encode and decode", arguments: seeds)
    func roundTrip(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let decoder = Transport.FrameDecoder(maximumFrameLength: 1024)
        for _ in 0..<500 {
            let frames = (0..<Int.random(in: 1...5, using: &random)).map { _ in randomFrame(using: &random) }
            var buffer = encoded(frames)
            var decoded: [Transport.Frame] = []
            while let frame = try decoder.decodeFrame(from: &buffer) { decoded.append(frame) }
            #expect(decoded == frames, "seed \(seed)")
            #expect(buffer.readableBytes == 0, "seed \(seed)")
        }
    }

    @Test("a frame of exactly the maximum length is accepted, one byte more is not")
    func maximumBoundary() throws {
        let decoder = Transport.FrameDecoder(maximumFrameLength: 100)
        var atMaximum = encoded([Transport.Frame(type: 1, bytes: [UInt8](repeating: 9, count: 98))])
        #expect(try decoder.decodeFrame(from: &atMaximum)?.payload.readableBytes == 98)
        var above = encoded([Transport.Frame(type: 1, bytes: [UInt8](repeating: 9, count: 99))])
        #expect(throws: Transport.FrameError.frameTooLarge(length: 101, maximum: 100)) {
            try decoder.decodeFrame(from: &above)
        }
    }
}

@Suite("Frame codec in a channel pipeline")
struct FrameChannelTests {
    @Test("frames split across many reads are reassembled", arguments: seeds)
    func splitReads(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let channel = try makeChannel()
        let frames = (0..<20).map { _ in randomFrame(using: &random) }
        var stream = encoded(frames)
        while stream.readableBytes > 0 {
            let size = Int.random(in: 1...Swift.min(7, stream.readableBytes), using: &random)
            guard let slice = stream.readSlice(length: size) else { Issue.record("slice"); return }
            try channel.writeInbound(slice)
        }
        var received: [Transport.Frame] = []
        while let frame = try channel.readInbound(as: Transport.Frame.self) { received.append(frame) }
        #expect(received == frames, "seed \(seed)")
        #expect(try channel.finish().isClean)
    }

    @Test("several frames coalesced into one read all arrive, in order")
    func coalescedReads() throws {
        let channel = try makeChannel()
        let frames = (0..<10).map { Transport.Frame(type: UInt8($0), bytes: [UInt8](repeating: UInt8($0), count: $0 * 3)) }
        try channel.writeInbound(encoded(frames))
        var received: [Transport.Frame] = []
        while let frame = try channel.readInbound(as: Transport.Frame.self) { received.append(frame) }
        #expect(received == frames)
        #expect(try channel.finish().isClean)
    }

    @Test("an oversized length prefix is rejected as soon as the prefix arrives, before the body")
    func oversizedLength() throws {
        let channel = try makeChannel(maximumFrameLength: 1024)
        var header = ByteBuffer()
        header.writeInteger(UInt32.max)
        #expect(throws: Transport.FrameError.frameTooLarge(length: UInt32.max, maximum: 1024)) {
            try channel.writeInbound(header)
        }
        _ = try? channel.finish()
    }

    @Test("a wrong version byte is rejected")
    func wrongVersion() throws {
        let channel = try makeChannel()
        var buffer = encoded([Transport.Frame(type: 3, bytes: [1, 2, 3])])
        buffer.setInteger(UInt8(2), at: 4)
        #expect(throws: Transport.FrameError.unsupportedVersion(2)) { try channel.writeInbound(buffer) }
        _ = try? channel.finish()
    }

    @Test("a length below the header size is rejected")
    func lengthTooSmall() throws {
        let channel = try makeChannel()
        #expect(throws: Transport.FrameError.lengthTooSmall(length: 1)) {
            try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 1, 1]))
        }
        _ = try? channel.finish()
    }

    @Test("a connection that ends mid-frame is an error, not a silent loss")
    func truncatedAtEnd() throws {
        let channel = try makeChannel()
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 9, 1, 5, 1]))
        #expect(try channel.readInbound(as: Transport.Frame.self) == nil)
        #expect(throws: Transport.FrameError.truncatedFrame(bufferedBytes: 7)) { _ = try channel.finish() }
    }

    @Test("frames written outbound are encoded")
    func outbound() throws {
        let channel = try makeChannel()
        try channel.writeOutbound(Transport.Frame(type: 9, bytes: [4, 5]))
        let bytes = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(bytes.readableBytesView) == [0, 0, 0, 4, 1, 9, 4, 5])
        #expect(try channel.finish().isClean)
    }
}

@Suite("Frame decoder fuzzing")
struct FrameFuzzTests {
    @Test("10,000 mutated inputs per seed: no trap, typed errors only, frames re-encode exactly", arguments: [UInt64(1), 7, 2026])
    func fuzz(seed: UInt64) async {
        // CPU-bound: run it on a Dispatch thread so it does not starve the concurrency pool that
        // the loopback TLS tests run on in parallel.
        let report = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Transport.FrameDecoderFuzz(seed: seed).run(inputs: 10_000))
            }
        }
        #expect(report.violations.isEmpty, "seed \(seed): \(report.violations)")
        #expect(report.inputs == 10_000)
        // The mutations must actually reach every rejection path.
        for kind in ["frameTooLarge", "lengthTooSmall", "unsupportedVersion"] {
            #expect((report.errors[kind] ?? 0) > 0, "seed \(seed): no \(kind) in \(report)")
        }
    }
}
