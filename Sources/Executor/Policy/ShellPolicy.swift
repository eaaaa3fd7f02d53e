#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which programs shell tasks may run and in which directories: `[executor] shell_allow` and
/// `workdir_root` (docs/security.md, "What a shell task may run").
///
/// Decisions are made on canonical paths: `argv[0]` and a working directory are resolved with
/// `resolve` (realpath(3) in production), and so is the directory part of every pattern, so
/// `/bin/echo` matches `/usr/bin/*` on a merged-/usr system and `/usr/bin/../../tmp/x` or a
/// symlink out of an allowed directory matches nothing it should not. The executor decides again
/// right before it starts the program, on the file system as it is then, and runs the resolved
/// path: a symlink swapped after submission is judged by its new target.
///
/// The check itself is pure given `resolve`, so tests can pass a table instead of a disk.
public struct ShellPolicy: Sendable, Hashable {
    /// `shell_allow`: fnmatch(3) patterns with `FNM_PATHNAME` (`*` never crosses a `/`), as written.
    public var allowedExecutables: [String]
    /// `workdir_root`: every shell task runs inside this directory (its `workdir`, resolved, must
    /// be in it; a task without one runs in it). `nil`: no restriction.
    public var workdirRoot: String?

    /// A policy. Patterns must be absolute (the config validator checks); an empty list allows nothing.
    public init(allowedExecutables: [String], workdirRoot: String? = nil) {
        self.allowedExecutables = allowedExecutables
        self.workdirRoot = workdirRoot
    }

    /// How a path is canonicalised: the canonical absolute path, or `nil` if it cannot be
    /// resolved (missing, or a directory on the way is not searchable).
    public typealias Resolver = (String) -> String?

    /// When a path that does not exist is judged.
    public enum Existence: Sendable {
        /// At exec: a path that cannot be resolved is refused.
        case required
        /// At submission (on a node that may not be the one that runs it): a path that cannot be
        /// resolved here is judged by its lexically normalised form; the executor judges it again.
        case lexicalFallback
    }

    /// The canonical path of the program `argv0` names, or why it may not run.
    public func executable(_ argv0: String, existence: Existence = .required,
                           resolve: Resolver = ShellPolicy.realPath) -> Result<String, ShellPolicyRefusal> {
        guard argv0.hasPrefix("/") else {
            return .failure(ShellPolicyRefusal(
                "\(quoted(argv0)) is not an absolute path: with [executor] shell_allow set, argv[0] must name the program by its "
                + "absolute path, e.g. \"/usr/bin/\(argv0.split(separator: "/").last.map(String.init) ?? "PROGRAM")\""))
        }
        guard !argv0.utf8.contains(0) else { return .failure(ShellPolicyRefusal("\(quoted(argv0)) contains a NUL byte")) }
        let canonical: String
        if let resolved = resolve(argv0) {
            canonical = resolved
        } else if existence == .lexicalFallback {
            canonical = Self.lexicallyNormalised(argv0)
        } else {
            return .failure(ShellPolicyRefusal("no such executable: \(argv0) (or a directory on its path is not accessible)"))
        }
        let patterns = allowedExecutables.map { canonicalPattern($0, resolve: resolve) }
        guard patterns.contains(where: { Self.matches(pattern: $0, path: canonical) }) else {
            let shown = canonical == argv0 ? quoted(argv0) : "\(quoted(argv0)) (resolved to \(canonical))"
            let list = allowedExecutables.isEmpty ? "it is empty" : allowedExecutables.joined(separator: ", ")
            return .failure(ShellPolicyRefusal(
                "\(shown) is not allowed by [executor] shell_allow (\(list)): run an allowed program, or ask the operator to add a pattern"))
        }
        return .success(canonical)
    }

    /// The directory a task runs in: its `workdir` (resolved; relative ones from the root) or,
    /// without one, the root; `workdir` as given when there is no root.
    public func workingDirectory(_ workdir: String?, existence: Existence = .required,
                                 resolve: Resolver = ShellPolicy.realPath) -> Result<String?, ShellPolicyRefusal> {
        guard let root = workdirRoot else { return .success(workdir) }
        guard let canonicalRoot = resolve(root) else {
            if existence == .lexicalFallback { return .success(workdir) }
            return .failure(ShellPolicyRefusal(
                "[executor] workdir_root \(quoted(root)) does not exist or is not accessible on this node: create it, or fix the key"))
        }
        guard let workdir else { return .success(canonicalRoot) }
        let candidate = workdir.hasPrefix("/") ? workdir : canonicalRoot + "/" + workdir
        let canonical: String
        if let resolved = resolve(candidate) {
            canonical = resolved
        } else if existence == .lexicalFallback {
            canonical = Self.lexicallyNormalised(candidate)
        } else {
            return .failure(ShellPolicyRefusal("cannot use working directory \(quoted(workdir)): it does not exist or is not accessible"))
        }
        guard Self.isInside(canonical, root: canonicalRoot) else {
            return .failure(ShellPolicyRefusal(
                "\(quoted(workdir)) (resolved to \(canonical)) is outside [executor] workdir_root \(canonicalRoot): "
                + "give a directory inside it, or none to run in the root"))
        }
        return .success(canonical)
    }

    // MARK: - Pieces (internal for tests)

    /// The pattern with its directory part canonicalised when that part has no wildcard, and
    /// the whole pattern when it has none at all (so allowing `/usr/bin/python3` allows the
    /// file it links to). A part that does not resolve is normalised lexically.
    func canonicalPattern(_ pattern: String, resolve: Resolver) -> String {
        if !Self.hasWildcard(pattern), let whole = resolve(pattern) { return whole }
        guard let slash = pattern.lastIndex(of: "/") else { return pattern }
        let directory = String(pattern[..<slash])
        let name = pattern[pattern.index(after: slash)...]
        guard !Self.hasWildcard(directory) else { return pattern }
        let canonicalDirectory = directory.isEmpty ? "/" : (resolve(directory) ?? Self.lexicallyNormalised(directory))
        return (canonicalDirectory == "/" ? "" : canonicalDirectory) + "/" + name
    }

    static func hasWildcard(_ text: String) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" || $0 == "\\" }
    }

    /// fnmatch(3) with `FNM_PATHNAME`.
    static func matches(pattern: String, path: String) -> Bool {
        fnmatch(pattern, path, FNM_PATHNAME) == 0
    }

    static func isInside(_ path: String, root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    /// `/a/./b/../c//d` → `/a/c/d`, without touching the disk (`..` above `/` stays at `/`).
    static func lexicallyNormalised(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// realpath(3): the canonical path, or `nil`.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// Why a shell task may not run: a sentence that says what to change.
public struct ShellPolicyRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// The sentence.
    public let reason: String
    /// A refusal.
    public init(_ reason: String) { self.reason = reason }
    /// The reason.
    public var description: String { reason }
}
