import Foundation
import Synchronization

/// A steady stream of shell-job submissions from a few concurrent clients, spread over the
/// nodes that are up. Each job appends its own marker to a ledger file when it runs, so the
/// test can count real executions. A 201 (or, for a retry with the same `Idempotency-Key`, a
/// 200) is an acknowledgement.
final class SubmissionStream: Sendable {
    /// One acknowledged submission.
    struct Ack: Sendable {
        var marker: String
        var jobID: String
        var node: String
        var at: ContinuousClock.Instant
    }

    private struct State {
        var acks: [Ack] = []
        var refused: [Int: Int] = [:]   // status → count (0: no answer)
        var down: Set<String> = []
        var stopped = false
        var replayed = 0
    }

    /// The ledger file every job appends its marker to.
    let ledger: String
    private let cluster: TestCluster
    private let state = Mutex(State())

    init(cluster: TestCluster) {
        self.cluster = cluster
        self.ledger = "\(cluster.directory)/ledger"
    }

    /// The job for `marker`: `echo "$MARKER" >> ledger`.
    func job(marker: String) -> JobSubmission {
        JobSubmission(name: marker, task: .shell(["/bin/sh", "-c", "echo \"$MARKER\" >> \"$LEDGER\""],
                                                 env: ["MARKER": marker, "LEDGER": ledger]))
    }

    /// Stops sending to `node` (about to be killed) or starts again.
    func markDown(_ node: String, _ isDown: Bool = true) {
        state.withLock { if isDown { $0.down.insert(node) } else { $0.down.remove(node) } }
    }

    /// Acknowledged submissions so far.
    var acks: [Ack] { state.withLock { $0.acks } }

    /// Non-201 outcomes so far, by status (0: no answer).
    var refused: [Int: Int] { state.withLock { $0.refused } }

    /// Acknowledgements that were a retry answered with the first try's job (200).
    var replayed: Int { state.withLock { $0.replayed } }

    /// Ends the stream (the running `run` returns after its in-flight requests).
    func stop() { state.withLock { $0.stopped = true } }

    /// Runs `clients` concurrent submitters until ``stop()``.
    func run(clients: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask { await self.submitter(client) }
            }
        }
    }

    /// Submits marker after marker. A marker's request carries `Idempotency-Key: <marker>` and
    /// is retried (on the next node up) after a 503 or no answer until it is acknowledged: a
    /// retry of a write whose first try was applied must return that job (200), not a second one.
    private func submitter(_ client: Int) async {
        var sequence = 0
        var tries = 0
        var marker = "c\(client)-1"
        while true {
            let (stopped, down) = state.withLock { ($0.stopped, $0.down) }
            if stopped { return }
            let up = cluster.ids.filter { !down.contains($0) }
            guard !up.isEmpty else { return }
            tries += 1
            let node = up[(tries + client) % up.count]
            do {
                let response = try await cluster.api(node).post(
                    "/api/jobs", json: job(marker: marker), headers: ["Idempotency-Key": marker], timeout: .seconds(10))
                if response.status == 201 || response.status == 200 {
                    let id = try response.decode(Created.self).id
                    state.withLock {
                        $0.acks.append(Ack(marker: marker, jobID: id, node: node, at: .now))
                        if response.status == 200 { $0.replayed += 1 }
                    }
                    sequence += 1
                    marker = "c\(client)-\(sequence + 1)"
                } else {
                    state.withLock { $0.refused[response.status, default: 0] += 1 }
                }
            } catch {
                state.withLock { $0.refused[0, default: 0] += 1 }
                // A node that does not answer: do not spin on it.
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// How many times each marker appears in the ledger.
    func ledgerCounts() throws -> [String: Int] {
        guard FileManager.default.fileExists(atPath: ledger) else { return [:] }
        let text = try String(contentsOfFile: ledger, encoding: .utf8)
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") { counts[String(line), default: 0] += 1 }
        return counts
    }
}
