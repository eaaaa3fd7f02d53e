import DeterministicRandom
import Foundation
@testable import HTTPAPI
import NIOCore
import SchedulerCore
import Testing

/// The hand-written `JobResource` encoder writes the same JSON as `JSONEncoder` (the API's
/// settings): same keys, same null/absent rules, same values — compared parsed, since
/// `JSONEncoder` writes keys in hash order.
@Suite("JobResource's hand-written JSON")
struct JobResourceJSONTests {

    @Test("random jobs encode like JSONEncoder", arguments: Array(UInt64(1)...40))
    func randomJobs(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for round in 0..<50 {
            let job = RandomResources.job(&random)
            #expect(job.canWriteJSON)
            try expectSameJSON(job, "seed \(seed), round \(round)")
        }
    }

    @Test("edge cases: escapes, extreme integers and times, empty collections, every task kind")
    func edgeCases() throws {
        var job = RandomResources.job(seed: 7)
        let awkward = "q\"b\\s/c\u{0}\u{1}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1F}\u{7F}é😀\u{2028}"
        job.name = awkward
        job.labels = [awkward: awkward, "": ""]
        job.priority = .min
        job.attempt = .max
        job.retentionSeconds = .max
        job.runs = []
        job.createdAt = APITimestamp(Timestamp(0))
        job.updatedAt = APITimestamp(Timestamp(253_402_300_799_999))  // 9999-12-31T23:59:59.999Z
        job.timeoutSeconds = 1e20
        for task in [TaskBody.noop, .sleep(seconds: .integer(.max)), .sleep(seconds: .fractional(0.1)),
                     .shell(command: [], env: [:], workdir: awkward), .shell(command: [awkward], env: nil, workdir: nil),
                     .http(method: nil, url: "https://a.example/x?y=1", headers: nil, body: nil),
                     .http(method: "PUT", url: awkward, headers: ["H": awkward], body: awkward)] {
            job.task = task
            try expectSameJSON(job, "task \(task)")
        }
        for type in ["cron", "once"] {
            job.type = type
            job.nextRunAt = nil
            job.lastRun = nil
            try expectSameJSON(job, "\(type) without next run")
        }
        job.createdAt = APITimestamp(Timestamp(-62_167_219_200_001))  // year -1: the slow path of the time writer
        job.notify = [NotifyRuleBody(), NotifyRuleBody(on: [], webhook: awkward, email: [awkward])]
        try expectSameJSON(job, "early time, notify rules")
    }

    @Test("a page of random jobs (GET /api/jobs) encodes like JSONEncoder, with and without next_cursor",
          arguments: Array(UInt64(1)...8))
    func randomPages(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for count in [0, 1, 50] {
            let jobs = (0..<count).map { _ in RandomResources.job(&random) }
            for cursor in [nil, "18446744073709551615"] {
                let page = ListPage(items: jobs, nextCursor: cursor)
                let fast = Data(try #require(page.handWrittenJSON()).readableBytesView)
                let codable = try RequestReading.encode(page)
                let fastObject = try #require(try JSONSerialization.jsonObject(with: fast) as? NSDictionary)
                let codableObject = try #require(try JSONSerialization.jsonObject(with: codable) as? NSDictionary)
                #expect(fastObject == codableObject, "seed \(seed), \(count) jobs, cursor \(cursor ?? "null")")
                #expect(try canonical(fast) == canonical(codable), "seed \(seed), \(count) jobs")
            }
        }
        var awkward = RandomResources.job(&random)
        awkward.notifications = []
        #expect(ListPage(items: [RandomResources.job(&random), awkward], nextCursor: nil).handWrittenJSON() == nil,
                "a page with a job the hand-written encoder does not write goes through JSONEncoder")
    }

    @Test("a job the hand-written encoder does not write goes through JSONEncoder, which keeps its error")
    func fallbacks() throws {
        var job = RandomResources.job(seed: 3)
        job.notifications = []
        #expect(!job.canWriteJSON)
        job.notifications = nil
        job.timeoutSeconds = .nan
        #expect(!job.canWriteJSON)
        #expect(throws: APIError.self) { try RequestReading.json(job: job) }
    }

    func expectSameJSON(_ job: JobResource, _ context: String) throws {
        var writer = JSONBufferWriter(buffer: ByteBuffer())
        job.writeJSON(into: &writer)
        let fast = Data(writer.buffer.readableBytesView)
        let codable = try RequestReading.encode(job)
        let fastObject = try #require(try JSONSerialization.jsonObject(with: fast) as? NSDictionary, "\(context): \(String(decoding: fast, as: UTF8.self))")
        let codableObject = try #require(try JSONSerialization.jsonObject(with: codable) as? NSDictionary)
        #expect(fastObject == codableObject, "\(context)\nfast:    \(String(decoding: fast, as: UTF8.self))\ncodable: \(String(decoding: codable, as: UTF8.self))")
        // Same text once keys are in one order: the numbers and escapes are written alike.
        #expect(try canonical(fast) == canonical(codable), "\(context)")
    }

