import BinaryCoding
// Binary encoding of specs, shared by the command codec and the snapshot.

/// Which spec layout bytes use. ``lostAttemptCaps`` appends each retry policy's optional
/// ``RetryPolicy/maxLostAttempts``; the command codec uses it inside entry tag 19 and snapshots
/// from version 3 on. Old entries and snapshots keep ``v1``, so they decode (and re-encode) unchanged.
enum SpecFormat: Sendable {
    /// Retry policies without a lost cap (every cap decodes as `nil`).
    case v1
    /// Retry policies with an optional lost cap.
    case lostAttemptCaps
    /// As ``lostAttemptCaps``, and each job spec ends with its optional
    /// ``JobSpec/historyLimit`` (entry tag 20, snapshots from version 4).
    case historyLimits
    /// As ``historyLimits``, and each job spec and DAG task spec ends with its ``Placement``
    /// (entry tag 23, snapshots from ``SchedulerSnapshot/versionWithPlacement``).
    case placement
    /// As ``placement``, and each job spec then ends with its ``JobSpec/notify`` rules (entry
    /// tags 24 and 25, snapshots from ``SchedulerSnapshot/versionWithNotifications``).
    case notifyRules

    /// Whether retry policies carry the optional lost cap.
    var hasLostCaps: Bool { self != .v1 }
    /// Whether job specs end with the optional history limit.
    var hasHistoryLimit: Bool { self == .historyLimits || self == .placement || self == .notifyRules }
    /// Whether job and DAG task specs end with their placement.
    var hasPlacement: Bool { self == .placement || self == .notifyRules }
}

extension BinaryWriter {
    mutating func write(_ kv: KeyValue) {
        write(kv.key)
        write(kv.value)
    }
    mutating func write(_ task: TaskSpec) {
        switch task {
        case .noop: write(UInt8(0))
        case .sleep(let ms):
            write(UInt8(1))
            write(ms)
        case .shell(let shell):
            write(UInt8(2))
            writeArray(shell.argv) { $0.write($1) }
            writeArray(shell.environment) { $0.write($1) }
            writeOptional(shell.workingDirectory) { $0.write($1) }
        case .http(let http):
            write(UInt8(3))
            write(http.method)
            write(http.url)
            writeArray(http.headers) { $0.write($1) }
            write(http.body)
        }
    }
    mutating func write(_ retry: RetryPolicy, format: SpecFormat) {
        write(retry.maxAttempts)
        write(retry.initialBackoffMs)
        write(retry.multiplier)
        write(retry.maxBackoffMs)
        write(retry.jitter)
        if format.hasLostCaps { writeOptional(retry.maxLostAttempts) { $0.write($1) } }
    }
    mutating func write(_ task: DAGTaskSpec, format: SpecFormat) {
        write(task.id)
        writeArray(task.dependsOn) { $0.write($1) }
        write(task.task)
        write(task.retry, format: format)
        write(task.timeoutMs)
        if format.hasPlacement { write(task.placement) }
    }
    mutating func write(_ placement: Placement) {
        writeArray(placement.constraints) { $0.write($1) }
        writeOptional(placement.maxPerNode) { $0.write($1) }
    }
    mutating func write(_ dag: DAGSpec, format: SpecFormat) {
        write(dag.name)
        writeArray(dag.tasks) { $0.write($1, format: format) }
        write(dag.priority)
        writeArray(dag.labels) { $0.write($1) }
    }
    mutating func write(_ spec: JobSpec, format: SpecFormat) {
        write(spec.name)
        writeOptional(spec.schedule) {
            $0.write($1.expression)
            $0.write($1.timezone)
        }
        writeOptional(spec.runAt) { $0.write($1) }
        write(spec.priority)
        write(spec.task)
        writeOptional(spec.dag) { $0.write($1, format: format) }
        write(spec.retry, format: format)
        write(spec.timeoutMs)
        write(spec.concurrency.rawValue)
        write(spec.misfire.rawValue)
        write(spec.startingDeadlineMs)
        writeArray(spec.labels) { $0.write($1) }
        write(spec.retentionMs)
        if format.hasHistoryLimit { writeOptional(spec.historyLimit) { $0.write($1) } }
        if format.hasPlacement { write(spec.placement) }
        if format == .notifyRules { writeArray(spec.notify) { $0.write($1) } }
    }
    mutating func write(_ rule: NotificationRule) {
        writeArray(rule.on) { $0.write($1.rawValue) }
        writeOptional(rule.webhook) { $0.write($1) }
        writeArray(rule.email) { $0.write($1) }
    }
    mutating func write(_ stamp: IdempotencyStamp) {
        write(stamp.key)
        write(stamp.bodyDigest)
    }
}

