// The hot request's hand-written decoder: every `POST /api/jobs` decodes a `JobSubmission`, and
// `JSONDecoder` with the strict `init(from:)`s (a keyed container per object, the unknown-key
// check through `allKeys`, generic metadata lookups) was about 7 % of the leader's CPU on single
// submissions, plus part of the 8 % of generic-metadata lookups (docs/benchmarks.md, 2026-11-30).
//
// It reads only bodies that `JSONDecoder` reads to the same value and misses on anything else
// (see ``JSONByteReader``), so every error, with its status, field and message, still comes
// from the `Codable` path: `StrictJSON.decodeSubmission` retries a miss there.
// `JobSubmissionFastDecodingTests` runs both over seeded random valid and mutated bodies.

extension StrictJSON {
    /// A `POST /api/jobs` body: the hand-written decoder, and `JSONDecoder` (with its errors)
    /// whenever that one misses.
    public static func decodeSubmission(from bytes: [UInt8]) throws(APIError) -> JobSubmission {
        if let submission = JobSubmission.fastDecode(bytes) { return submission }
        return try decode(JobSubmission.self, from: bytes)
    }
}

extension StrictJSON {
    /// A `POST /api/jobs/batch` body, the same way (each job through the hand-written decoder).
    public static func decodeBatch(from bytes: [UInt8]) throws(APIError) -> BatchSubmission {
        if let batch = BatchSubmission.fastDecode(bytes) { return batch }
        return try decode(BatchSubmission.self, from: bytes)
    }
}

extension BatchSubmission {
    /// The batch in `bytes`, or `nil` when the fast path does not read it.
    static func fastDecode(_ bytes: [UInt8]) -> BatchSubmission? {
        var reader = JSONByteReader(bytes)
        var jobs: [JobSubmission]?
        do {
            try reader.object { (r: inout JSONByteReader, key: String) throws(JSONByteReader.Miss) in
                guard key == CodingKeys.jobs.stringValue else { throw JSONByteReader.Miss() }
                if try r.consumeNull() { return }
                var items: [JobSubmission] = []
                try r.array { (r: inout JSONByteReader) throws(JSONByteReader.Miss) in items.append(try JobSubmission.read(&r)) }
                jobs = items
            }
            try reader.expectEnd()
        } catch {
            return nil
        }
        var batch = BatchSubmission(jobs: [])
        batch.jobs = jobs
        return batch
    }
}

extension JobSubmission {
    /// The submission in `bytes`, or `nil` when the fast path does not read it (which says
    /// nothing about whether it is valid).
    @inline(never)  // a frame of its own in profiles (docs/benchmarks.md)
    static func fastDecode(_ bytes: [UInt8]) -> JobSubmission? {
        var reader = JSONByteReader(bytes)
        do {
            let submission = try read(&reader)
            try reader.expectEnd()
            return submission
        } catch {
            return nil
        }
    }

    /// One submission object; a `null` member is an absent one (`decodeIfPresent`).
    static func read(_ reader: inout JSONByteReader) throws(JSONByteReader.Miss) -> JobSubmission {
        var s = JobSubmission()
        try reader.object { (r: inout JSONByteReader, key: String) throws(JSONByteReader.Miss) in
            guard let field = CodingKeys(stringValue: key) else { throw JSONByteReader.Miss() }
            if try r.consumeNull() { return }
            switch field {
            case .name: s.name = try r.string()
            case .type: s.type = try r.string()
            case .schedule: s.schedule = try r.string()
            case .timezone: s.timezone = try r.string()
            case .runAt:
                guard let time = RFC3339.parse(try r.string()) else { throw JSONByteReader.Miss() }
                s.runAt = APITimestamp(time)
            case .delaySeconds: s.delaySeconds = try WireNumber.read(&r)
            case .priority: s.priority = try WireNumber.read(&r)
            case .task: s.task = try TaskBody.read(&r)
            case .retry: s.retry = try RetryBody.read(&r)
            case .timeoutSeconds: s.timeoutSeconds = try WireNumber.read(&r)
            case .concurrency: s.concurrency = try r.string()
            case .misfire: s.misfire = try r.string()
            case .labels: s.labels = try r.stringMap()
            case .retentionSeconds: s.retentionSeconds = try WireNumber.read(&r)
            case .historyLimit: s.historyLimit = try WireNumber.read(&r)
            case .constraints: s.constraints = try r.stringMap()
            case .maxPerNode: s.maxPerNode = try WireNumber.read(&r)
            case .notify:
                var rules: [NotifyRuleBody] = []
                try r.array { (r: inout JSONByteReader) throws(JSONByteReader.Miss) in rules.append(try NotifyRuleBody.read(&r)) }
                s.notify = rules
            }
        }
        return s
    }
}

