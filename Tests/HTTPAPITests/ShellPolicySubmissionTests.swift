import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Testing

/// A policy from a table: allowed programs and directories, and the sentence given for the rest.
private struct TablePolicy: ShellCommandPolicy {
    let programs: Set<String>
    let directories: Set<String>

    func refusal(executable: String) -> String? {
        guard executable.hasPrefix("/") else { return "\"\(executable)\" is not an absolute path" }
        return programs.contains(executable) ? nil : "\"\(executable)\" is not allowed by [executor] shell_allow (/usr/bin/*)"
    }

    func refusal(workdir: String) -> String? {
        directories.contains(workdir) ? nil : "\"\(workdir)\" is outside [executor] workdir_root /srv/jobs"
    }
}

@Suite("Shell tasks outside the node's shell policy are 422 at submission")
struct ShellPolicySubmissionTests {
    private let policy = TablePolicy(programs: ["/usr/bin/echo"], directories: ["/srv/jobs/a"])

    private func shell(_ command: String, workdir: String? = nil) -> String {
        #"{"kind":"shell","command":[\#(command)]\#(workdir.map { #","workdir":"\#($0)""# } ?? "")}"#
    }

    @Test("a job, a batch job and a DAG task name the command[0] field and say why; nothing is created")
    func refusedExecutable() async throws {
        try await withAPI(makeLocalService(), shellPolicy: policy) { client in
            let job = try await client.send(.post, "/api/jobs", json: #"{"name":"x","task":\#(shell(#""/bin/sh","-c","id""#))}"#)
            #expect(job.status == .unprocessableContent)
            let error = try job.decoded(ErrorEnvelope.self).error
            #expect(error.field == "task.command[0]")
            #expect(error.message.contains("\"/bin/sh\" is not allowed by [executor] shell_allow"))

            let relative = try await client.send(.post, "/api/jobs", json: #"{"name":"x","task":\#(shell(#""echo""#))}"#)
            #expect(try relative.decoded(ErrorEnvelope.self).error.message.contains("is not an absolute path"))

            let batch = try await client.send(.post, "/api/jobs/batch",
                                              json: #"{"jobs":[{"name":"a","task":\#(shell(#""/usr/bin/echo""#))},{"name":"b","task":\#(shell(#""/tmp/x""#))}]}"#)
            #expect(batch.status == .unprocessableContent)
            #expect(try batch.decoded(ErrorEnvelope.self).error.field == "jobs[1].task.command[0]")

            let dag = try await client.send(.post, "/api/dags", json: #"""
                {"name":"d","tasks":[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d","task":\#(shell(#""/tmp/x""#))}]}
                """#)
            #expect(dag.status == .unprocessableContent)
            #expect(try dag.decoded(ErrorEnvelope.self).error.field == "tasks[3].task.command[0]")
            #expect(try await client.send(.get, "/api/jobs").decoded(ListPage<JobResource>.self).items.isEmpty)
        }
    }

    @Test("a workdir outside workdir_root is 422 on task.workdir; an allowed program and directory pass")
    func workdirAndAllowed() async throws {
        try await withAPI(makeLocalService(), shellPolicy: policy) { client in
            let outside = try await client.send(.post, "/api/jobs", json: #"{"name":"x","task":\#(shell(#""/usr/bin/echo""#, workdir: "/etc"))}"#)
            #expect(outside.status == .unprocessableContent)
            let error = try outside.decoded(ErrorEnvelope.self).error
            #expect(error.field == "task.workdir")
            #expect(error.message.contains("is outside [executor] workdir_root"))
            let allowed = try await client.send(.post, "/api/jobs",
                                                json: #"{"name":"y","task":\#(shell(#""/usr/bin/echo","hi""#, workdir: "/srv/jobs/a"))}"#)
            #expect(allowed.status == .created)
        }
    }
}
