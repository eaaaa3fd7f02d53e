import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// One event as a test client read it off `GET /api/events`.
struct StreamedEvent: Sendable, Equatable {
    var id: UInt64?
    var type: String
    var jobID: String?
    var state: String?
    var outcome: String?
    var runID: String?
    var dagID: String?
    var node: String?
    var attempt: Int?
}

/// Follows one node's `GET /api/events` in the background and keeps what arrives.
final class EventStreamReader: Sendable {
    /// What arrived, shared with the reading task.
    final class Seen: Sendable {
        let state = Mutex((events: [StreamedEvent](), opened: false, resets: 0, ended: false))
        func withLock<T>(_ body: (inout (events: [StreamedEvent], opened: Bool, resets: Int, ended: Bool)) -> T) -> T { state.withLock { body(&$0) } }
    }
    private let seen = Seen()
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    private static let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)

    var events: [StreamedEvent] { seen.withLock { $0.events } }
    var opened: Bool { seen.withLock { $0.opened } }
    var resets: Int { seen.withLock { $0.resets } }
    /// Whether the stream has ended (the server closed it or the reader stopped).
    var ended: Bool { seen.withLock { $0.ended } }

    /// Starts reading `baseURL`'s stream, after `lastEventID` if given.
    init(baseURL: String, lastEventID: UInt64? = nil) {
        let started = Task { [seen] in
            var request = HTTPClientRequest(url: baseURL + "/api/events")
            if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
            guard let response = try? await Self.client.execute(request, timeout: .seconds(600)) else { return }
            var pending = ""
            do {
                for try await chunk in response.body {
                    pending += String(buffer: chunk)
                    while let end = pending.range(of: "\n\n") {
                        let block = String(pending[..<end.lowerBound])
                        pending = String(pending[end.upperBound...])
                        Self.take(block, into: seen)
                    }
                }
            } catch {
                // Cancelled or the node went away: keep what arrived.
            }
            seen.withLock { $0.ended = true }
        }
        task.withLock { $0 = started }
    }

    private static func take(_ block: String, into seen: Seen) {
        var id: UInt64?
        var type = ""
        var data: [String: Any] = [:]
        for line in block.split(separator: "\n") {
            if line.hasPrefix(":") { seen.withLock { $0.opened = true } }
            if line.hasPrefix("id: ") { id = UInt64(line.dropFirst(4)) }
            if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
            if line.hasPrefix("data: "),
               let object = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any] {
                data = object
            }
        }
        if type == "reset" { seen.withLock { $0.resets += 1; $0.opened = true } }
        guard !type.isEmpty, type != "reset" else { return }
        let event = StreamedEvent(id: id, type: type, jobID: data["job_id"] as? String, state: data["state"] as? String,
                                  outcome: data["outcome"] as? String, runID: data["run_id"] as? String,
                                  dagID: data["dag_id"] as? String, node: data["node"] as? String,
                                  attempt: data["attempt"] as? Int)
        seen.withLock { $0.events.append(event) }
    }

    /// Stops reading (the connection closes).
    func stop() { task.withLock { $0?.cancel() } }
}

extension RealClusterTests {
    @Suite("server-sent events on a 3-node cluster")
    struct EventStreamClusterTests {
        static func finished(_ job: String, in events: [StreamedEvent]) -> Bool {
            events.contains { $0.type == "run" && $0.jobID == job && $0.state == "succeeded" }
        }

