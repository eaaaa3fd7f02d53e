@testable import Executor
import Testing

@Suite("OutputTail keeps the last bytes in bounded memory")
struct OutputTailTests {
    @Test("a stream shorter than the limit is kept whole")
    func shortStream() {
        var tail = OutputTail(limit: 16)
        tail.append(Array("hello ".utf8))
        tail.append(Array("world".utf8))
        #expect(tail.text == "hello world")
        #expect(tail.totalBytes == 11)
    }

    @Test("small chunks wrap around the ring and keep exactly the last bytes", arguments: [1, 3, 7, 64])
    func wrapsAround(chunkSize: Int) {
        let stream = Array((0..<1000).map { UInt8(ascii: "a") + UInt8($0 % 26) })
        var tail = OutputTail(limit: 100)
        var start = 0
        while start < stream.count {
            let end = min(start + chunkSize, stream.count)
            tail.append(stream[start..<end])
            start = end
        }
        #expect(tail.bytes == Array(stream.suffix(100)))
        #expect(tail.totalBytes == 1000)
    }

    @Test("a chunk larger than the limit keeps only its own last bytes")
    func hugeChunk() {
        var tail = OutputTail(limit: 10)
        tail.append(Array("0123".utf8))
        tail.append(Array("abcdefghijklmnopqrstuvwxyz".utf8))
        #expect(tail.text == "qrstuvwxyz")
    }

    @Test("a limit of zero keeps nothing")
    func zeroLimit() {
        var tail = OutputTail(limit: 0)
        tail.append(Array("abc".utf8))
        #expect(tail.text.isEmpty)
    }

    @Test("a character cut at the start of the tail is dropped, not garbled")
    func cutsOnCharacterBoundary() {
        // "é" is C3 A9; keeping 4 bytes of "xé€" (78 C3 A9 E2 82 AC) starts inside "é".
        var tail = OutputTail(limit: 4)
        tail.append(Array("xé€".utf8))
        #expect(tail.text == "€")
    }

    @Test("invalid bytes become U+FFFD and the text stays within the limit")
    func replacesInvalidBytes() {
        var tail = OutputTail(limit: 4)
        tail.append([0x61, 0xFF, 0xFE, 0x62])
        let text = tail.text
        #expect(text.unicodeScalars.contains("\u{FFFD}"))
        #expect(text.hasSuffix("b"))
        #expect(text.utf8.count <= 4)
    }
}

@Suite("Durations in messages")
struct DurationTextTests {
    @Test("seconds are written without trailing zeros", arguments: [
        (Duration.seconds(10), "10s"), (.milliseconds(500), "0.5s"), (.milliseconds(1250), "1.25s"),
        (.zero, "0s"), (.milliseconds(5), "0.005s"),
    ])
    func format(duration: Duration, text: String) {
        #expect(DurationText.seconds(duration) == text)
    }
}
