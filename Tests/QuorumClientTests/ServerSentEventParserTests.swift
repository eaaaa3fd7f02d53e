import QuorumClient
import Testing

@Suite("text/event-stream parsing")
struct ServerSentEventParserTests {
    @Test("events split anywhere, comments skipped, CRLF and CR line ends, multi-line data")
    func parsesInPieces() {
        let stream = ": open\n\nid: 5000000\nevent: run\ndata: {\"a\":1}\n\n: hb\r\n\r\nevent: reset\r\ndata: x\r\ndata: y\r\rid: 6\ndata:z\n\n"
        let bytes = Array(stream.utf8)
        for split in [1, 2, 3, 7, bytes.count] {
            var parser = ServerSentEventParser()
            var events: [ServerSentEvent] = []
            var start = 0
            while start < bytes.count {
                events += parser.consume(bytes[start..<min(bytes.count, start + split)])
                start += split
            }
            #expect(events == [
                ServerSentEvent(id: "5000000", event: "run", data: "{\"a\":1}"),
                ServerSentEvent(id: nil, event: "reset", data: "x\ny"),
                ServerSentEvent(id: "6", event: "message", data: "z"),
            ], "split every \(split) bytes")
            #expect(parser.lastEventID == "6")
        }
    }

    @Test("a block without data is no event; an overlong line is cut, never held whole")
    func edgeCases() {
        var parser = ServerSentEventParser(maxLineBytes: 8)
        #expect(parser.consume(Array("id: 1\n\n".utf8)).isEmpty)
        #expect(parser.lastEventID == "1")
        let events = parser.consume(Array("data: 0123456789\n\n".utf8))
        #expect(events.first?.data == "01")
    }

    @Test("the follower's request carries the filters")
    func followerRequest() {
        let request = EventFollower.request(types: ["run", "dag"], job: "j 1", dag: nil, labels: ["team:a"])
        #expect(request.target.hasPrefix("/api/events?"))
        #expect(request.target.contains("types=run,dag") || request.target.contains("types=run%2Cdag"))
        #expect(request.target.contains("label=team"))
    }
}
