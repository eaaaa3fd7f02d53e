import Foundation
import HTTPAPI

/// How the client commands show the API's resources as text.
enum ResourceViews {
    // MARK: Jobs

    /// The header block of one job and a table of its recent runs.
    static func job(_ job: JobResource) -> String {
        var block = KeyValueBlock()
        block.append("id", job.id)
        block.append("name", job.name)
        block.append("type", job.type)
        block.append("version", job.version.map(String.init))
        block.append("state", "\(job.state) (\(job.status))")
        if let schedule = job.schedule { block.append("schedule", "\(schedule) (\(job.timezone ?? "UTC"))") }
        if let dag = job.dag { block.append("dag", dag) }
        block.append("run at", job.runAt?.description)
        if job.type == "cron" { block.append("next run", job.nextRunAt?.description ?? "none") }
        block.append("priority", String(job.priority))
        block.append("task", task(job.task))
        block.append("retry", retry(job.retry))
        block.append("timeout", "\(number(job.timeoutSeconds)) s")
        block.append("concurrency", job.concurrency)
        block.append("misfire", job.misfire)
        if let missed = job.missedFires, missed > 0 { block.append("missed fires", String(missed)) }
        block.append("labels", job.labels.isEmpty ? nil : labels(job.labels))
        block.append("constraints", job.constraints.map { labels($0) })
        block.append("max/node", job.maxPerNode.map(String.init))
        block.append("waiting", job.reason)
        block.append("attempt", String(job.attempt))
        block.append("tries", Self.tries(job.tries, lost: job.lostAttempts))
        block.append("created", job.createdAt.description)
        block.append("updated", job.updatedAt.description)
        var runs = job.runs
        if runs.isEmpty, let last = job.lastRun { runs = [last] }
        guard !runs.isEmpty else { return block.render() }
        return block.render() + "\n\n" + attempts(runs)
    }

    /// `RUN ATTEMPT STATE OUTCOME EXECUTOR SCHEDULED STARTED FINISHED EXIT ERROR`.
    static func attempts(_ runs: [AttemptResource]) -> String {
        var table = TextTable(["RUN", "ATTEMPT", "STATE", "OUTCOME", "EXECUTOR", "SCHEDULED", "STARTED", "FINISHED", "EXIT", "ERROR"])
        for run in runs {
            table.append([
                run.runId, String(run.attempt), run.state, run.outcome, run.executor, run.scheduledAt.description,
                run.startedAt?.description, run.finishedAt?.description,
                run.exitCode.map(String.init) ?? run.httpStatus.map { "http \($0)" }, run.error,
            ])
        }
        return table.render()
    }

    /// `ID NAME TYPE STATE STATUS PRIORITY ATTEMPT NEXT UPDATED`; NEXT is a cron job's next
    /// fire or a once job's due time.
    static func jobList(_ jobs: [JobResource]) -> String {
        var table = TextTable(["ID", "NAME", "TYPE", "STATE", "STATUS", "PRIORITY", "ATTEMPT", "NEXT", "UPDATED"])
        for job in jobs {
            let next = job.type == "cron" ? job.nextRunAt?.description : job.runAt?.description
            table.append([job.id, job.name, job.type, job.state, job.status, String(job.priority), String(job.attempt),
                          next, job.updatedAt.description])
        }
        return table.render()
    }

    /// `shell /usr/bin/env echo hi`, `http POST https://…`, `sleep 0.5 s`, `noop`.
    static func task(_ task: TaskBody) -> String {
        switch task {
        case .noop: "noop"
        case .sleep(let seconds): "sleep \(number(seconds.doubleValue)) s"
        case .shell(let command, _, let workdir):
            "shell \(command.map(quoted).joined(separator: " "))" + (workdir.map { " (in \($0))" } ?? "")
        case .http(let method, let url, _, _): "http \(method ?? "GET") \(url)"
        }
    }

    /// `3 attempts, backoff 1000 ms ×2 up to 300000 ms, jitter`.
    static func retry(_ retry: RetryBody) -> String {
        var parts: [String] = []
        if let attempts = retry.maxAttempts { parts.append(attempts == 1 ? "1 attempt" : "\(attempts) attempts") }
        if let initial = retry.initialBackoffMs {
            var backoff = "backoff \(initial) ms"
            if let multiplier = retry.multiplier { backoff += " ×\(number(multiplier))" }
            if let cap = retry.maxBackoffMs { backoff += " up to \(cap) ms" }
            parts.append(backoff)
        }
        if let jitter = retry.jitter { parts.append(jitter ? "jitter" : "no jitter") }
        return parts.joined(separator: ", ")
    }

