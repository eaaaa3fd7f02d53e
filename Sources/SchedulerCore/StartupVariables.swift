/// Environment variables a task may not set: they make the dynamic loader, the C library, a
/// shell or an interpreter run code of the setter's choosing before — or instead of — the
/// program the task names (`LD_PRELOAD`, `BASH_ENV`, `PERL5OPT`, …), so an allowlist of
/// executables would mean nothing if they were allowed. Refused at submission (422) and again by
/// the executor. Pure: the API and the executor share it.
public enum StartupVariables {
    /// Exact names refused.
    public static let names: Set<String> = [
        "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS",
        "GLIBC_TUNABLES", "GCONV_PATH", "LOCPATH", "HOSTALIASES", "RESOLV_HOST_CONF",
        "PERL5OPT", "PERL5LIB", "PERLLIB", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONHOME", "RUBYOPT", "RUBYLIB",
        "NODE_OPTIONS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
    ]
    /// Prefixes refused (`LD_PRELOAD`, `LD_LIBRARY_PATH`, `DYLD_INSERT_LIBRARIES`, exported bash functions).
    public static let prefixes = ["LD_", "DYLD_", "BASH_FUNC_"]

    /// Whether a task may not set `name`.
    public static func isForbidden(_ name: String) -> Bool {
        names.contains(name) || prefixes.contains { name.hasPrefix($0) }
    }

    /// Why `name` is refused, for error messages.
    public static func reason(_ name: String) -> String {
        "environment variable \(name) is not allowed: it makes the loader, a shell or an interpreter run code before the task's "
            + "program (LD_*, DYLD_*, BASH_ENV, ENV, BASH_FUNC_*, PERL5OPT, NODE_OPTIONS, … — docs/security.md)"
    }
}
