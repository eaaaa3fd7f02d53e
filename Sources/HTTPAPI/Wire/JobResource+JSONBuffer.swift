import NIOCore

// The hot responses' hand-written encoders: the 201 of `POST /api/jobs` and `GET/PATCH
// /api/jobs/{id}` write a `JobResource` per request, and Foundation's `JSONEncoder` (boxing every
// value, generic metadata lookups, a dictionary per object) was about 15 % of the leader's CPU on
// single submissions (docs/benchmarks.md, 2026-11-30). Each writer emits the keys its type's
// `encode(to:)` emits, with the same null/absent rules; `JobResourceJSONTests` compares both
// over seeded random jobs.

extension JobResource {
    /// Whether ``writeJSON(into:)`` writes this job. No for a job carrying `notifications` (only
    /// `GET /api/jobs/{id}` of a job with rules: rare, so it keeps the `Codable` path) and for a
    /// non-finite number, which `JSONEncoder` refuses with an error that the caller should keep.
    var canWriteJSON: Bool {
        guard notifications == nil, timeoutSeconds.isFinite else { return false }
        if case .sleep(.fractional(let seconds)) = task, !seconds.isFinite { return false }
        if let multiplier = retry.multiplier, !multiplier.isFinite { return false }
        return true
    }

    /// The job as the API writes it, through the hand-written encoder; `nil` when that one does
    /// not write this job (``canWriteJSON``: use `JSONEncoder`). Used for the hot responses and by
    /// `JSONBenchmark`.
    @inline(never)  // a frame of its own in profiles (docs/benchmarks.md)
    public func handWrittenJSON() -> ByteBuffer? {
        guard canWriteJSON else { return nil }
        var writer = JSONBufferWriter(buffer: ByteBuffer())
        writer.buffer.reserveCapacity(1024)
        writeJSON(into: &writer)
        return writer.buffer
    }

    /// Appends the job as `JSONEncoder` would write it (see ``canWriteJSON``).
    func writeJSON(into writer: inout JSONBufferWriter) {
        writer.beginObject()
        writer.key("id"); writer.string(id)
        writer.key("name"); writer.string(name)
        writer.key("type"); writer.string(type)
        writer.key("state"); writer.string(state)
        writer.key("status"); writer.string(status)
        if let version { writer.key("version"); writer.integer(version) }
        if let schedule { writer.key("schedule"); writer.string(schedule) }
        if let timezone { writer.key("timezone"); writer.string(timezone) }
        if let runAt { writer.key("run_at"); writer.timestamp(runAt.time) }
        if type == "cron" {
            writer.key("next_run_at"); writer.timestamp(orNull: nextRunAt?.time)
            writer.key("last_run")
            if let lastRun { lastRun.writeJSON(into: &writer) } else { writer.null() }
        }
        writer.key("priority"); writer.integer(priority)
        writer.key("task"); task.writeJSON(into: &writer)
        writer.key("retry"); retry.writeJSON(into: &writer)
        writer.key("timeout_seconds"); writer.double(timeoutSeconds)
        if let concurrency { writer.key("concurrency"); writer.string(concurrency) }
        if let misfire { writer.key("misfire"); writer.string(misfire) }
        if let missedFires { writer.key("missed_fires"); writer.integer(missedFires) }
        writer.key("labels"); writer.stringMap(labels)
        writer.key("attempt"); writer.integer(attempt)
        writer.key("tries"); writer.integer(orNull: tries)
        writer.key("lost_attempts"); writer.integer(orNull: lostAttempts)
        writer.key("created_at"); writer.timestamp(createdAt.time)
        writer.key("updated_at"); writer.timestamp(updatedAt.time)
        if let dag { writer.key("dag"); writer.string(dag) }
        writer.key("runs")
        writer.beginArray()
        for run in runs { run.writeJSON(into: &writer) }
        writer.endArray()
        if let retentionSeconds { writer.key("retention_seconds"); writer.integer(retentionSeconds) }
        if let historyLimit { writer.key("history_limit"); writer.integer(historyLimit) }
        if let constraints { writer.key("constraints"); writer.stringMap(constraints) }
        if let maxPerNode { writer.key("max_per_node"); writer.integer(maxPerNode) }
        if let reason { writer.key("reason"); writer.string(reason) }
        if let notify {
            writer.key("notify")
            writer.beginArray()
            for rule in notify { rule.writeJSON(into: &writer) }
            writer.endArray()
        }
        writer.endObject()
    }
}