extension WireNumber {
    /// A plain integer that fits 64 bits, or a number whose value has a fraction; anything the
    /// `Codable` path might read as either (`1.0`, `1e3`, huge integers) misses.
    static func read(_ reader: inout JSONByteReader) throws(JSONByteReader.Miss) -> WireNumber {
        let number = try reader.number()
        if number.isPlainInteger {
            guard number.text != "-0", let value = Int64(number.text) else { throw JSONByteReader.Miss() }
            return .integer(value)
        }
        guard let value = Double(number.text), value.isFinite, value.rounded(.towardZero) != value else { throw JSONByteReader.Miss() }
        return .fractional(value)
    }
}

extension TaskBody {
    /// A task object: `kind` wherever it stands, only the kind's keys (a `null` one counts as
    /// present, as `allKeys` does), the required ones non-null.
    static func read(_ reader: inout JSONByteReader) throws(JSONByteReader.Miss) -> TaskBody {
        var present: [CodingKeys] = []
        var kind: String?
        var seconds: WireNumber?
        var command: [String]?
        var env: [String: String]?
        var workdir: String?
        var method: String?
        var url: String?
        var headers: [String: String]?
        var body: String?
        try reader.object { (r: inout JSONByteReader, key: String) throws(JSONByteReader.Miss) in
            guard let field = CodingKeys(stringValue: key) else { throw JSONByteReader.Miss() }
            present.append(field)
            if try r.consumeNull() { return }
            switch field {
            case .kind: kind = try r.string()
            case .seconds: seconds = try WireNumber.read(&r)
            case .command: command = try r.stringArray()
            case .env: env = try r.stringMap()
            case .workdir: workdir = try r.string()
            case .method: method = try r.string()
            case .url: url = try r.string()
            case .headers: headers = try r.stringMap()
            case .body: body = try r.string()
            }
        }
        guard let kind, let allowed = allowedKeys(kind: kind), present.allSatisfy(allowed.contains) else { throw JSONByteReader.Miss() }
        switch kind {
        case "noop": return .noop
        case "sleep":
            guard let seconds else { throw JSONByteReader.Miss() }
            return .sleep(seconds: seconds)
        case "shell":
            guard let command else { throw JSONByteReader.Miss() }
            return .shell(command: command, env: env, workdir: workdir)
        case "http":
            guard let url else { throw JSONByteReader.Miss() }
            return .http(method: method, url: url, headers: headers, body: body)
        default: throw JSONByteReader.Miss()
        }
    }
}

extension RetryBody {
    static func read(_ reader: inout JSONByteReader) throws(JSONByteReader.Miss) -> RetryBody {
        var retry = RetryBody()
        try reader.object { (r: inout JSONByteReader, key: String) throws(JSONByteReader.Miss) in
            guard let field = CodingKeys(stringValue: key) else { throw JSONByteReader.Miss() }
            if try r.consumeNull() { return }
            switch field {
            case .maxAttempts: retry.maxAttempts = try r.integer(Int.self)
            case .initialBackoffMs: retry.initialBackoffMs = try r.integer(Int64.self)
            case .multiplier: retry.multiplier = try r.double()
            case .maxBackoffMs: retry.maxBackoffMs = try r.integer(Int64.self)
            case .jitter: retry.jitter = try r.bool()
            case .maxLostAttempts: retry.maxLostAttempts = try r.integer(Int.self)
            }
        }
        return retry
    }
}

extension NotifyRuleBody {
    static func read(_ reader: inout JSONByteReader) throws(JSONByteReader.Miss) -> NotifyRuleBody {
        var rule = NotifyRuleBody()
        try reader.object { (r: inout JSONByteReader, key: String) throws(JSONByteReader.Miss) in
            guard let field = CodingKeys(stringValue: key) else { throw JSONByteReader.Miss() }
            if try r.consumeNull() { return }
            switch field {
            case .on: rule.on = try r.stringArray()
            case .webhook: rule.webhook = try r.string()
            case .email: rule.email = try r.stringArray()
            }
        }
        return rule
    }
}
