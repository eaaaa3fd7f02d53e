import DeterministicRandom
import Foundation
@testable import HTTPAPI
import Testing

/// The hand-written `JobSubmission` decoder against `JSONDecoder` with the strict `init(from:)`s:
/// whatever it reads, `JSONDecoder` reads to the same value, and `StrictJSON.decodeSubmission`
/// answers exactly as `StrictJSON.decode` does (same value, or the same error: code, field,
/// message) on valid bodies and on mutated ones.
@Suite("JobSubmission's hand-written decoder")
struct JobSubmissionFastDecodingTests {

    @Test("valid random submissions: the fast path reads them, to the value JSONDecoder reads", arguments: Array(UInt64(1)...40))
    func validBodies(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for round in 0..<40 {
            let body = RandomJSON.text(RandomJSON.submission(&random), &random)
            let context = "seed \(seed), round \(round): \(body)"
            let fast = JobSubmission.fastDecode(Array(body.utf8))
            #expect(fast != nil, "\(context)")
            try expectSameAnswer(body, context)
        }
    }

    @Test("mutated submissions: same value or same error as the Codable path", arguments: Array(UInt64(1)...40))
    func mutatedBodies(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for round in 0..<60 {
            var tree = RandomJSON.submission(&random)
            for _ in 0...random.below(2) { RandomJSON.mutate(&tree, &random) }
            var bytes = Array(RandomJSON.text(tree, &random).utf8)
            if random.chance(30) { RandomJSON.mutateBytes(&bytes, &random) }
            try expectSameAnswer(bytes, "seed \(seed), round \(round): \(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test("batches: same value or same error as the Codable path", arguments: Array(UInt64(1)...10))
    func batches(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for round in 0..<20 {
            var items = (0..<random.below(4)).map { _ in RandomJSON.submission(&random) }
            if random.chance(40), !items.isEmpty { RandomJSON.mutate(&items[random.below(items.count)], &random) }
            let body = RandomJSON.text(.object([("jobs", .array(items))]), &random)
            let old = Result { () throws(APIError) in try StrictJSON.decode(BatchSubmission.self, from: Array(body.utf8)) }
            let new = Result { () throws(APIError) in try StrictJSON.decodeBatch(from: Array(body.utf8)) }
            #expect(old == new, "seed \(seed), round \(round): \(body)")
        }
    }

    @Test("bodies the fast path leaves to JSONDecoder", arguments: [
        #"{"name":"a","name":"b"}"#,                       // a repeated key: JSONDecoder keeps the first
        "\u{FEFF}{\"name\":\"a\"}",                         // a byte-order mark
        #"{"priority":1.0}"#, #"{"priority":1e2}"#, #"{"priority":-0}"#, #"{"priority":99999999999999999999}"#,
        #"{"retry":{"max_attempts":2.0}}"#, #"{"name":"\ud800"}"#, #"{"name":"a"} x"#, #"{"task":{"kind":null}}"#,
        #"{"labels":{"a":null}}"#, #"{"task":{"kind":"noop","url":null}}"#, #"{"name":"a","color":"red"}"#,
    ])
    func leftToJSONDecoder(body: String) throws {
        #expect(JobSubmission.fastDecode(Array(body.utf8)) == nil)
        try expectSameAnswer(body, body)
    }

    func expectSameAnswer(_ body: String, _ context: String) throws {
        try expectSameAnswer(Array(body.utf8), context)
    }

    func expectSameAnswer(_ bytes: [UInt8], _ context: String) throws {
        let codable = Result { () throws(APIError) in try StrictJSON.decode(JobSubmission.self, from: bytes) }
        if let fast = JobSubmission.fastDecode(bytes) {
            #expect(codable == .success(fast), "\(context)")
        }
        let routed = Result { () throws(APIError) in try StrictJSON.decodeSubmission(from: bytes) }
        #expect(routed == codable, "\(context)")
    }
}

/// Random JSON trees shaped like submissions, written with random whitespace and escapes.
enum RandomJSON {
    indirect enum Value {
        case object([(String, Value)])
        case array([Value])
        case string(String)
        case number(String)
        case bool(Bool)
        case null
    }

    typealias R = RandomResources

    /// A valid submission whose numbers the fast path reads (no `1.0`, huge or `-0`).
    static func submission(_ r: inout SplitMix64) -> Value {
        var members: [(String, Value)] = []
        func add(_ key: String, _ chance: Int = 40, _ make: (inout SplitMix64) -> Value) {
            guard r.chance(chance) else { return }
            members.append((key, r.chance(10) ? .null : make(&r)))
        }
        add("name", 90) { .string(R.string(&$0)) }
        add("type") { .string(R.pick(&$0, ["once", "cron", "weekly"])) }
        add("schedule") { .string(R.pick(&$0, ["*/5 * * * *", "99 * * * *", ""])) }
        add("timezone") { .string(R.pick(&$0, ["UTC", "Europe/Berlin", "Nowhere/Town"])) }
        add("run_at") { .string(RFC3339.format(R.timestamp(&$0))) }
        add("delay_seconds") { wireNumber(&$0) }
        add("priority") { wireNumber(&$0) }
        add("task", 70) { task(&$0) }
        add("retry") { retry(&$0) }
        add("timeout_seconds") { wireNumber(&$0) }
        add("concurrency") { .string(R.pick(&$0, ["allow", "forbid", "sometimes"])) }
        add("misfire") { .string(R.pick(&$0, ["skip", "run_once"])) }
        add("labels") { map(&$0) }
        add("retention_seconds") { wireNumber(&$0) }
        add("history_limit") { wireNumber(&$0) }
        add("constraints") { map(&$0) }
        add("max_per_node") { wireNumber(&$0) }
        add("notify", 20) { r in
            .array((0..<r.below(3)).map { _ in
                var rule: [(String, Value)] = []
                if r.chance(70) { rule.append(("on", .array(R.strings(&r).map(Value.string)))) }
                if r.chance(50) { rule.append(("webhook", .string(R.string(&r)))) }
                if r.chance(50) { rule.append(("email", r.chance(10) ? .null : .array(R.strings(&r).map(Value.string)))) }
                return .object(rule)
            })
        }
        shuffle(&members, &r)
        return .object(members)
    }

    static func task(_ r: inout SplitMix64) -> Value {
        var members: [(String, Value)]
        switch r.below(4) {
        case 0: members = [("kind", .string("noop"))]
        case 1: members = [("kind", .string("sleep")), ("seconds", wireNumber(&r))]
        case 2:
            members = [("kind", .string("shell")), ("command", .array(R.strings(&r).map(Value.string)))]
            if r.chance(50) { members.append(("env", r.chance(20) ? .null : map(&r))) }
            if r.chance(50) { members.append(("workdir", .string(R.string(&r)))) }
        default:
            members = [("kind", .string("http")), ("url", .string(R.string(&r)))]
            if r.chance(50) { members.append(("method", .string(R.pick(&r, ["GET", "POST", "BREW"])))) }
            if r.chance(50) { members.append(("headers", map(&r))) }
            if r.chance(50) { members.append(("body", r.chance(20) ? .null : .string(R.string(&r)))) }
        }
        shuffle(&members, &r)
        return .object(members)
    }

    static func retry(_ r: inout SplitMix64) -> Value {
        var members: [(String, Value)] = []
        if r.chance(50) { members.append(("max_attempts", .number(R.pick(&r, ["1", "3", "0", "-2", "1000000"])))) }
        if r.chance(50) { members.append(("initial_backoff_ms", .number(R.pick(&r, ["0", "250", "9223372036854775807"])))) }
        if r.chance(50) { members.append(("multiplier", .number(R.pick(&r, ["1", "2", "1.5", "0.25", "3e0", "2.5E+1"])))) }
        if r.chance(50) { members.append(("max_backoff_ms", .number(R.pick(&r, ["0", "60000"])))) }
        if r.chance(50) { members.append(("jitter", r.chance(10) ? .null : .bool(r.chance(50)))) }
        if r.chance(50) { members.append(("max_lost_attempts", .number(R.pick(&r, ["0", "5", "1001"])))) }
        shuffle(&members, &r)
        return .object(members)
    }

    /// A plain integer, or a number whose value has a fraction.
    static func wireNumber(_ r: inout SplitMix64) -> Value {
        .number(R.pick(&r, ["0", "1", "-1", "30", "86400", "9223372036854775807", "-9223372036854775808",
                            "0.5", "-2.25", "1e-3", "12.5E-1", "3.000001", "0.1"]))
    }

    static func map(_ r: inout SplitMix64) -> Value {
        .object(R.map(&r).sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// Changes one random value of `tree`: a wrong type, an unknown or repeated key, an odd
    /// number, a task without its kind.
    static func mutate(_ tree: inout Value, _ r: inout SplitMix64) {
        switch tree {
        case .object(var members):
            if members.isEmpty || r.chance(25) {
                switch r.below(4) {
                case 0: members.append(("color", .string("red")))
                case 1: if let first = members.first { members.append(first) }
                case 2: members.removeAll { $0.0 == "kind" || $0.0 == "url" || $0.0 == "command" || $0.0 == "seconds" }
                default: members.append(("kind", .string(R.pick(&r, ["noop", "cron", "shell"]))))
                }
            } else {
                let index = r.below(members.count)
                if r.chance(50) { mutate(&members[index].1, &r) } else { members[index].1 = odd(&r) }
            }
            tree = .object(members)
        case .array(var items) where !items.isEmpty:
            mutate(&items[r.below(items.count)], &r)
            tree = .array(items)
        default:
            tree = odd(&r)
        }
    }

    /// A value of a random type, or a number the fast path leaves alone.
    static func odd(_ r: inout SplitMix64) -> Value {
        R.pick(&r, [.null, .bool(true), .string("5"), .string("2026-13-01T00:00:00Z"), .string("2026-12-01T09:00:00+02:00"),
                    .number("1.0"), .number("1e2"), .number("-0"), .number("99999999999999999999"), .number("1E400"),
                    .number("0.5"), .array([]), .array([.number("1")]), .object([]), .object([("kind", .string("noop"))])])
    }

    /// Deletes, inserts or replaces one byte, or cuts the text short.
    static func mutateBytes(_ bytes: inout [UInt8], _ r: inout SplitMix64) {
        guard !bytes.isEmpty else { return }
        let index = r.below(bytes.count)
        let noise: [UInt8] = Array(#"{}[]:,"\ 0-.e/nutfx"#.utf8) + [0x00, 0x09, 0x1F, 0x80, 0xC3, 0xFF]
        switch r.below(4) {
        case 0: bytes.remove(at: index)
        case 1: bytes.insert(R.pick(&r, noise), at: index)
        case 2: bytes[index] = R.pick(&r, noise)
        default: bytes.removeSubrange(index...)
        }
    }

    /// The tree as JSON text, with random whitespace between tokens and random (valid) escapes.
    static func text(_ value: Value, _ r: inout SplitMix64) -> String {
        var out = ""
        write(value, into: &out, &r)
        return space(&r) + out + space(&r)
    }

    static func write(_ value: Value, into out: inout String, _ r: inout SplitMix64) {
        switch value {
        case .object(let members):
            out += "{" + space(&r)
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," + space(&r) }
                out += quoted(member.0, &r) + space(&r) + ":" + space(&r)
                write(member.1, into: &out, &r)
                out += space(&r)
            }
            out += "}"
        case .array(let items):
            out += "[" + space(&r)
            for (index, item) in items.enumerated() {
                if index > 0 { out += space(&r) + "," + space(&r) }
                write(item, into: &out, &r)
            }
            out += space(&r) + "]"
        case .string(let text): out += quoted(text, &r)
        case .number(let text): out += text
        case .bool(let flag): out += flag ? "true" : "false"
        case .null: out += "null"
        }
    }

    static func space(_ r: inout SplitMix64) -> String {
        r.chance(70) ? "" : R.pick(&r, [" ", "\n", "\t", "\r\n", "  "])
    }

    /// A JSON string: required escapes always, optional ones (`\/`, `\u00e9`, surrogate pairs)
    /// at random.
    static func quoted(_ text: String, _ r: inout SplitMix64) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/": out += r.chance(50) ? "\\/" : "/"
            case "\n": out += r.chance(50) ? "\\n" : "\\u000A"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || r.chance(10) {
                    for unit in String(scalar).utf16 { out += "\\u" + String(format: r.chance(50) ? "%04x" : "%04X", unit) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func shuffle<T>(_ values: inout [T], _ r: inout SplitMix64) {
        guard values.count > 1 else { return }
        for index in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(index, r.below(index + 1))
        }
    }
}
