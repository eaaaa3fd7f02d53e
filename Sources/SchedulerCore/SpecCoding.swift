import BinaryCoding
// Binary encoding of specs, shared by the command codec and the snapshot.

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
    mutating func write(_ retry: RetryPolicy) {
        write(retry.maxAttempts)
        write(retry.initialBackoffMs)
        write(retry.multiplier)
        write(retry.maxBackoffMs)
        write(retry.jitter)
    }
    mutating func write(_ task: DAGTaskSpec) {
        write(task.id)
        writeArray(task.dependsOn) { $0.write($1) }
        write(task.task)
        write(task.retry)
        write(task.timeoutMs)
    }
    mutating func write(_ dag: DAGSpec) {
        write(dag.name)
        writeArray(dag.tasks) { $0.write($1) }
        write(dag.priority)
        writeArray(dag.labels) { $0.write($1) }
    }
    mutating func write(_ spec: JobSpec) {
        write(spec.name)
        writeOptional(spec.schedule) {
            $0.write($1.expression)
            $0.write($1.timezone)
        }
        writeOptional(spec.runAt) { $0.write($1) }
        write(spec.priority)
        write(spec.task)
        writeOptional(spec.dag) { $0.write($1) }
        write(spec.retry)
        write(spec.timeoutMs)
        write(spec.concurrency.rawValue)
        write(spec.misfire.rawValue)
        write(spec.startingDeadlineMs)
        writeArray(spec.labels) { $0.write($1) }
        write(spec.retentionMs)
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
    mutating func readRetryPolicy() throws(DecodeError) -> RetryPolicy {
        RetryPolicy(maxAttempts: try readInt(), initialBackoffMs: try readInt64(),
                    multiplier: try readDouble(), maxBackoffMs: try readInt64(), jitter: try readBool())
    }
    mutating func readDAGTaskSpec() throws(DecodeError) -> DAGTaskSpec {
        DAGTaskSpec(id: try readString(),
                    dependsOn: try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readString() },
                    task: try readTaskSpec(), retry: try readRetryPolicy(), timeoutMs: try readInt64())
    }
    mutating func readDAGSpec() throws(DecodeError) -> DAGSpec {
        let start = offset
        let name = try readString()
        let tasks = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readDAGTaskSpec() }
        let priority = try readInt()
        let labels = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readKeyValue() }
        do {
            return try DAGSpec.validated(name: name, tasks: tasks, priority: priority, labels: labels)
        } catch {
            throw DecodeError("invalid DAG: \(error)", offset: start)
        }
    }
    mutating func readJobSpec() throws(DecodeError) -> JobSpec {
        let name = try readString()
        let schedule = try readOptional { (r: inout BinaryReader) throws(DecodeError) in
            CronSchedule(expression: try r.readString(), timezone: try r.readString())
        }
        let runAt = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readTimestamp() }
        let priority = try readInt()
        let task = try readTaskSpec()
        let dag = try readOptional { (r: inout BinaryReader) throws(DecodeError) in try r.readDAGSpec() }
        let retry = try readRetryPolicy()
        let timeoutMs = try readInt64()
        let concurrency = try readEnum(ConcurrencyPolicy.self)
        let misfire = try readEnum(MisfirePolicy.self)
        let deadline = try readInt64()
        let labels = try readArray { (r: inout BinaryReader) throws(DecodeError) in try r.readKeyValue() }
        let retention = try readInt64()
        return JobSpec(name: name, schedule: schedule, runAt: runAt, priority: priority, task: task,
                       dag: dag, retry: retry, timeoutMs: timeoutMs, concurrency: concurrency,
                       misfire: misfire, startingDeadlineMs: deadline, labels: labels,
                       retentionMs: retention)
    }
    mutating func readIdempotencyStamp() throws(DecodeError) -> IdempotencyStamp {
        IdempotencyStamp(key: try readString(), bodyDigest: try readUInt64())
    }
}