extension BinaryReader {
    mutating func readKeyValue() throws(DecodeError) -> KeyValue {
        KeyValue(try readString(), try readString())
    }
    mutating func readEnum<E: RawRepresentable>(_ type: E.Type) throws(DecodeError) -> E where E.RawValue == UInt8 {
        let raw = try readByte()
        guard let value = E(rawValue: raw) else {
            throw DecodeError("unknown \(E.self) tag \(raw)", offset: offset - 1)
        }
        return value
    }
    mutating func readTaskSpec() throws(DecodeError) -> TaskSpec {
        let tag = try readByte()
        switch tag {
        case 0: return .noop
        case 1: return .sleep(milliseconds: try readInt64())
        case 2:
            let argv = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readString() }
            let env = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readKeyValue() }
            let wd = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readString() }
            return .shell(ShellTask(argv: argv, environment: env, workingDirectory: wd))
        case 3:
            let method = try readString()
            let url = try readString()
            let headers = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readKeyValue() }
            let body = try readBytes()
            return .http(HTTPTask(method: method, url: url, headers: headers, body: body))
        default:
            throw DecodeError("unknown task kind tag \(tag)", offset: offset - 1)
        }
    }
    mutating func readRetryPolicy(format: SpecFormat) throws(DecodeError) -> RetryPolicy {
        var policy = RetryPolicy(maxAttempts: try readInt(), initialBackoffMs: try readInt64(),
                                 multiplier: try readDouble(), maxBackoffMs: try readInt64(), jitter: try readBool())
        if format.hasLostCaps {
            policy.maxLostAttempts = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readInt() }
        }
        return policy
    }
    mutating func readDAGTaskSpec(format: SpecFormat) throws(DecodeError) -> DAGTaskSpec {
        var task = DAGTaskSpec(id: try readString(),
                               dependsOn: try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readString() },
                               task: try readTaskSpec(), retry: try readRetryPolicy(format: format), timeoutMs: try readInt64())
        if format.hasPlacement { task.placement = try readPlacement() }
        return task
    }
    mutating func readPlacement() throws(DecodeError) -> Placement {
        let constraints = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readKeyValue() }
        let maxPerNode = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readInt() }
        return Placement(constraints: constraints, maxPerNode: maxPerNode)
    }
    mutating func readDAGSpec(format: SpecFormat) throws(DecodeError) -> DAGSpec {
        let start = offset
        let name = try readString()
        let tasks = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readDAGTaskSpec(format: format) }
        let priority = try readInt()
        let labels = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readKeyValue() }
        do {
            return try DAGSpec.validated(name: name, tasks: tasks, priority: priority, labels: labels)
        } catch {
            throw DecodeError("invalid DAG: \(error)", offset: start)
        }
    }
    mutating func readJobSpec(format: SpecFormat) throws(DecodeError) -> JobSpec {
        let name = try readString()
        let schedule = try readOptional { (r: inout BinaryReader) throws(DecodeError) in
            CronSchedule(expression: try r.readString(), timezone: try r.readString())
        }
        let runAt = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readTimestamp() }
        let priority = try readInt()
        let task = try readTaskSpec()
        let dag = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readDAGSpec(format: format) }
        let retry = try readRetryPolicy(format: format)
        let timeoutMs = try readInt64()
        let concurrency = try readEnum(ConcurrencyPolicy.self)
        let misfire = try readEnum(MisfirePolicy.self)
        let deadline = try readInt64()
        let labels = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readKeyValue() }
        let retention = try readInt64()
        var historyLimit: Int?
        if format.hasHistoryLimit {
            historyLimit = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readInt() }
        }
        let placement = format.hasPlacement ? try readPlacement() : .none
        var notify: [NotificationRule] = []
        if format == .notifyRules {
            notify = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readNotificationRule() }
        }
        return JobSpec(name: name, schedule: schedule, runAt: runAt, priority: priority, task: task,
                       dag: dag, retry: retry, timeoutMs: timeoutMs, concurrency: concurrency,
                       misfire: misfire, startingDeadlineMs: deadline, labels: labels,
                       retentionMs: retention, historyLimit: historyLimit, placement: placement, notify: notify)
    }
    mutating func readNotificationRule() throws(DecodeError) -> NotificationRule {
        let on = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readEnum(NotificationTrigger.self) }
        let webhook = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readString() }
        let email = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readString() }
        return NotificationRule(on: on, webhook: webhook, email: email)
    }
    mutating func readIdempotencyStamp() throws(DecodeError) -> IdempotencyStamp {
        IdempotencyStamp(key: try readString(), bodyDigest: try readUInt64())
    }
}
