import Foundation

/// The node's data directory: created (with missing parents) at mode 0700, so the WAL,
/// snapshots (job `env` and `headers` secrets) and journals are the node user's alone — a shell
/// task running as `[executor] run_as` cannot list or read them.
enum DataDirectory {
    /// The mode the directory is created with, and tightened to.
    static let mode: Int16 = 0o700

    /// Creates `path` if needed. An existing directory that others may enter is tightened to
    /// ``mode`` only when it is plainly Quorum's (empty, or holding `wal/`): `data_dir = "/tmp"`
    /// or a shared directory must not be chmod-ed under its other users. Returns a warning for
    /// one left as it is.
    static func create(_ path: String) throws -> String? {
        let files = FileManager.default
        guard files.fileExists(atPath: path) else {
            try files.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
            return nil
        }
        let current = (try files.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.int16Value ?? 0
        guard current & 0o077 != 0 else { return nil }
        let entries = try files.contentsOfDirectory(atPath: path)
        guard entries.isEmpty || entries.contains("wal") else {
            return "the data directory \(path) is mode \(String(current, radix: 8)) and holds other files: others on this machine "
                + "(and shell tasks run as [executor] run_as) may read the WAL and its secrets; give Quorum a directory of its own "
                + "or chmod 700 it"
        }
        try files.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return nil
    }
}