    func canonical(_ json: Data) throws -> String {
        let object = try JSONSerialization.jsonObject(with: json)
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// Seeded random API resources and strings for the wire tests.
enum RandomResources {
    static func job(seed: UInt64) -> JobResource {
        var random = SplitMix64(seed: seed)
        return job(&random)
    }

    static func job(_ r: inout SplitMix64) -> JobResource {
        let isCron = r.chance(50)
        var job = JobResource(
            id: string(&r, ascii: true), name: string(&r), type: isCron ? "cron" : "once",
            state: pick(&r, ["queued", "running", "succeeded", "scheduled", "paused"]), status: pick(&r, ["Pending", "In-Progress", "Completed", "Failed"]),
            schedule: isCron ? "*/5 * * * *" : nil, timezone: isCron ? pick(&r, ["UTC", "Europe/Berlin"]) : nil,
            runAt: isCron ? nil : maybe(&r) { APITimestamp(timestamp(&$0)) }, nextRunAt: maybe(&r) { APITimestamp(timestamp(&$0)) },
            lastRun: maybe(&r) { attempt(&$0) }, priority: integer(&r), task: task(&r), retry: retry(&r),
            timeoutSeconds: pick(&r, [30, 0.5, 0.001, 86_400, 12.345, 1e-7, 123_456_789.25]),
            concurrency: isCron ? pick(&r, ["allow", "forbid", "replace"]) : nil, misfire: isCron ? pick(&r, ["skip", "run_once"]) : nil,
            missedFires: isCron ? r.below(5) : nil, labels: map(&r), attempt: r.below(10), tries: maybe(&r) { $0.below(5) },
            lostAttempts: maybe(&r) { $0.below(5) }, createdAt: APITimestamp(timestamp(&r)), updatedAt: APITimestamp(timestamp(&r)),
            dag: maybe(&r) { string(&$0) }, runs: (0..<r.below(4)).map { _ in attempt(&r) })
        job.retentionSeconds = maybe(&r) { Int64($0.below(1_000_000_000)) }
        job.historyLimit = maybe(&r) { $0.below(1000) }
        job.version = maybe(&r) { $0.below(100) + 1 }
        job.constraints = maybe(&r) { map(&$0) }
        job.maxPerNode = maybe(&r) { $0.below(1024) + 1 }
        job.reason = maybe(&r) { string(&$0) }
        job.notify = maybe(&r) { r in (0..<r.below(3)).map { _ in NotifyRuleBody(on: maybe(&r) { strings(&$0) }, webhook: maybe(&r) { string(&$0) }, email: maybe(&r) { strings(&$0) }) } }
        return job
    }

    static func attempt(_ r: inout SplitMix64) -> AttemptResource {
        AttemptResource(runId: string(&r, ascii: true), attempt: r.below(5), executor: maybe(&r) { string(&$0) }, state: string(&r),
                        outcome: maybe(&r) { string(&$0) }, scheduledAt: APITimestamp(timestamp(&r)),
                        startedAt: maybe(&r) { APITimestamp(timestamp(&$0)) }, finishedAt: maybe(&r) { APITimestamp(timestamp(&$0)) },
                        exitCode: maybe(&r) { integer(&$0) }, httpStatus: maybe(&r) { $0.below(600) }, durationMs: maybe(&r) { Int64(integer(&$0)) },
                        outputTail: maybe(&r) { string(&$0) }, error: maybe(&r) { string(&$0) }, dagId: maybe(&r) { string(&$0) },
                        tries: maybe(&r) { $0.below(5) }, lostAttempts: maybe(&r) { $0.below(5) })
    }

    static func task(_ r: inout SplitMix64) -> TaskBody {
        switch r.below(4) {
        case 0: .noop
        case 1: .sleep(seconds: r.chance(50) ? .integer(Int64(integer(&r))) : .fractional(pick(&r, [0.5, 0.001, 2.75, 1e-3])))
        case 2: .shell(command: strings(&r), env: maybe(&r) { map(&$0) }, workdir: maybe(&r) { string(&$0) })
        default: .http(method: maybe(&r) { pick(&$0, ["GET", "POST"]) }, url: string(&r), headers: maybe(&r) { map(&$0) }, body: maybe(&r) { string(&$0) })
        }
    }

    static func retry(_ r: inout SplitMix64) -> RetryBody {
        RetryBody(maxAttempts: maybe(&r) { $0.below(10) + 1 }, initialBackoffMs: maybe(&r) { Int64(integer(&$0)) },
                  multiplier: maybe(&r) { pick(&$0, [1, 2, 1.5, 3.25]) }, maxBackoffMs: maybe(&r) { Int64($0.below(100_000)) },
                  jitter: maybe(&r) { $0.chance(50) }, maxLostAttempts: maybe(&r) { $0.below(1001) })
    }

    /// Letters, the characters JSON escapes, slashes, non-ASCII and astral ones.
    static func string(_ r: inout SplitMix64, ascii: Bool = false) -> String {
        let plain = Array("abcXYZ019-_.~ ")
        let awkward: [Character] = ["\"", "\\", "/", "\u{0}", "\u{1}", "\u{8}", "\t", "\n", "\u{B}", "\u{C}", "\r", "\u{1F}", "\u{7F}", "é", "日", "😀", "\u{2028}"]
        return String((0..<r.below(12)).map { _ in ascii || r.chance(70) ? pick(&r, plain) : pick(&r, awkward) })
    }

    static func strings(_ r: inout SplitMix64) -> [String] { (0..<r.below(4)).map { _ in string(&r) } }

    static func map(_ r: inout SplitMix64) -> [String: String] {
        Dictionary((0..<r.below(4)).map { _ in (string(&r), string(&r)) }, uniquingKeysWith: { first, _ in first })
    }

    static func integer(_ r: inout SplitMix64) -> Int {
        let wild = Int(bitPattern: UInt(r.next()))
        return pick(&r, [0, 1, -1, 7, 1000, Int(Int32.max), Int.max, Int.min, wild])
    }

    static func timestamp(_ r: inout SplitMix64) -> Timestamp {
        Timestamp(Int64(r.below(4_102_444_800_000)))  // 1970 … 2100
    }

    static func maybe<T>(_ r: inout SplitMix64, _ make: (inout SplitMix64) -> T) -> T? {
        r.chance(50) ? make(&r) : nil
    }

    static func pick<T>(_ r: inout SplitMix64, _ values: [T]) -> T { values[r.below(values.count)] }
}
