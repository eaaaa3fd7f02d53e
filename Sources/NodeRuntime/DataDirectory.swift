import Foundation

/// The node's data directory: created (with missing parents) and kept at mode 0700, so the WAL,
/// snapshots (job `env` and `headers` secrets) and journals are the node user's alone — a shell
/// task running as `[executor] run_as` cannot list or read them.
enum DataDirectory {
    /// The mode the directory is given, also when it already exists with a looser one.
    static let mode: Int16 = 0o700

    /// Creates `path` if needed and sets its mode to ``mode``.
    static func create(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: mode])
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }
}