        @Test("a job submitted on the leader shows as job and run events with the same ids on two followers; Last-Event-ID resumes on another node with no gap and no duplicate")
        func eventsOnFollowersAndResume() async throws {
            try await TestCluster.with(nodes: 3) { cluster in
                let (leader, _) = try await cluster.waitForLeader()
                let followers = cluster.others(than: leader)
                try #require(followers.count == 2)
                let first = EventStreamReader(baseURL: cluster.api(followers[0]).baseURL)
                let second = EventStreamReader(baseURL: cluster.api(followers[1]).baseURL)
                defer { first.stop(); second.stop() }
                try await eventually("both streams to open") { first.opened && second.opened ? true : nil }

                let job = try await cluster.submit(JobSubmission(name: "events-1", task: .shell(["/bin/sh", "-c", "echo one"])), to: leader)
                try await eventually("the job's run to succeed on both streams") {
                    Self.finished(job, in: first.events) && Self.finished(job, in: second.events) ? true : nil
                }
                let onFirst = first.events.filter { $0.jobID == job }
                let onSecond = second.events.filter { $0.jobID == job }
                #expect(onFirst.contains { $0.type == "job" } && onFirst.contains { $0.type == "run" })
                #expect(onFirst.allSatisfy { $0.id != nil })
                // Same events, same ids, same order on both nodes (each node's view may end at a different point).
                let common = min(onFirst.count, onSecond.count)
                #expect(Array(onFirst.prefix(common)) == Array(onSecond.prefix(common)))

                // Disconnect from the first follower mid-way, resume on the other one.
                let resumeAfter = try #require(onFirst.first?.id)
                first.stop()
                let next = try await cluster.submit(JobSubmission(name: "events-2", task: .shell(["/bin/sh", "-c", "echo two"])), to: leader)
                let resumed = EventStreamReader(baseURL: cluster.api(followers[1]).baseURL, lastEventID: resumeAfter)
                defer { resumed.stop() }
                try await eventually("the second job on the resumed stream and the reference") {
                    Self.finished(next, in: resumed.events) && Self.finished(next, in: second.events) ? true : nil
                }
                #expect(resumed.resets == 0)
                let resumedIDs = resumed.events.compactMap(\.id)
                let reference = second.events.compactMap(\.id).filter { $0 > resumeAfter }
                #expect(Set(resumedIDs).count == resumedIDs.count, "a duplicate after resuming")
                let overlap = min(resumedIDs.count, reference.count)
                #expect(overlap > 0)
                #expect(Array(resumedIDs.prefix(overlap)) == Array(reference.prefix(overlap)), "a gap or a reordering after resuming")
                #expect(resumedIDs.first.map { $0 > resumeAfter } == true)
            }
        }
    }
}

extension RealClusterTests.EventStreamClusterTests {
    @Test("quorum watch prints each event once and, when its node is killed, goes on from the next --server")
    func watchFollowsAcrossNodes() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let (leader, _) = try await cluster.waitForLeader()
            let followers = cluster.others(than: leader)
            try #require(followers.count == 2)
            let servers = followers.map { cluster.api($0).baseURL }.joined(separator: ",")
            let out = cluster.directory + "/watch.out"
            let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
            let pid = try QuorumBinary.spawn(
                ["/bin/sh", "-c", #"exec "$0" watch --server "$1" --types job,run --connect-timeout 0.5 >"$2" 2>"$2.err" </dev/null"#,
                 QuorumBinary.path, servers, out], environment: env)
            defer {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                _ = waitpid(pid, &status, 0)
            }
            func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
            func succeeded(_ job: String) -> Bool {
                text(out).split(separator: "\n").contains { $0.contains("job=\(job)") && $0.contains("state=succeeded") && $0.contains(" run ") }
            }
            try await eventually("watch to connect") { text(out + ".err").contains("following") ? true : nil }

            let first = try await cluster.submit(JobSubmission(name: "watch-1", task: .shell(["/bin/sh", "-c", "echo one"])), to: leader)
            try await eventually("the first job's success in the watch output") { succeeded(first) ? true : nil }
            try await cluster.kill(followers[0], SIGKILL)
            let second = try await cluster.submit(JobSubmission(name: "watch-2", task: .shell(["/bin/sh", "-c", "echo two"])), to: leader)
            try await eventually("the second job's success after the failover", timeout: .seconds(90)) { succeeded(second) ? true : nil }

            #expect(text(out + ".err").contains("lost \(cluster.api(followers[0]).baseURL)"))
            let ids = text(out).split(separator: "\n").compactMap { line -> UInt64? in
                guard let open = line.range(of: "(id ") else { return nil }
                return UInt64(line[open.upperBound...].dropLast())
            }
            #expect(!ids.isEmpty)
            #expect(Set(ids).count == ids.count, "an event printed twice:\n\(text(out))")
            #expect(ids == ids.sorted(), "events out of log order:\n\(text(out))")
        }
    }
}

extension RealClusterTests.EventStreamClusterTests {
    @Test("SIGTERM a node with an open event stream: the stream ends and the node exits 0 promptly")
    func openStreamDoesNotHoldShutdown() async throws {
        try await TestCluster.with(nodes: 3) { cluster in
            let (leader, _) = try await cluster.waitForLeader()
            let follower = try #require(cluster.others(than: leader).first)
            let reader = EventStreamReader(baseURL: cluster.api(follower).baseURL)
            defer { reader.stop() }
            try await eventually("the stream to open") { reader.opened ? true : nil }
            try await cluster.kill(follower, SIGTERM)
            try await eventually("the stream to end") { reader.ended ? true : nil }
            do {
                try await eventually("node \(follower) exited", timeout: .seconds(20)) { cluster.isRunning(follower) ? nil : true }
            } catch {
                Issue.record("\(error)\n\(cluster.logTails(lines: 12))")
                return
            }
            #expect(cluster.exitStatus(follower) == 0)
        }
    }
}
