import Foundation

/// Reads the healed cluster's final state for the checker: each acknowledged job's status and
/// attempts, each DAG run, jobs under unresolved idempotency keys, and per-node digests.
struct FinalObserver: Sendable {
    let http: ChaosHTTP
    let ids: [String]
    let urls: [String: String]

    /// GETs `path` on the nodes in turn until one answers 200 or 404 (linearizable reads), for up to `budget`.
    private func get(_ path: String, budget: Duration = .seconds(15)) async -> HTTPOutcome? {
        let deadline = ContinuousClock.now + budget
        var round = 0
        while ContinuousClock.now < deadline {
            let id = ids[round % ids.count]
            round += 1
            let outcome = await http.send(.GET, "\(urls[id] ?? "")\(path)", timeout: .seconds(3))
            if let status = outcome.status, status == 200 || status == 404 { return outcome }
            if round % ids.count == 0 { try? await Task.sleep(for: .milliseconds(200)) }
        }
        return nil
    }

    /// A job's final state and attempts (`missing` on 404; `nil` when unreadable).
    func job(_ id: String) async -> JobObservation? {
        guard let status = await get("/api/job-status/\(id)") else { return nil }
        if status.status == 404 { return JobObservation(state: "missing", attempts: []) }
        guard let state = status.object?["state"] as? String else { return nil }
        guard let runs = await get("/api/jobs/\(id)/runs"), let items = runs.object?["items"] as? [[String: Any]] else { return nil }
        let attempts = items.map { item in (item["outcome"] as? String) ?? (item["state"] as? String) ?? "?" }
        return JobObservation(state: state, attempts: attempts)
    }

    /// Every attempt of job `id`, newest first as listed (`nil` when unreadable).
    func runs(_ id: String) async -> [RunObservation]? {
        guard let outcome = await get("/api/jobs/\(id)/runs"), outcome.status == 200,
              let items = outcome.object?["items"] as? [[String: Any]] else { return nil }
        return items.map { item in
            RunObservation(runID: item["run_id"] as? String ?? "?", attempt: item["attempt"] as? Int ?? 0,
                           outcome: item["outcome"] as? String, startedAt: Self.milliseconds(item["started_at"]),
                           finishedAt: Self.milliseconds(item["finished_at"]))
        }
    }

    /// A DAG run's final state (`missing` on 404; `nil` when unreadable).
    func dag(_ id: String) async -> DAGObservation? {
        guard let outcome = await get("/api/dags/\(id)") else { return nil }
        if outcome.status == 404 { return DAGObservation(state: "missing", tasks: []) }
        guard let object = outcome.object, let state = object["state"] as? String,
              let tasks = object["tasks"] as? [[String: Any]] else { return nil }
        return DAGObservation(state: state, tasks: tasks.map { task in
            DAGTaskObservation(id: task["id"] as? String ?? "?", state: task["state"] as? String ?? "?",
                               dependsOn: task["depends_on"] as? [String] ?? [], attempt: task["attempt"] as? Int ?? 0,
                               startedAt: Self.milliseconds(task["started_at"]), finishedAt: Self.milliseconds(task["finished_at"]))
        })
    }

    /// The ids of jobs labelled with `key` (`nil` when unreadable).
    func jobs(labelled key: String) async -> [String]? {
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        guard let outcome = await get("/api/jobs?label=chaos_key:\(encoded)&limit=100"),
              let items = outcome.object?["items"] as? [[String: Any]] else { return nil }
        return items.compactMap { $0["id"] as? String }
    }

    /// Samples every node's `/api/cluster/digest` until each node has reported an applied index
    /// that another node reported too, or `duration` passes: per node, digest by applied index.
    /// (A digest encodes the whole state: on a debug build with a few thousand jobs one takes
    /// most of a second, so a fixed short window may leave a node with no common index.)
    func digests(for duration: Duration) async -> [String: [UInt64: String]] {
        var seen: [String: [UInt64: String]] = [:]
        for id in ids { seen[id] = [:] }
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline {
            let indexes = seen.mapValues { Set($0.keys) }
            let everyNodeComparable = ids.allSatisfy { id in
                ids.contains { other in other != id && !(indexes[id] ?? []).isDisjoint(with: indexes[other] ?? []) }
            }
            if everyNodeComparable { break }
            for id in ids {
                let outcome = await http.send(.GET, "\(urls[id] ?? "")/api/cluster/digest", timeout: .seconds(2))
                if let object = outcome.object, let index = Self.unsigned(object["applied_index"]),
                   let digest = object["digest"] as? String {
                    seen[id, default: [:]][index] = digest
                }
            }
            try? await Task.sleep(for: .milliseconds(150))
        }
        return seen
    }

    /// A JSON number as `UInt64` (JSONSerialization may give `Int` or `NSNumber`).
    static func unsigned(_ value: Any?) -> UInt64? {
        if let number = value as? Int, number >= 0 { return UInt64(number) }
        if let number = value as? NSNumber, number.int64Value >= 0 { return number.uint64Value }
        return nil
    }

    /// RFC 3339 with or without milliseconds, as milliseconds since the epoch.
    static func milliseconds(_ value: Any?) -> Int64? {
        guard let text = value as? String else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
    }
}
