import HTTPAPI
@testable import quorum
import SchedulerCore
import SchedulerPlanning
import Testing

/// The leader checks the shell tasks of every command it proposes with its own policy — a
/// follower with an outdated cluster file cannot get a refused program past it (issue #13).
@Suite("The leader's shell policy check")
struct LeaderShellAdmissionTests {
    /// Allows programs under /usr/bin only, and no working directory.
    struct UsrBinOnly: ShellCommandPolicy {
        func refusal(executable: String) -> String? {
            executable.hasPrefix("/usr/bin/") ? nil : "\(executable) is not allowed by [executor] shell_allow"
        }
        func refusal(workdir: String) -> String? { "working directories are not allowed here" }
    }

    func job(_ argv: [String], workdir: String? = nil) -> Command {
        .submitJob(SubmitJob(jobID: "j", spec: JobSpec(name: "j", task: .shell(ShellTask(argv: argv, workingDirectory: workdir))),
                             runID: "r"))
    }

    @Test("a refused program, a refused workdir and shell tasks turned off are 422s naming the field; the rest passes")
    func refusals() {
        let policy = UsrBinOnly()
        #expect(LeaderShellAdmission.check(job(["/usr/bin/env", "true"]), allowShell: true, policy: policy) == nil)
        let program = LeaderShellAdmission.check(job(["/opt/evil"]), allowShell: true, policy: policy)
        #expect(program?.field == "task.command[0]" && program?.batchIndex == nil)
        #expect(program?.message.contains("shell_allow") == true)
        let workdir = LeaderShellAdmission.check(job(["/usr/bin/env"], workdir: "/"), allowShell: true, policy: policy)
        #expect(workdir?.field == "task.workdir")
        let batch = LeaderShellAdmission.check(.batch([job(["/usr/bin/env"]), job(["/bin/sh"])]), allowShell: true, policy: policy)
        #expect(batch?.batchIndex == 1 && batch?.field == "task.command[0]")
        let off = LeaderShellAdmission.check(job(["/usr/bin/env"]), allowShell: false, policy: policy)
        #expect(off?.field == "task.kind" && off?.message.contains("allow_shell = false") == true)
        #expect(LeaderShellAdmission.check(.cancelJob("j"), allowShell: false, policy: policy) == nil)
    }
}
