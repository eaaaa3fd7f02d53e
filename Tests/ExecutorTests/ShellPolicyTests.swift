@testable import Executor
import Foundation
import Testing

/// A temp dir of programs and symlinks, canonical (realpath) paths throughout:
///
///     allowed/tool            an executable
///     allowed/in-link  ->     allowed/tool
///     allowed/out-link ->     other/evil
///     allowed/sub/deep        an executable one level down
///     other/evil              an executable outside
///     alias            ->     allowed   (a symlinked directory)
private struct ProgramTree {
    let root: String

    init() throws {
        let made = try makeTemporaryDirectory()
        root = try #require(ShellPolicy.realPath(made.path))
        let files = FileManager.default
        for directory in ["allowed/sub", "other"] {
            try files.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        for program in ["allowed/tool", "allowed/sub/deep", "other/evil"] {
            try "#!/bin/sh\necho \(program)\n".write(toFile: "\(root)/\(program)", atomically: true, encoding: .utf8)
            try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(root)/\(program)")
        }
        try files.createSymbolicLink(atPath: "\(root)/allowed/in-link", withDestinationPath: "\(root)/allowed/tool")
        try files.createSymbolicLink(atPath: "\(root)/allowed/out-link", withDestinationPath: "\(root)/other/evil")
        try files.createSymbolicLink(atPath: "\(root)/alias", withDestinationPath: "allowed")
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

@Suite("shell policy: which programs shell tasks may run")
struct ShellPolicyTests {
    @Test("argv[0] and the patterns' directories are canonicalised: symlinks and '..' are judged by where they lead")
    func canonicalisation() throws {
        let tree = try ProgramTree()
        defer { tree.remove() }
        let root = tree.root
        // The pattern names the directory through a symlink; it still means allowed/.
        let policy = ShellPolicy(allowedExecutables: ["\(root)/alias/*"])
        #expect(policy.executable("\(root)/allowed/tool") == .success("\(root)/allowed/tool"))
        #expect(policy.executable("\(root)/alias/tool") == .success("\(root)/allowed/tool"))
        #expect(policy.executable("\(root)/allowed/in-link") == .success("\(root)/allowed/tool"))
        #expect(policy.executable("\(root)/other/../allowed/tool") == .success("\(root)/allowed/tool"))

        let outLink = try #require(policy.executable("\(root)/allowed/out-link").failure)
        #expect(outLink.reason.contains("(resolved to \(root)/other/evil) is not allowed by [executor] shell_allow (\(root)/alias/*)"))
        let dotDot = try #require(policy.executable("\(root)/allowed/../other/evil").failure)
        #expect(dotDot.reason.contains("resolved to \(root)/other/evil"))
        // `*` does not cross a '/' (FNM_PATHNAME).
        #expect(policy.executable("\(root)/allowed/sub/deep").failure != nil)
    }

    @Test("a pattern without wildcards allows the file it resolves to")
    func literalPattern() throws {
        let tree = try ProgramTree()
        defer { tree.remove() }
        let policy = ShellPolicy(allowedExecutables: ["\(tree.root)/alias/in-link"])
        #expect(policy.executable("\(tree.root)/allowed/tool") == .success("\(tree.root)/allowed/tool"))
        #expect(policy.executable("\(tree.root)/other/evil").failure != nil)
    }

    @Test("argv[0] must be absolute", arguments: ["tool", "./tool", "allowed/tool", "~/tool", ""])
    func notAbsolute(argv0: String) throws {
        let policy = ShellPolicy(allowedExecutables: ["/*", "/usr/bin/*"])
        let refusal = try #require(policy.executable(argv0).failure)
        #expect(refusal.reason.contains("is not an absolute path"))
    }

    @Test("a missing program is refused at exec; at submission it is judged lexically")
    func missingProgram() throws {
        let tree = try ProgramTree()
        defer { tree.remove() }
        let policy = ShellPolicy(allowedExecutables: ["\(tree.root)/allowed/*"])
        let missing = "\(tree.root)/allowed/not-here"
        #expect(policy.executable(missing).failure?.reason == "no such executable: \(missing) (or a directory on its path is not accessible)")
        #expect(policy.executable(missing, existence: .lexicalFallback) == .success(missing))
        #expect(policy.executable("\(tree.root)/allowed/../../x", existence: .lexicalFallback).failure != nil)
    }

    @Test("an empty list allows nothing")
    func emptyList() throws {
        let refusal = try #require(ShellPolicy(allowedExecutables: []).executable("/bin/echo").failure)
        #expect(refusal.reason.contains("shell_allow (it is empty)"))
    }

    @Test("on merged /usr, /bin/echo matches /usr/bin/* and /usr/bin/echo matches /bin/*")
    func mergedUsr() throws {
        guard ShellPolicy.realPath("/bin") == "/usr/bin" else {
            print("skipped: /bin is not a symlink to /usr/bin on this machine")
            return
        }
        let echo = try #require(ShellPolicy.realPath("/usr/bin/echo"))
        #expect(ShellPolicy(allowedExecutables: ["/usr/bin/*"]).executable("/bin/echo") == .success(echo))
        #expect(ShellPolicy(allowedExecutables: ["/bin/*"]).executable("/usr/bin/echo") == .success(echo))
    }

    @Test("the decision is pure given the resolver (a table instead of a disk)")
    func pureResolver() {
        let disk = ["/bin": "/usr/bin", "/bin/sh": "/usr/bin/dash", "/opt/jobs": "/srv/jobs", "/opt/jobs/run-a": "/srv/jobs/run-a",
                    "/opt/jobs/other": "/srv/jobs/other"]
        let policy = ShellPolicy(allowedExecutables: ["/bin/*", "/opt/jobs/run-*"])
        let resolve: ShellPolicy.Resolver = { disk[$0] }
        #expect(policy.executable("/bin/sh", resolve: resolve) == .success("/usr/bin/dash"))
        #expect(policy.executable("/opt/jobs/run-a", resolve: resolve) == .success("/srv/jobs/run-a"))
        #expect(policy.executable("/opt/jobs/other", resolve: resolve).failure != nil)
    }

    @Test("lexical normalisation drops '.', resolves '..' and never climbs above /")
    func lexical() {
        #expect(ShellPolicy.lexicallyNormalised("/a/./b/../c//d") == "/a/c/d")
        #expect(ShellPolicy.lexicallyNormalised("/../../etc/passwd") == "/etc/passwd")
        #expect(ShellPolicy.lexicallyNormalised("/") == "/")
    }
}

@Suite("shell policy: workdir_root")
struct WorkdirRootTests {
    @Test("without a workdir a task runs in the root; a workdir must resolve inside it")
    func insideTheRoot() throws {
        let tree = try ProgramTree()
        defer { tree.remove() }
        let root = tree.root
        try FileManager.default.createSymbolicLink(atPath: "\(root)/allowed/escape", withDestinationPath: "\(root)/other")
        let policy = ShellPolicy(allowedExecutables: ["/*"], workdirRoot: "\(root)/alias")
        #expect(policy.workingDirectory(nil) == .success("\(root)/allowed"))
        #expect(policy.workingDirectory("sub") == .success("\(root)/allowed/sub"))
        #expect(policy.workingDirectory("\(root)/allowed/sub") == .success("\(root)/allowed/sub"))
        #expect(policy.workingDirectory("\(root)/allowed") == .success("\(root)/allowed"))
        for outside in ["\(root)/allowed/escape", "\(root)/allowed/../other", "..", "/"] {
            let refusal = try #require(policy.workingDirectory(outside).failure, "\(outside)")
            #expect(refusal.reason.contains("is outside [executor] workdir_root \(root)/allowed"))
        }
        #expect(ShellPolicy(allowedExecutables: [], workdirRoot: nil).workingDirectory("/x") == .success("/x"))
        let gone = ShellPolicy(allowedExecutables: [], workdirRoot: "\(root)/no-such-root")
        #expect(gone.workingDirectory(nil).failure?.reason.contains("does not exist or is not accessible on this node") == true)
    }
}

extension Result {
    /// The error, if this is a failure.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