extension AttemptResource {
    /// Every key, `null` for an absent value (``ExplicitNull``).
    func writeJSON(into writer: inout JSONBufferWriter) {
        writer.beginObject()
        writer.key("run_id"); writer.string(runId)
        writer.key("attempt"); writer.integer(attempt)
        writer.key("executor"); writer.string(orNull: executor)
        writer.key("state"); writer.string(state)
        writer.key("outcome"); writer.string(orNull: outcome)
        writer.key("scheduled_at"); writer.timestamp(scheduledAt.time)
        writer.key("started_at"); writer.timestamp(orNull: startedAt?.time)
        writer.key("finished_at"); writer.timestamp(orNull: finishedAt?.time)
        writer.key("exit_code"); writer.integer(orNull: exitCode)
        writer.key("http_status"); writer.integer(orNull: httpStatus)
        writer.key("duration_ms"); writer.integer(orNull: durationMs)
        writer.key("output_tail"); writer.string(orNull: outputTail)
        writer.key("error"); writer.string(orNull: error)
        writer.key("dag_id"); writer.string(orNull: dagId)
        writer.key("tries"); writer.integer(orNull: tries)
        writer.key("lost_attempts"); writer.integer(orNull: lostAttempts)
        writer.endObject()
    }
}

extension TaskBody {
    /// `kind` first, then the kind's fields; absent optionals are left out.
    func writeJSON(into writer: inout JSONBufferWriter) {
        writer.beginObject()
        switch self {
        case .noop:
            writer.key("kind"); writer.string("noop")
        case .sleep(let seconds):
            writer.key("kind"); writer.string("sleep")
            writer.key("seconds"); seconds.writeJSON(into: &writer)
        case .shell(let command, let env, let workdir):
            writer.key("kind"); writer.string("shell")
            writer.key("command"); writer.stringArray(command)
            if let env { writer.key("env"); writer.stringMap(env) }
            if let workdir { writer.key("workdir"); writer.string(workdir) }
        case .http(let method, let url, let headers, let body):
            writer.key("kind"); writer.string("http")
            if let method { writer.key("method"); writer.string(method) }
            writer.key("url"); writer.string(url)
            if let headers { writer.key("headers"); writer.stringMap(headers) }
            if let body { writer.key("body"); writer.string(body) }
        }
        writer.endObject()
    }
}

extension WireNumber {
    func writeJSON(into writer: inout JSONBufferWriter) {
        switch self {
        case .integer(let value): writer.integer(value)
        case .fractional(let value): writer.double(value)
        }
    }
}

extension RetryBody {
    /// The present fields (the synthesized encoder leaves nil ones out).
    func writeJSON(into writer: inout JSONBufferWriter) {
        writer.beginObject()
        if let maxAttempts { writer.key("max_attempts"); writer.integer(maxAttempts) }
        if let initialBackoffMs { writer.key("initial_backoff_ms"); writer.integer(initialBackoffMs) }
        if let multiplier { writer.key("multiplier"); writer.double(multiplier) }
        if let maxBackoffMs { writer.key("max_backoff_ms"); writer.integer(maxBackoffMs) }
        if let jitter { writer.key("jitter"); writer.bool(jitter) }
        if let maxLostAttempts { writer.key("max_lost_attempts"); writer.integer(maxLostAttempts) }
        writer.endObject()
    }
}

extension NotifyRuleBody {
    /// The present fields (the synthesized encoder leaves nil ones out).
    func writeJSON(into writer: inout JSONBufferWriter) {
        writer.beginObject()
        if let on { writer.key("on"); writer.stringArray(on) }
        if let webhook { writer.key("webhook"); writer.string(webhook) }
        if let email { writer.key("email"); writer.stringArray(email) }
        writer.endObject()
    }
}
