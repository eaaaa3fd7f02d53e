// The submission path's JSON, coder by coder, in one process: `JSONDecoder` + the strict
// `init(from:)`s against the hand-written `JobSubmission` decoder, and `JSONEncoder` against the
// hand-written `JobResource` encoder, on the bodies `scripts/bench.sh submit` sends and gets.
// Rounds alternate the two sides (A B B A …) so machine load falls on both alike; prints the
// median ns per operation of each. Run by scripts/bench-json.sh.
import Foundation
import HTTPAPI
import NIOCore

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 100_000
let rounds = 6

let request = Array(#"{"name":"b","task":{"kind":"noop"}}"#.utf8)
let fullRequest = Array(#"""
{"name":"nightly-report","type":"once","delay_seconds":30,"priority":5,
 "task":{"kind":"shell","command":["/usr/bin/env","echo","hi"],"env":{"MODE":"fast"}},
 "retry":{"max_attempts":5,"initial_backoff_ms":1000,"multiplier":2.0},"labels":{"team":"data","tier":"gold"}}
"""#.utf8)
// A 201 body of a fresh noop job as a node writes it.
let responseText = #"""
{"id":"j-0000000000000000042","name":"b","type":"once","state":"queued","status":"Pending","version":1,
 "run_at":"2026-12-06T14:00:00.123Z","priority":0,"task":{"kind":"noop"},"retry":{"max_attempts":3,
 "initial_backoff_ms":1000,"multiplier":2,"max_backoff_ms":300000,"jitter":true,"max_lost_attempts":5},
 "timeout_seconds":3600,"labels":{},"attempt":0,"tries":0,"lost_attempts":0,"created_at":"2026-12-06T14:00:00.123Z",
 "updated_at":"2026-12-06T14:00:00.123Z","runs":[{"run_id":"j-0000000000000000042","attempt":0,"executor":null,
 "state":"queued","outcome":null,"scheduled_at":"2026-12-06T14:00:00.123Z","started_at":null,"finished_at":null,
 "exit_code":null,"http_status":null,"duration_ms":null,"output_tail":null,"error":null,"dag_id":null,"tries":0,
 "lost_attempts":0}],"retention_seconds":604800,"history_limit":20}
"""#
guard let job = try? JSONDecoder().decode(JobResource.self, from: Data(responseText.utf8)) else {
    print("the sample response does not decode as a JobResource")
    exit(1)
}
let encoder = JSONEncoder()
encoder.outputFormatting = [.withoutEscapingSlashes]

/// Nanoseconds per call of `body` over `iterations` calls; `sink` keeps the work alive.
func nanosPerOp(_ body: () -> Int) -> Double {
    var sink = 0
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<iterations { sink &+= body() }
    let elapsed = clock.now - start
    if sink == .min { print("") }
    let (seconds, attoseconds) = elapsed.components
    return (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(iterations)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func compare(_ label: String, codable: () -> Int, handWritten: () -> Int) {
    var a: [Double] = []
    var b: [Double] = []
    for round in 0..<rounds {
        if round % 2 == 0 {
            a.append(nanosPerOp(codable)); b.append(nanosPerOp(handWritten))
        } else {
            b.append(nanosPerOp(handWritten)); a.append(nanosPerOp(codable))
        }
    }
    print(String(format: "%@: Codable %.0f ns, hand-written %.0f ns (%.1fx)", label, median(a), median(b), median(a) / median(b)))
}

compare("decode noop submission", codable: {
    (try? StrictJSON.decode(JobSubmission.self, from: request))?.name?.utf8.count ?? 0
}, handWritten: {
    (try? StrictJSON.decodeSubmission(from: request))?.name?.utf8.count ?? 0
})
compare("decode full submission", codable: {
    (try? StrictJSON.decode(JobSubmission.self, from: fullRequest))?.name?.utf8.count ?? 0
}, handWritten: {
    (try? StrictJSON.decodeSubmission(from: fullRequest))?.name?.utf8.count ?? 0
})
compare("encode 201 JobResource", codable: {
    guard let data = try? encoder.encode(job) else { return 0 }
    return ByteBuffer(bytes: data).readableBytes
}, handWritten: {
    job.handWrittenJSON()?.readableBytes ?? 0
})
