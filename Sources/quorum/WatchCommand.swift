import ArgumentParser
import Foundation
import QuorumClient

/// `quorum watch`: follows `GET /api/events` in the terminal, one line per event, reconnecting
/// with `Last-Event-ID` across the `--server` list (no event missed or repeated).
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow the cluster's events (GET /api/events), one line each, until interrupted.",
        discussion: """
            Reconnects to the next --server when a node goes away, resuming after the last event \
            seen. A line 'reset' means the node could not resume there: list again (quorum jobs) \
            if you need what happened in between.
            """)

    @OptionGroup var client: ClientOptions

    @Option(help: "Only this job's events.")
    var job: String?

    @Option(help: "Only this DAG run's events.")
    var dag: String?

    @Option(help: ArgumentHelp("Event types, comma-separated: job, run, dag, leader, node.", valueName: "TYPES"))
    var types: String?

    @Option(help: ArgumentHelp("Only events of jobs or DAGs with this label (repeatable).", valueName: "KEY:VALUE"))
    var label: [String] = []

    @Option(name: .customLong("last-event-id"), help: "Start right after this event id instead of now.")
    var lastEventID: String?

    func run() async throws {
        let kinds = (types ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let json = client.json
        try await client.withClient { api in
            let follower = EventFollower(servers: api.transport.servers, httpClient: api.transport.httpClient, token: api.transport.token,
                                         request: EventFollower.request(types: kinds, job: job, dag: dag, labels: label))
            do {
                try await follower.follow(lastEventID: lastEventID, onEvent: { event in
                    Self.emit(json ? event.data : EventLine.render(event))
                }, onNotice: { notice in
                    switch notice {
                    case .connected(let server): StandardError.write("following \(server)")
                    case .lost(let server, let reason): StandardError.write("lost \(server): \(reason); trying the next server")
                    case .reset(let server): Self.emit(json ? "{\"type\":\"reset\"}" : "reset (\(server) cannot resume there: list again)")
                    }
                })
            } catch is CancellationError {
                return
            }
        }
    }

    /// Writes `line` to stdout at once (not buffered), so a pipe sees each event as it comes.
    static func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// One event as a terminal line: time, type, then the fields that apply.
enum EventLine {
    struct Data: Decodable {
        var type: String?
        var at: String?
        var jobID: String?
        var runID: String?
        var dagID: String?
        var attempt: Int?
        var state: String?
        var outcome: String?
        var node: String?

        enum CodingKeys: String, CodingKey {
            case type, at, attempt, state, outcome, node
            case jobID = "job_id", runID = "run_id", dagID = "dag_id"
        }
    }

    /// `2026-12-01T09:00:00.123Z run    job=j… run=r… attempt=1 state=running  (id 12000001)`.
    static func render(_ event: ServerSentEvent) -> String {
        guard let data = try? JSONDecoder().decode(Data.self, from: Foundation.Data(event.data.utf8)) else {
            return "\(event.event) \(event.data)"
        }
        var parts = [data.at ?? "-", event.event.padding(toLength: 6, withPad: " ", startingAt: 0)]
        if let job = data.jobID { parts.append("job=\(job)") }
        if let node = data.node { parts.append("node=\(node)") }
        if let dag = data.dagID { parts.append("dag=\(dag)") }
        if let run = data.runID { parts.append("run=\(run)") }
        if let attempt = data.attempt { parts.append("attempt=\(attempt)") }
        if let state = data.state { parts.append("state=\(state)") }
        if let outcome = data.outcome { parts.append("outcome=\(outcome)") }
        if let id = event.id { parts.append("(id \(id))") }
        return parts.joined(separator: " ")
    }
}
