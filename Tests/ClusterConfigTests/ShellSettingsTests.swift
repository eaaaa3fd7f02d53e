import Testing

@testable import ClusterConfig

@Suite("Config: shell_allow, workdir_root, run_as")
struct ShellSettingsTests {
    @Test("the keys parse; workdir_root resolves like the other paths")
    func parses() throws {
        let text = replaceOrAppend("""
            [executor]
            allow_shell = true
            shell_allow = ["/usr/bin/*", "/opt/jobs/run-*"]
            workdir_root = "jobs/{id}"
            run_as = "quorum-task"
            """, in: validConfig)
        let config = try ConfigLoader.parse(text, file: "c.toml")
        #expect(config.executor.shellAllow == ["/usr/bin/*", "/opt/jobs/run-*"])
        #expect(config.executor.workdirRoot == "jobs/{id}")
        #expect(config.executor.runAs == "quorum-task")
        #expect(configError(text) == nil)
        let node = try NodeRuntimeConfig.resolve(config, id: "n2", file: "c.toml", environment: [:], workingDirectory: "/srv/q")
        #expect(node.workdirRoot == "/srv/q/jobs/n2")
        #expect(ClusterConfig.Executor().shellAllow.isEmpty)
        #expect(ClusterConfig.Executor().workdirRoot == nil && ClusterConfig.Executor().runAs == nil)
    }

    @Test(
        "bad shell settings fail naming the key and what to write",
        arguments: [
            ("[executor]\nallow_shell = true", "executor.shell_allow",
             "is empty while executor.allow_shell = true: list the programs shell tasks may run, e.g. shell_allow = [\"/usr/bin/*\""),
            ("[executor]\nallow_shell = true\nshell_allow = []", "executor.shell_allow", "is empty while executor.allow_shell = true"),
            ("[executor]\nallow_shell = true\nshell_allow = [\"/usr/bin/*\", \"bin/*\"]", "executor.shell_allow[1]", "is not absolute"),
            ("[executor]\nallow_shell = true\nshell_allow = [\"/opt/jobs/\"]", "executor.shell_allow[0]", "e.g. \"/opt/jobs/*\""),
            ("[executor]\nshell_allow = \"/usr/bin/*\"", "executor.shell_allow", "expected"),
            ("[executor]\nworkdir_root = \"\"", "executor.workdir_root", "is empty"),
            ("[executor]\nrun_as = \"\"", "executor.run_as", "is not a user name"),
            ("[executor]\nrun_as = \"a:b\"", "executor.run_as", "is not a user name"),
        ] as [(String, String, String)])
    func broken(section: String, key: String, reason: String) throws {
        let error = try #require(configError(replaceOrAppend(section, in: validConfig)), "expected an error for \(section)")
        #expect(error.key == key)
        #expect(error.reason.contains(reason), "\(error.reason)")
    }

    @Test("shell_allow without allow_shell is accepted (it waits for allow_shell)")
    func listWithoutShell() {
        #expect(configError(replaceOrAppend("[executor]\nshell_allow = [\"/usr/bin/*\"]", in: validConfig)) == nil)
    }
}