    /// `team=data,tier=1`, sorted by key.
    static func labels(_ labels: [String: String]) -> String {
        labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    // MARK: DAGs

    /// `ID NAME STATE TASKS JOB CREATED FINISHED`; TASKS counts succeeded of all.
    static func dagList(_ runs: [DAGRunResource]) -> String {
        var table = TextTable(["ID", "NAME", "STATE", "TASKS", "JOB", "CREATED", "FINISHED"])
        for run in runs {
            let done = run.tasks.filter { $0.state == "succeeded" }.count
            table.append([run.id, run.name, run.state, "\(done)/\(run.tasks.count) succeeded", run.jobId,
                          run.createdAt.description, run.finishedAt?.description])
        }
        return table.render()
    }

    /// The header block of one DAG run and a table of its tasks.
    static func dagRun(_ run: DAGRunResource) -> String {
        var block = KeyValueBlock()
        block.append("id", run.id)
        block.append("name", run.name)
        block.append("state", run.state)
        block.append("job", run.jobId)
        block.append("created", run.createdAt.description)
        block.append("finished", run.finishedAt?.description ?? "-")
        var table = TextTable(["TASK", "STATE", "DEPENDS_ON", "ATTEMPT", "TRIES", "STARTED", "FINISHED", "RUN"])
        for task in run.tasks {
            table.append([task.id, task.state, task.dependsOn.joined(separator: ","), String(task.attempt),
                          Self.tries(task.tries, lost: task.lostAttempts), task.startedAt?.description,
                          task.finishedAt?.description, task.runId])
        }
        // Why a queued task waits for a node, one line each under the table (a column would be
        // empty for nearly every task, and the text is long).
        let waiting = run.tasks.compactMap { task in task.reason.map { "waiting: \(task.id): \($0)" } }
        return block.render() + "\n\n" + table.render() + (waiting.isEmpty ? "" : "\n" + waiting.joined(separator: "\n"))
    }

    // MARK: DLQ and cluster

    /// `RUN JOB DAG TASK ATTEMPTS TRIES DEAD_AT ERROR`.
    static func deadLetters(_ items: [DeadLetterResource]) -> String {
        var table = TextTable(["RUN", "JOB", "DAG", "TASK", "ATTEMPTS", "TRIES", "DEAD_AT", "ERROR"])
        for item in items {
            table.append([item.runId, item.jobId, item.dagId, item.taskId, String(item.attempts),
                          Self.tries(item.tries, lost: item.lostAttempts), item.deadAt.description, item.error])
        }
        return table.render()
    }

    /// `quorum notifications`: one row per notification, its target the URL or the recipients.
    static func notifications(_ items: [NotificationResource]) -> String {
        var table = TextTable(["EVENT", "TYPE", "STATE", "TO", "JOB", "RUN", "TRIES", "NEXT", "ERROR"])
        for item in items {
            let to = item.webhook ?? item.email?.joined(separator: ",")
            table.append([item.eventId + "/" + String(item.destination), item.type, item.state, to, item.jobId, item.runId,
                          String(item.tries), item.nextAttemptAt?.description, item.lastError])
        }
        return table.render()
    }

    /// `2 (+1 lost)`: tries against `max_attempts`, and the lost attempts that did not count;
    /// nil (shown `-`) when the server did not say (a job from before command format 4).
    static func tries(_ tries: Int?, lost: Int?) -> String? {
        guard let tries else { return nil }
        guard let lost, lost > 0 else { return String(tries) }
        return "\(tries) (+\(lost) lost)"
    }

    /// `leader n1  term 3  commit 42  cluster 6f02…` (the answering node's cluster id, when its
    /// build shows one) and `NODE ROLE API RAFT REACHABLE MATCH SLOTS BUSY`.
    static func cluster(_ cluster: ClusterResource) -> String {
        let summary = "leader \(cluster.leader ?? "none")  term \(cluster.term)  commit \(cluster.commitIndex)"
            + (cluster.clusterID.map { "  cluster \($0)" } ?? "")
        var table = TextTable(["NODE", "ROLE", "API", "RAFT", "REACHABLE", "MATCH", "SLOTS", "BUSY", "DRAINING", "LABELS"])
        for node in cluster.nodes {
            table.append([node.id, node.role, node.api, node.raft, node.reachable ? "yes" : "no", String(node.matchIndex),
                          String(node.slots), String(node.busy), node.draining == true ? "yes" : "no",
                          labels(node.labels ?? [:])])
        }
        var notes: [String] = []
        let formats = cluster.nodes.compactMap { node in node.formatVersion.map { (node.id, $0) } }
        if Set(formats.map(\.1)).count > 1 {
            notes.append("mixed builds (an upgrade in progress): "
                + formats.map { "\($0.0) format \($0.1)" }.joined(separator: ", "))
        }
        for node in cluster.nodes {
            guard let check = node.replicaCheck, check.state == "diverged" else { continue }
            notes.append("replica check: \(node.id) DIVERGED at index \(check.mismatchIndex.map(String.init) ?? "?") (leader "
                + "\(check.leaderDigest ?? "?"), \(node.id) \(check.memberDigest ?? "?")): no work is dispatched to it; wipe and "
                + "rejoin it, then `quorum cluster clear-divergence \(node.id)`")
        }
        return summary + "\n\n" + table.render() + notes.map { "\n" + $0 }.joined()
    }

    // MARK: Helpers

    /// `2` for 2.0, `0.5` for 0.5.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// An argv word, quoted when it holds spaces or quotes.
    static func quoted(_ word: String) -> String {
        word.isEmpty || word.contains(where: { $0 == " " || $0 == "\"" || $0 == "'" }) ? "'\(word.replacingOccurrences(of: "'", with: "'\\''"))'" : word
    }
}
